"""Define a new differentiable op with autograd.Function, property-test it, draw it.

The op is log(cosh(x)), the smooth robust loss (quadratic near 0, linear far away).
Written naively it overflows: cosh(400) is inf in float64. The stable form
|x| + log1p(exp(-2|x|)) - log 2 never does. Its derivative is tanh(x), written with
autograd ops so the op is twice differentiable (hessians, gradgradcheck work).

Hypothesis draws arrays of many shapes and values; ``gradcheck`` and ``gradgradcheck``
compare the backward with finite differences, exactly as for built-in ops. Outputs go
to outputs/custom_op/: a report, and the graph of a small loss (DOT always, SVG when
Graphviz's `dot` is installed; skipped with a message when viz/graphviz is missing).

    python examples/custom_op.py           # 200 examples per property
    python examples/custom_op.py --smoke   # 10 examples, for tests/CI
"""
import argparse
import shutil
from pathlib import Path

import numpy as np
from hypothesis import given, settings

import autograd as ag
import autograd.testing.strategies as strategies
from autograd import Tensor
from autograd.testing import gradcheck, gradgradcheck

OUT_DIR = Path("outputs/custom_op")
EXAMPLES, SMOKE_EXAMPLES = 200, 10


class LogCosh(ag.Function):
    """log(cosh(x)), elementwise, without overflow."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        magnitude = np.abs(x)
        return magnitude + np.log1p(np.exp(-2 * magnitude)) - np.log(2.0)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ag.tanh(x)       # d/dx log cosh x = tanh x


def check_properties(examples):
    """Property tests: gradients vs finite differences, and values vs the naive formula."""
    checks = settings(max_examples=examples, deadline=None, derandomize=True)

    @checks
    @given(strategies.arrays(low=-4.0, high=4.0))
    def gradients_match_finite_differences(x):
        assert gradcheck(LogCosh.apply, x)
        assert gradgradcheck(LogCosh.apply, x)

    @checks
    @given(strategies.arrays(low=-700.0, high=700.0))
    def values_are_finite_and_exact(x):
        out = LogCosh.apply(Tensor(x, requires_grad=True))
        assert np.all(np.isfinite(out.data))
        small = np.abs(x) < 20          # where the naive formula is still accurate
        np.testing.assert_allclose(out.data[small], np.log(np.cosh(x[small])), atol=1e-12)

    gradients_match_finite_differences()
    values_are_finite_and_exact()
    return 2 * examples


def draw(out_dir):
    """Draw the graph of a small regression loss built on the op; says what was written."""
    try:
        import viz
        prediction = Tensor(np.linspace(-2, 2, 5), requires_grad=True, name="prediction")
        target = Tensor(np.zeros(5), name="target")
        loss = LogCosh.apply(prediction - target).mean()
        graph = viz.draw_graph(loss, title="mean(LogCosh(prediction - target))")
        written = [viz.save(graph, out_dir / "graph.dot")]
    except ImportError as err:
        return f"not drawn: {err} (needs this repo's viz package and `pip install graphviz`)"
    if shutil.which("dot") is None:
        return f"{written[0]} (graph.svg not rendered: Graphviz's `dot` is not installed)"
    written.append(viz.save(graph, out_dir / "graph.svg"))
    return ", ".join(str(path) for path in written)


def main(smoke=False, out_dir=OUT_DIR):
    """Run the property tests and draw the graph; returns the report lines."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    checked = check_properties(SMOKE_EXAMPLES if smoke else EXAMPLES)
    hessian = ag.functional.hessian(lambda x: LogCosh.apply(x).sum())(np.array([0.0, 1.0]))
    report = [f"property examples passed: {checked}",
              f"hessian at [0, 1]: {np.diag(hessian.data).round(6).tolist()} "
              f"(1 - tanh^2: {(1 - np.tanh([0.0, 1.0]) ** 2).round(6).tolist()})",
              f"graph: {draw(out_dir)}"]
    (out_dir / "report.txt").write_text("\n".join(report) + "\n")
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="few examples, fast")
    parser.add_argument("--out", default=str(OUT_DIR), help="output folder")
    arguments = parser.parse_args()
    print("\n".join(main(arguments.smoke, arguments.out)))
