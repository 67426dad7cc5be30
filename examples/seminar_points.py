"""The seminar's "random points" problem: normalisation, initialisation, batch size, epochs, order.

    python examples/seminar_points.py           # full run, a few minutes on 2 cores
    python examples/seminar_points.py --smoke   # tiny data and epochs, for tests

Points uniform in a 3-D box with axes in very different raw units (x in [0, 1000],
y in [-5, 5], z in [200, 300]), labelled by which half of each axis they lie in (8
classes). The notes found about 73% accuracy on raw inputs and 98% after min-max
scaling. Then, all on scaled inputs: weight initialisations (constant, normal with
several standard deviations, uniform, Xavier, He) with weight histograms before and
after training; a batch-size sweep and a long run on a small training set showing
under- and over-fitting on train/validation/test curves; and training on samples
sorted by label versus shuffled. Figures go to outputs/seminar_points/.
"""
import os

# These layers are tiny: BLAS threads only add synchronisation, and on a busy 2-core
# machine OpenBLAS's spinning threads make each step up to 10x slower. Set before NumPy loads.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
from pathlib import Path  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import nn  # noqa: E402
import viz  # noqa: E402
from nn.data import MinMaxScaler, train_test_split  # noqa: E402
from nn.datasets import random_points  # noqa: E402
from nn.training import Callback, evaluate, fit, predict  # noqa: E402

N_POINTS = 5000              # split 60/20/20 into train/validation/test
HIDDEN = 64
LEARNING_RATE = 3e-3
EPOCHS = 60                  # normalisation experiment
SWEEP_EPOCHS = 20            # initialisation, batch-size and order experiments
BATCH_SIZE = 32
BATCH_SIZES = (4, 16, 64, 256, 1024, 3000)
SMALL_TRAIN, WIDE, LONG_EPOCHS = 100, 256, 300  # few samples, a wide net, many epochs
INITS = {
    "constant 0.1": lambda w: nn.init.constant_(w, 0.1),
    "normal std 0.01": lambda w: nn.init.normal_(w, std=0.01),
    "normal std 0.1": lambda w: nn.init.normal_(w, std=0.1),
    "normal std 1": lambda w: nn.init.normal_(w, std=1.0),
    "uniform +-0.1": lambda w: nn.init.uniform_(w, -0.1, 0.1),
    "xavier": nn.init.xavier_uniform_,
    "he": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),
}
OUT_DIR = Path("outputs/seminar_points")


class TestCurve(Callback):
    """Evaluates a held-out set after every epoch (fit only logs train and validation)."""

    def __init__(self, data):
        self.data, self.history = data, {"loss": [], "accuracy": []}

    def on_epoch_end(self, epoch, logs=None):
        for key, value in evaluate(self.model, nn.CrossEntropyLoss(), self.data).items():
            self.history[key].append(value)


def build_mlp(init=None, hidden=HIDDEN):
    """3-hidden-hidden-8 ReLU MLP; ``init`` (if given) re-initialises every weight."""
    model = nn.Sequential(nn.Linear(3, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                          nn.Linear(hidden, 8))
    for layer in (model[0], model[2], model[4]):
        if init is not None:
            init(layer.weight)
            nn.init.zeros_(layer.bias)
    return model


def train(model, train_data, val_data, test_data, epochs, batch_size=BATCH_SIZE, shuffle=True,
          cosine=True):
    """Adam, by default with a cosine learning-rate decay; returns (history, test curve,
    final test accuracy)."""
    optimizer = nn.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    scheduler = nn.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs) if cosine else None
    test_curve = TestCurve(test_data)
    history = fit(model, nn.CrossEntropyLoss(), optimizer, train_data, epochs, batch_size,
                  validation_data=val_data, callbacks=[test_curve], verbose=0, shuffle=shuffle,
                  seed=0, scheduler=scheduler)
    return history.history, test_curve.history, test_curve.history["accuracy"][-1]


def plot_curves(history, test, path, title):
    """Loss and accuracy per epoch on train, validation and test, side by side."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, metric in zip(axes, ("loss", "accuracy")):
        for values, label in ((history[metric], "train"), (history[f"val_{metric}"], "validation"),
                              (test[metric], "test")):
            ax.plot(np.arange(1, len(values) + 1), values, label=label)
        ax.set(xlabel="epoch", ylabel=metric, yscale="log" if metric == "loss" else "linear")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def normalisation(raw, scaled, epochs, out_dir, results):
    """Raw versus min-max scaled inputs: curves and 3-D test predictions of each."""
    for name, splits in (("raw", raw), ("minmax", scaled)):
        nn.manual_seed(0)
        model = build_mlp()
        history, test, accuracy = train(model, *splits, epochs)
        results[f"{name}_accuracy"] = accuracy
        print(f"   {name:6s}: test accuracy {accuracy:.2%}")
        plot_curves(history, test, out_dir / f"normalisation_{name}_curves.png",
                    f"{name} inputs: test accuracy {accuracy:.1%}")
        X_test, y_test = splits[2]
        plt.close(viz.plot_predictions_3d(X_test, predict(model, X_test), y_test,
                                          path=out_dir / f"normalisation_{name}_3d.png",
                                          title=f"{name} inputs: test predictions"))


def initialisation(splits, inits, epochs, out_dir, results):
    """Each initialisation: first-epoch loss, test accuracy, weight histograms."""
    for name, init in inits.items():
        nn.manual_seed(0)
        model = build_mlp(init)
        before = {k: np.array(v) for k, v in model.state_dict().items() if k.endswith("weight")}
        history, _, accuracy = train(model, *splits, epochs)
        results[f"init {name}"] = accuracy
        print(f"   {name:16s}: first-epoch loss {history['loss'][0]:8.3f}, "
              f"test accuracy {accuracy:.2%}")
        plt.close(viz.plot_weight_histograms(before, model, names=list(before),
                                             path=out_dir / f"init_{name.replace(' ', '_')}.png",
                                             title=f"init {name}: test accuracy {accuracy:.1%}"))


def batch_size_sweep(splits, batch_sizes, epochs, out_dir, results):
    """Same epochs, different batch sizes: big batches take too few steps and under-fit."""
    finals = []
    for batch_size in batch_sizes:
        nn.manual_seed(0)
        history, _, accuracy = train(build_mlp(), *splits, epochs, batch_size)
        finals.append((history["accuracy"][-1], history["val_accuracy"][-1], accuracy))
        results[f"batch {batch_size}"] = accuracy
        print(f"   batch {batch_size:5d}: train {finals[-1][0]:.2%}, validation "
              f"{finals[-1][1]:.2%}, test {accuracy:.2%}")
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for column, label in enumerate(("train", "validation", "test")):
        ax.plot(batch_sizes, [final[column] for final in finals], "o-", label=label)
    ax.set(xscale="log", xlabel="batch size", ylabel=f"accuracy after {epochs} epochs")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "batch_size_sweep.png", dpi=110)
    plt.close(fig)


def epoch_sweep(splits, epochs, out_dir, results):
    """One long run: train/validation/test after every epoch, from under- to over-fitting."""
    nn.manual_seed(0)
    history, test, accuracy = train(build_mlp(hidden=WIDE), *splits, epochs, cosine=False)
    best = int(np.argmin(history["val_loss"]))
    results.update(epochs_best_epoch=best + 1, epochs_best_test=test["accuracy"][best],
                   epochs_final_test=accuracy)
    for label, epoch in (("epoch 1 (under-fit)", 0), (f"epoch {epochs} (over-fit)", -1),
                         (f"epoch {best + 1} (lowest validation loss)", best)):
        print(f"   {label:34s}: loss train {history['loss'][epoch]:.3f} / validation "
              f"{history['val_loss'][epoch]:.3f}; accuracy train {history['accuracy'][epoch]:.2%}"
              f" / validation {history['val_accuracy'][epoch]:.2%} / test "
              f"{test['accuracy'][epoch]:.2%}")
    plot_curves(history, test, out_dir / "epochs_curves.png",
                f"{len(splits[0][0])} training points: under-fitting early, over-fitting late")


def sample_order(splits, epochs, out_dir, results):
    """Training on samples sorted by label (each epoch ends on one class) versus shuffled."""
    (X_train, y_train), validation, test_data = splits
    order = np.argsort(y_train, kind="stable")
    for name, train_data, shuffle in (("sorted", (X_train[order], y_train[order]), False),
                                      ("shuffled", (X_train, y_train), True)):
        nn.manual_seed(0)
        history, test, accuracy = train(build_mlp(), train_data, validation, test_data, epochs,
                                        shuffle=shuffle)
        results[f"{name}_accuracy"] = accuracy
        print(f"   {name:8s}: test accuracy {accuracy:.2%}")
        plot_curves(history, test, out_dir / f"order_{name}_curves.png", f"{name} training data")


def main(smoke=False, out_dir=OUT_DIR):
    """Run the five experiments, write the figures; returns the headline numbers."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    epochs, sweep_epochs, long_epochs = (2, 2, 3) if smoke else (EPOCHS, SWEEP_EPOCHS, LONG_EPOCHS)
    # Plotting dominates a smoke run: try two initialisations and two batch sizes only.
    inits = {k: INITS[k] for k in ("constant 0.1", "he")} if smoke else INITS
    batch_sizes = (16, BATCH_SIZES[-1]) if smoke else BATCH_SIZES
    X, y = random_points(N_POINTS // 10 if smoke else N_POINTS, n_dims=3, seed=0)
    X_train, X_rest, y_train, y_rest = train_test_split(X, y, test_size=0.4, stratify=y, seed=0)
    X_val, X_test, y_val, y_test = train_test_split(X_rest, y_rest, test_size=0.5,
                                                    stratify=y_rest, seed=0)
    raw = (X_train, y_train), (X_val, y_val), (X_test, y_test)
    scaler = MinMaxScaler().fit(X_train)   # fitted on the training split only
    scaled = tuple((scaler.transform(X_part), y_part) for X_part, y_part in raw)
    small = SMALL_TRAIN // 2 if smoke else SMALL_TRAIN
    results = {}
    print(f"1. normalisation ({len(X_train)} training points, {epochs} epochs)")
    normalisation(raw, scaled, epochs, out_dir, results)
    print(f"2. weight initialisation ({sweep_epochs} epochs, biases zero)")
    initialisation(scaled, inits, sweep_epochs, out_dir, results)
    print(f"3. batch size ({sweep_epochs} epochs each)")
    batch_size_sweep(scaled, batch_sizes, sweep_epochs, out_dir, results)
    print(f"4. epochs: {small} training points, {WIDE}-unit layers, {long_epochs} epochs, "
          f"constant learning rate")
    small_train = (scaled[0][0][:small], scaled[0][1][:small])
    epoch_sweep((small_train,) + scaled[1:], long_epochs, out_dir, results)
    print(f"5. sample order ({sweep_epochs} epochs, sorted by label and never reshuffled, "
          f"or shuffled every epoch)")
    sample_order(scaled, sweep_epochs, out_dir, results)
    print(f"wrote the figures into {out_dir}/")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny data and epochs, for tests")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    main(args.smoke, args.out)
