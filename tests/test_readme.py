"""The README's op definition runs as printed."""
import contextlib
import io
import pathlib
import re

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def _block_after(heading):
    text = README.read_text()
    section = text[text.index(heading):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_op_definition_in_the_readme_runs_and_passes_its_checks():
    code = _block_after("## How an op is defined")
    printed = io.StringIO()
    namespace = {"__name__": "readme_example"}
    from autograd import Tensor
    from autograd.op import REGISTRY
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(code, str(README), "exec"), namespace)
    finally:
        REGISTRY.pop("log_cosh", None)  # keep the registry (and stubs) as other tests expect
        if "log_cosh" in vars(Tensor):
            delattr(Tensor, "log_cosh")
    assert printed.getvalue().split() == ["True", "True"]
