"""Iris: a small MLP, compared with scikit-learn's MLPClassifier on the same folds.

    python examples/iris.py           # 5-fold cross-validation, under a minute
    python examples/iris.py --smoke   # few epochs, for tests

Both networks are 4-16-16-3 with ReLU, trained with Adam (same learning rate, batch
size and number of epochs, no weight decay) on standardised features (scaler fitted on
each training fold), and scored on the same stratified folds. scikit-learn is optional
(pip install scikit-learn): without it only our network runs, and the script says so.
Figures (first fold's curves, confusion matrix over all folds) go to outputs/iris/.
"""
import argparse
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import nn
import viz
from nn.data import StandardScaler, StratifiedKFold
from nn.datasets import IRIS_CLASSES, iris
from nn.training import evaluate, fit, predict

HIDDEN = (16, 16)
EPOCHS = 200
BATCH_SIZE = 16
LEARNING_RATE = 1e-2
FOLDS = 5
SEED = 0
OUT_DIR = Path("outputs/iris")


def build_mlp(hidden=HIDDEN, inputs=4, classes=3):
    layers, width = [], inputs
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    return nn.Sequential(*layers, nn.Linear(width, classes))


def train_ours(train, test, epochs):
    """Our MLP on one fold; returns (history, test accuracy, test predictions)."""
    model = build_mlp()
    optimizer = nn.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    history = fit(model, nn.CrossEntropyLoss(), optimizer, train, epochs, BATCH_SIZE,
                  validation_data=test, verbose=0, seed=SEED)
    accuracy = evaluate(model, nn.CrossEntropyLoss(), test)["accuracy"]
    return history, accuracy, predict(model, test[0]).argmax(axis=1)


def train_sklearn(train, test, epochs):
    """scikit-learn's MLPClassifier with the same sizes and settings; None when absent."""
    try:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier
    except ImportError:
        return None
    classifier = MLPClassifier(hidden_layer_sizes=HIDDEN, activation="relu", solver="adam",
                               alpha=0.0, batch_size=BATCH_SIZE, learning_rate_init=LEARNING_RATE,
                               max_iter=epochs, random_state=SEED)
    with warnings.catch_warnings():   # a smoke run stops before sklearn's convergence test
        warnings.simplefilter("ignore", ConvergenceWarning)
        classifier.fit(*train)
    return float(classifier.score(*test))


def main(smoke=False, out_dir=OUT_DIR):
    """Cross-validate both networks; returns their mean accuracies (sklearn's None if absent)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    epochs = 5 if smoke else EPOCHS
    X, y = iris()
    ours, theirs, true_labels, predicted = [], [], [], []
    for fold, (train_index, test_index) in enumerate(
            StratifiedKFold(FOLDS, shuffle=True, seed=SEED).split(X, y)):
        scaler = StandardScaler().fit(X[train_index])
        train = scaler.transform(X[train_index]), y[train_index]
        test = scaler.transform(X[test_index]), y[test_index]
        nn.manual_seed(SEED + fold)
        history, accuracy, labels = train_ours(train, test, epochs)
        ours.append(accuracy)
        true_labels.append(test[1])
        predicted.append(labels)
        theirs.append(train_sklearn(train, test, epochs))
        sklearn_text = "" if theirs[-1] is None else f", scikit-learn {theirs[-1]:.2%}"
        print(f"fold {fold + 1}/{FOLDS}: ours {accuracy:.2%}{sklearn_text}")
        if fold == 0:
            plt.close(viz.plot_history(history, metrics=["loss", "accuracy"],
                                       path=out_dir / "fold1_curves.png",
                                       title="Iris, fold 1 (validation = held-out fold)"))

    results = {"ours_accuracy": float(np.mean(ours)), "ours_std": float(np.std(ours))}
    print(f"ours ({'-'.join(map(str, (4,) + HIDDEN + (3,)))} MLP, {epochs} epochs): "
          f"{results['ours_accuracy']:.2%} +- {results['ours_std']:.2%} over {FOLDS} folds")
    if theirs[0] is None:
        results["sklearn_accuracy"] = None
        print("scikit-learn is not installed: skipped the MLPClassifier comparison "
              "(pip install scikit-learn)")
    else:
        results.update(sklearn_accuracy=float(np.mean(theirs)), sklearn_std=float(np.std(theirs)))
        print(f"scikit-learn MLPClassifier{HIDDEN}: {results['sklearn_accuracy']:.2%} +- "
              f"{results['sklearn_std']:.2%} over the same folds")
    plt.close(viz.plot_confusion_matrix(np.concatenate(true_labels), np.concatenate(predicted),
                                        class_names=IRIS_CLASSES,
                                        path=out_dir / "confusion_matrix.png"))
    print(f"wrote {out_dir}/fold1_curves.png, confusion_matrix.png")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="few epochs, for tests")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    main(args.smoke, args.out)
