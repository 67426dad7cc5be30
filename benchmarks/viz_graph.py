"""How fast viz draws graphs.

Run by hand:  python benchmarks/viz_graph.py [--repeats 5] [--ops 10000]

1. DOT generation for a 10,000-op graph (a chain of ``(y * w).tanh()``): the walk, the
   labels and the DOT text, every node drawn (``max_nodes=None``; target < 1 s), and
   with the default node limit (the drawing keeps the nodes nearest the output).
2. The source notes' MLP (784-256-128-64-32-10, BatchNorm1d, LeakyReLU, cross-entropy):
   DOT generation, then full rendering to SVG and PNG with Graphviz's ``dot``, for the
   op-level graph and the collapsed architecture view.
Medians over repeats.
"""
import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import autograd as ag
import viz
from autograd import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))


def median_seconds(fn, repeats):
    fn()  # warm up
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def long_chain(ops):
    """A graph of exactly ``ops`` recorded ops (alternating multiply and tanh)."""
    x = Tensor(np.ones((4, 4), np.float32), requires_grad=True)
    w = Tensor(np.full((4, 4), 0.5, np.float32), requires_grad=True)
    y = x
    for _ in range(ops // 2):
        y = (y * w).tanh()
    return y, {"x": x, "w": w}


def bench_large(ops, repeats):
    y, params = long_chain(ops)
    full = median_seconds(lambda: viz.draw_graph(y, params=params, max_nodes=None).source,
                          repeats)
    limited = median_seconds(lambda: viz.draw_graph(y, params=params).source, repeats)
    print(f"DOT for a {ops:,}-op graph, every node drawn:      {full * 1e3:8.1f} ms "
          f"(target < 1000 ms)")
    print(f"DOT for a {ops:,}-op graph, default max_nodes:     {limited * 1e3:8.1f} ms")
    return full


def bench_mlp(repeats):
    try:
        from mlp_graph import mlp_loss
    except (ImportError, AttributeError) as err:
        print(f"MLP: skipped, nn is not complete yet ({err})")
        return
    loss, model = mlp_loss(batch=64)
    print(f"MLP graph: {len(list(_ops(loss)))} ops, "
          f"{sum(p.size for p in model.parameters()):,} parameters")
    for name, options in (("op-level", {}), ("architecture (collapse=1)", {"collapse": 1})):
        dot_time = median_seconds(lambda: viz.draw_graph(loss, model=model, **options).source,
                                  repeats)
        print(f"MLP {name:26s} DOT: {dot_time * 1e3:7.1f} ms", end="")
        if shutil.which("dot") is None:
            print("  (no Graphviz 'dot': rendering skipped)")
            continue
        with tempfile.TemporaryDirectory() as folder:
            for suffix in (".svg", ".png"):
                path = Path(folder) / f"mlp{suffix}"
                seconds = median_seconds(
                    lambda: viz.save(viz.draw_graph(loss, model=model, **options), path), repeats)
                print(f"  draw+render {suffix}: {seconds * 1e3:7.1f} ms", end="")
        print()


def _ops(output):
    from autograd.extend import topological_order
    return topological_order([output])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--ops", type=int, default=10_000)
    args = parser.parse_args()
    ag.manual_seed(0)
    bench_large(args.ops, args.repeats)
    bench_mlp(args.repeats)


if __name__ == "__main__":
    main()
