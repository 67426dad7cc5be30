"""MNIST-1D: logistic regression, MLP and CNN against the data set paper's table.

    python examples/mnist_1d.py           # five models, a few minutes on 2 cores
    python examples/mnist_1d.py --smoke   # 500 signals, two epochs each, for tests

Greydanus & Steinbach's MNIST-1D (generated locally, 4,000 training and 1,000 test
signals of length 40) with their recipe: Adam at 1e-2, batches of 100, 6,000 steps
(150 epochs), test accuracy at the end. Their table: logistic regression 32%, MLP 68%,
CNN 94%. Their MLP (40-100-100-10) and CNN (three stride-2 Conv1d layers of 25
channels over (N, 1, 40) signals) are reproduced as they are, then improved: a wider MLP with dropout and a CNN with
BatchNorm, both with a cosine learning-rate decay. Figures go to outputs/mnist1d/.
"""
import os
from pathlib import Path

# These layers are tiny: BLAS threads only add synchronisation, and on a busy 2-core
# machine OpenBLAS's spinning threads make each step up to 10x slower. Set before NumPy loads.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import time  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402

import nn  # noqa: E402
import viz  # noqa: E402
from nn.datasets import mnist1d  # noqa: E402
from nn.training import fit, predict  # noqa: E402

N_SAMPLES, TRAIN_SPLIT = 5000, 0.8         # 4,000 / 1,000, the paper's split
EPOCHS = 150                               # 6,000 steps of 100 signals
BATCH_SIZE = 100
LEARNING_RATE = 1e-2
PAPER = {"logistic": 0.32, "mlp": 0.68, "cnn": 0.94}
OUT_DIR = Path("outputs/mnist1d")


def conv_block(in_channels, out_channels, kernel, batch_norm):
    """A 1-D convolution (stride 2, padding 1) over (N, C, L), then ReLU."""
    layers = [nn.Conv1d(in_channels, out_channels, kernel, stride=2, padding=1)]
    return layers + ([nn.BatchNorm1d(out_channels)] if batch_norm else []) + [nn.ReLU()]


def cnn(batch_norm=False, channels=25):
    """The paper's CNN: 40 -> 19 -> 10 -> 5 positions, then a linear classifier."""
    return nn.Sequential(*conv_block(1, channels, 5, batch_norm),
                         *conv_block(channels, channels, 3, batch_norm),
                         *conv_block(channels, channels, 3, batch_norm),
                         nn.Flatten(), nn.Linear(channels * 5, 10))


def mlp(width=100, dropout=0.0):
    """The paper's MLP 40-100-100-10 (ReLU), optionally wider and with dropout."""
    drop = [nn.Dropout(dropout)] if dropout else []
    return nn.Sequential(nn.Linear(40, width), nn.ReLU(), *drop, nn.Linear(width, width),
                         nn.ReLU(), *drop, nn.Linear(width, 10))


# name: (paper row it is compared with, builder, input has a channel axis, cosine decay)
MODELS = {
    "logistic regression": ("logistic", lambda: nn.Linear(40, 10), False, False),
    "MLP, paper": ("mlp", mlp, False, False),
    "MLP 256 + dropout 0.3": ("mlp", lambda: mlp(256, 0.3), False, True),
    "CNN, paper": ("cnn", cnn, True, False),
    "CNN + BatchNorm": ("cnn", lambda: cnn(batch_norm=True), True, True),
}


def main(smoke=False, out_dir=OUT_DIR, epochs=EPOCHS):
    """Train every model in MODELS; returns the final test accuracies and the best per row."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    epochs = 2 if smoke else epochs
    (x_train, y_train), (x_test, y_test) = mnist1d(500 if smoke else N_SAMPLES, TRAIN_SPLIT)
    print(f"MNIST-1D: {len(x_train)} training and {len(x_test)} test signals, {epochs} epochs "
          f"of batches of {BATCH_SIZE}")
    results, histories = {}, {}
    for name, (row, build, image, cosine) in MODELS.items():
        nn.manual_seed(0)
        model = build()
        train_x, test_x = (x.reshape(len(x), 1, 40) if image else x for x in (x_train, x_test))
        optimizer = nn.optim.Adam(model.parameters(), lr=LEARNING_RATE)
        scheduler = nn.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs) if cosine else None
        start = time.perf_counter()
        history = fit(model, nn.CrossEntropyLoss(), optimizer, (train_x, y_train), epochs,
                      BATCH_SIZE, validation_data=(test_x, y_test), verbose=0, seed=0,
                      scheduler=scheduler)
        accuracy = history.history["val_accuracy"][-1]     # the last epoch's, not the best one's
        results[name], histories[name] = accuracy, history.history
        results[row] = max(results.get(row, 0.0), accuracy)
        print(f"{name:22s} test accuracy {accuracy:.1%} (paper {PAPER[row]:.0%}), train "
              f"{history.history['accuracy'][-1]:.1%}, {time.perf_counter() - start:.0f} s")
        if name == "CNN + BatchNorm":
            plt.close(viz.plot_confusion_matrix(y_test, predict(model, test_x),
                                                path=out_dir / "cnn_confusion_matrix.png",
                                                title=f"{name} on MNIST-1D test signals"))
    print("best per row: " + ", ".join(f"{row} {results[row]:.1%} (paper {PAPER[row]:.0%})"
                                       for row in PAPER))

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, key in zip(axes, ("accuracy", "val_accuracy")):
        for name, history in histories.items():
            ax.plot(range(1, len(history[key]) + 1), history[key], label=name)
        ax.set(xlabel="epoch", ylabel="accuracy", title="train" if key == "accuracy" else "test")
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "curves.png", dpi=110)
    plt.close(fig)
    print(f"wrote {out_dir}/curves.png, cnn_confusion_matrix.png")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="500 signals, two epochs each")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    main(args.smoke, args.out, args.epochs)
