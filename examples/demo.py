"""Main demo: the source notes' MLP on Fashion-MNIST, trained with Adam, and its graph.

    python examples/demo.py            # 3 epochs, about a minute on 2 cores
    python examples/demo.py --smoke    # a few batches, seconds (run by the tests)

Network: 784-256-128-64-32-10, BatchNorm1d before LeakyReLU(0.01), He initialisation,
softmax cross-entropy. Writes the architecture diagram, the full computation graph and
the loss curves into outputs/demo/.
"""
import argparse
import time
from pathlib import Path

import numpy as np

import autograd as ag
import nn
import viz
from nn.datasets import fashion_mnist
from nn.training import fit, evaluate

EPOCHS = 3
BATCH_SIZE = 100
LEARNING_RATE = 1e-3
HIDDEN = (256, 128, 64, 32)
OUT_DIR = Path("outputs/demo")


def build_mlp(inputs=784, hidden=HIDDEN, classes=10):
    """Affine -> BatchNorm -> LeakyReLU blocks, He-initialised, then a linear classifier."""
    layers, width = [], inputs
    for size in hidden:
        linear = nn.Linear(width, size)
        nn.init.kaiming_normal_(linear.weight, a=0.01, nonlinearity="leaky_relu")
        nn.init.zeros_(linear.bias)
        layers += [linear, nn.BatchNorm1d(size), nn.LeakyReLU(0.01)]
        width = size
    layers.append(nn.Linear(width, classes))
    return nn.Sequential(*layers)


def main(epochs=EPOCHS, smoke=False, out_dir=OUT_DIR):
    nn.manual_seed(0)
    (x_train, y_train), (x_test, y_test) = fashion_mnist(normalize=True, flatten=True)
    if smoke:
        x_train, y_train, x_test, y_test = x_train[:500], y_train[:500], x_test[:200], y_test[:200]
        epochs = 1
    model = build_mlp()
    print(model.summary((784,)))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = nn.optim.Adam(model.parameters(), lr=LEARNING_RATE)

    start = time.perf_counter()
    history = fit(model, loss_fn, optimizer, (x_train, y_train), epochs=epochs,
                  batch_size=BATCH_SIZE, validation_data=(x_test, y_test), seed=0, verbose=2)
    seconds = time.perf_counter() - start
    test = evaluate(model, loss_fn, (x_test, y_test))
    print(f"test accuracy {test['accuracy']:.4f}, loss {test['loss']:.4f} "
          f"after {epochs} epoch(s) in {seconds:.1f} s")

    out_dir.mkdir(parents=True, exist_ok=True)
    model.eval()
    batch = ag.Tensor(x_test[:BATCH_SIZE])
    loss = loss_fn(model(batch), y_test[:BATCH_SIZE])
    viz.save(viz.draw_graph(loss, model=model, collapse=1, rankdir="LR"),
             out_dir / "architecture.svg")
    viz.save(viz.draw_graph(loss, model=model), out_dir / "graph.svg")
    viz.plot_history(history, path=out_dir / "loss_curves.png")
    print(f"wrote {out_dir}/architecture.svg, graph.svg, loss_curves.png")
    return test


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--smoke", action="store_true", help="a few batches, for tests")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    main(args.epochs, args.smoke, args.out)
