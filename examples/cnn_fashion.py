"""A small CNN on Fashion-MNIST: two Conv2d-BatchNorm2d-ReLU-MaxPool2d blocks and a classifier.

    python examples/cnn_fashion.py          # full run, offline; prints the time of every epoch
    python examples/cnn_fashion.py --smoke  # a few batches, seconds (run by the tests)

Adam with a cosine learning-rate decay over all epochs. Target: 92% test accuracy or
more within 60 minutes on 2 CPU cores. Figures go to outputs/cnn_fashion/: curves, the
first layer's filters, the test confusion matrix, misclassified test images and the
network's architecture graph.
"""
import argparse
import time
from pathlib import Path

import numpy as np

import autograd as ag
import nn
import viz
from nn.datasets import FASHION_MNIST_CLASSES, fashion_mnist
from nn.training import Callback, evaluate, fit, predict

EPOCHS = 10
BATCH_SIZE = 128
LEARNING_RATE = 1e-3
CHANNELS = (32, 64)
HIDDEN, DROPOUT = 128, 0.3
SEED = 0
OUT_DIR = Path("outputs/cnn_fashion")


def build_cnn(channels=CHANNELS, hidden=HIDDEN, dropout=DROPOUT, classes=10):
    """(N, 1, 28, 28) -> [Conv3x3 -> BatchNorm2d -> ReLU -> MaxPool2] x 2 -> Linear -> 10."""
    layers, width = [], 1
    for size in channels:
        layers += [nn.Conv2d(width, size, 3, padding=1), nn.BatchNorm2d(size), nn.ReLU(),
                   nn.MaxPool2d(2)]
        width = size
    side = 28 // 2 ** len(channels)
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(width * side * side, hidden),
                         nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, classes))


class EpochTimer(Callback):
    """Wall-clock seconds of every epoch (training and the test evaluation)."""

    def __init__(self):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


def main(epochs=EPOCHS, smoke=False, out_dir=OUT_DIR):
    """Train the CNN, print test accuracy and epoch times, write figures; returns the numbers."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (x_train, y_train), (x_test, y_test) = fashion_mnist(normalize=True)
    x_train, x_test = x_train[:, None], x_test[:, None]          # NCHW, one channel
    if smoke:
        (x_train, y_train), (x_test, y_test) = (x_train[:256], y_train[:256]), (x_test[:128], y_test[:128])
        epochs = 1
    nn.manual_seed(SEED)
    model = build_cnn()
    print(model.summary((1, 28, 28)))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = nn.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    timer = EpochTimer()
    history = fit(model, loss_fn, optimizer, (x_train, y_train), epochs=epochs,
                  batch_size=BATCH_SIZE, validation_data=(x_test, y_test), seed=SEED, verbose=2,
                  callbacks=[timer],
                  scheduler=nn.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs))
    test = evaluate(model, loss_fn, (x_test, y_test))
    print(f"test accuracy {test['accuracy']:.4f} (loss {test['loss']:.4f}) after {epochs} "
          f"epochs; epoch time {np.mean(timer.seconds):.0f} s on average "
          f"(min {min(timer.seconds):.0f}, max {max(timer.seconds):.0f}), "
          f"total {sum(timer.seconds) / 60:.1f} min")

    viz.plot_history(history, path=out_dir / "curves.png", title="CNN on Fashion-MNIST")
    viz.plot_image_grid(model[0].weight.data[:, 0], ncols=8, cmap="RdBu",
                        path=out_dir / "conv1_filters.png", title="first-layer 3x3 filters")
    scores = predict(model, x_test)
    viz.plot_confusion_matrix(y_test, scores, class_names=FASHION_MNIST_CLASSES,
                              path=out_dir / "confusion_matrix.png")
    wrong = np.flatnonzero(scores.argmax(1) != y_test)[:32]
    if wrong.size:
        viz.plot_image_grid(x_test[wrong], labels=y_test[wrong], predictions=scores[wrong],
                            class_names=FASHION_MNIST_CLASSES, path=out_dir / "mistakes.png")
    model.eval()
    loss = loss_fn(model(ag.Tensor(x_test[:8])), y_test[:8])
    viz.save(viz.draw_graph(loss, model=model, collapse=1, rankdir="LR"),
             out_dir / "architecture.svg")
    print(f"wrote {out_dir}/curves.png, conv1_filters.png, confusion_matrix.png, "
          f"mistakes.png, architecture.svg")
    return {"test_accuracy": test["accuracy"], "test_loss": test["loss"],
            "epoch_seconds": timer.seconds, "epochs": epochs}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--smoke", action="store_true", help="a few batches, for tests")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    main(args.epochs, args.smoke, args.out)
