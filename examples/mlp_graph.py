"""Draw the source notes' MLP in every view: forward, backward, architecture, with dtypes.

The network is 784-256-128-64-32-10 with BatchNorm1d and LeakyReLU after each hidden
Linear, trained with cross-entropy. One training-sized batch is pushed through it, the
loss is backpropagated (keeping the graph), and each view is written to
outputs/mlp_graph/ as .dot, .svg and .png (only .dot when Graphviz's `dot` is missing).

    python examples/mlp_graph.py           # all views, DOT + SVG + PNG
    python examples/mlp_graph.py --smoke   # small batch, DOT + SVG only (for tests/CI)
"""
import argparse
import shutil
from pathlib import Path

import numpy as np

import autograd as ag
import nn
import viz
from autograd import Tensor

SIZES = (784, 256, 128, 64, 32, 10)
NEGATIVE_SLOPE = 0.01
BATCH = 64
OUT_DIR = Path("outputs/mlp_graph")
VIEWS = {
    "forward": {},                                             # every op, grouped by layer
    "forward_lr": {"rankdir": "LR"},
    "backward": {"view": "backward"},                          # gradient flow, shapes, norms
    "architecture": {"collapse": 1},                           # one box per layer
    "dtypes_and_grads": {"show_dtypes": True, "show_grads": True, "cluster_modules": False},
}


def build_mlp(sizes=SIZES, negative_slope=NEGATIVE_SLOPE):
    """Linear -> BatchNorm1d -> LeakyReLU for each hidden layer, then a Linear to the logits."""
    layers = []
    for fan_in, fan_out in zip(sizes[:-2], sizes[1:-1]):
        layers += [nn.Linear(fan_in, fan_out), nn.BatchNorm1d(fan_out),
                   nn.LeakyReLU(negative_slope)]
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    return nn.Sequential(*layers)


def mlp_loss(batch=BATCH, seed=0):
    """The MLP's cross-entropy loss on one random batch, backpropagated with the graph kept."""
    ag.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = build_mlp()
    images = Tensor(rng.standard_normal((batch, SIZES[0])).astype(np.float32), name="images")
    labels = rng.integers(0, SIZES[-1], batch)
    loss = nn.CrossEntropyLoss()(model(images), labels)
    loss.backward(retain_graph=True)   # keep the graph: the backward view draws it
    return loss, model


def main(smoke=False, out_dir=OUT_DIR):
    """Write every view; returns the paths written."""
    loss, model = mlp_loss(batch=8 if smoke else BATCH)
    formats = [".dot"]
    if shutil.which("dot"):
        formats += [".svg"] if smoke else [".svg", ".png"]
    else:
        print("Graphviz's 'dot' is not installed: writing .dot files only "
              "(apt-get install graphviz / brew install graphviz to render them)")
    written = []
    for name, options in VIEWS.items():
        graph = viz.draw_graph(loss, model=model, **options)
        for suffix in formats:
            written.append(viz.save(graph, Path(out_dir) / f"mlp_{name}{suffix}"))
    for path in written:
        print(path)
    return written


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="small batch, fewer formats")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder")
    arguments = parser.parse_args()
    main(smoke=arguments.smoke, out_dir=arguments.out)
