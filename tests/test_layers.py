"""The architecture as tests: autograd is layered without import cycles, its surface is
discoverable, backward stays readable, and nn/viz go through public doors only."""
import ast
import pathlib
import re

import pytest

import autograd
from autograd import stubs
from autograd.op import REGISTRY
from autograd.tensor import Tensor

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "autograd"


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _module_level_imports(path):
    """(module imported, line) for each import at module level (not inside a def/class)."""
    tree = ast.parse(path.read_text())
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rsplit(".", 1)[0]
            target = (base + ("." + node.module if node.module else "")) if node.level else node.module
            if node.module:
                found.append((target, node.lineno))
            for alias in node.names:  # ``from . import ops`` imports the submodule ops
                found.append((f"{target}.{alias.name}", node.lineno))
    return found


def _internal_graph():
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        for target, _ in _module_level_imports(path):
            if target in modules and target != name:
                graph[name].add(target)
    return graph


def test_autograd_has_no_module_level_import_cycle():
    graph = _internal_graph()
    state, path = {}, []

    def visit(start):
        stack = [(start, iter(sorted(graph[start])))]
        state[start] = "open"
        path.append(start)
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = "done"
                path.pop()
                stack.pop()
            elif state.get(child) == "open":
                cycle = path[path.index(child):] + [child]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            elif child not in state:
                state[child] = "open"
                path.append(child)
                stack.append((child, iter(sorted(graph[child]))))

    for module in sorted(graph):
        if module not in state:
            visit(module)


def test_autograd_imports_sit_at_the_top_of_each_file():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        if "E402" in text:
            offenders.append(f"{path.name}: noqa E402")
        body = ast.parse(text).body
        seen_code = False
        for index, node in enumerate(body):
            is_import = isinstance(node, (ast.Import, ast.ImportFrom))
            is_docstring = (index == 0 and isinstance(node, ast.Expr)
                            and isinstance(node.value, ast.Constant))
            if is_import and seen_code:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            elif not is_import and not is_docstring:
                seen_code = True
    assert not offenders, offenders


def test_the_ground_floor_imports_nothing_above_it():
    graph = _internal_graph()
    assert graph["autograd.tensor"] <= {"autograd.dtypes", "autograd.versions"}
    for ground in ("autograd.dtypes", "autograd.grad_mode", "autograd.versions"):
        assert graph[ground] == set(), (ground, graph[ground])


def test_stubs_are_in_sync_with_the_registry():
    for filename, render in stubs.STUBS.items():
        on_disk = (PACKAGE / filename).read_text()
        assert on_disk == render(), f"{filename} is out of date: run python -m autograd.stubs"


def test_every_public_op_and_method_is_in_the_stubs():
    init_stub = (PACKAGE / "__init__.pyi").read_text()
    tensor_stub = (PACKAGE / "tensor.pyi").read_text()
    for name, entry in stubs._own_entries().items():
        if entry.public:
            for public_name in (name,) + entry.aliases:
                assert f"def {public_name}(" in init_stub, public_name
                assert getattr(autograd, public_name) is entry.function
        for method in entry.methods:
            assert f"    def {method}(" in tensor_stub, method
            assert getattr(Tensor, method) is entry.function
    for dunder in ("__add__", "__radd__", "__mul__", "__matmul__", "__getitem__",
                   "__setitem__", "__iadd__", "__array_ufunc__", "backward", "register_hook"):
        assert f"    def {dunder}(" in tensor_stub, dunder


def test_helper_ops_stay_out_of_the_namespace():
    assert not REGISTRY["prod_others"].public
    assert not hasattr(autograd, "prod_others")


def test_no_function_in_backward_is_longer_than_40_lines():
    tree = ast.parse((PACKAGE / "backward.py").read_text())
    long = [(node.name, node.end_lineno - node.lineno + 1) for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and node.end_lineno - node.lineno + 1 > 40]
    assert not long, long


@pytest.mark.parametrize("package", ["nn", "viz", "examples", "benchmarks"])
def test_layers_above_use_only_public_autograd_names(package):
    engine_internals = r"autograd\.(op|tensor|grad_mode|inplace|backward|versions|hooks|anomaly|numpy_dispatch)\b"
    private = re.compile(r"\.(_op|_inputs|_requires_grad|_counter|_node|_constant)\b"
                         r"|from autograd[\w.]* import [^\n]*\b_\w+|" + engine_internals)
    offenders = []
    for path in (ROOT / package).rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if private.search(line) and not line.lstrip().startswith("#"):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
