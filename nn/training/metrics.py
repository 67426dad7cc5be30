"""Classification metrics on arrays: accuracy, top-k accuracy, confusion matrix, macro P/R/F1.

Arguments follow scikit-learn's order, ``metric(y_true, y_pred)``:

- ``y_true``: integer labels of shape (N,), or one-hot/probability rows (N, C).
- ``y_pred``: class scores (N, C) (logits or probabilities; the class is the argmax over
  axis 1, as ``CrossEntropyLoss`` reads them), one probability per sample (N,) or (N, 1)
  (class 1 where it exceeds ``threshold``, 0.5), or integer labels (N,).

Metric names accepted by ``fit`` and the searches: ``accuracy`` (``acc``), ``precision``,
``recall``, ``f1`` and ``top_<k>_accuracy`` (e.g. ``top_5_accuracy``).
"""
import re

import numpy as np

from autograd import Tensor


def accuracy(y_true, y_pred, threshold=0.5):
    """Fraction of samples whose predicted class is the true class."""
    true, pred = true_labels(y_true), predicted_labels(y_pred, threshold)
    _check_lengths("accuracy", true, pred)
    return float(np.mean(true == pred)) if len(true) else float("nan")


def top_k_accuracy(y_true, y_pred, k=5):
    """Fraction of samples whose true class is among the ``k`` highest scores of ``y_pred``.

    Raises:
        ValueError: ``y_pred`` is not a (N, C) score matrix, or ``k`` is not in [1, C].
    """
    scores = _array(y_pred)
    if scores.ndim != 2:
        raise ValueError(f"top_k_accuracy: y_pred must be class scores of shape (N, C), "
                         f"got shape {scores.shape}")
    if not 1 <= k <= scores.shape[1]:
        raise ValueError(f"top_k_accuracy: k must be in [1, {scores.shape[1]}] for "
                         f"{scores.shape[1]} classes, got {k}")
    true = true_labels(y_true)
    _check_lengths("top_k_accuracy", true, scores)
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return float(np.mean((top == true[:, None]).any(axis=1))) if len(true) else float("nan")


def confusion_matrix(y_true, y_pred, num_classes=None, threshold=0.5):
    """Counts ``C[i, j]`` of samples of true class ``i`` predicted as class ``j`` (int64).

    ``num_classes`` defaults to the number of score columns, else the largest label + 1.
    """
    true, pred = true_labels(y_true), predicted_labels(y_pred, threshold)
    _check_lengths("confusion_matrix", true, pred)
    if num_classes is None:
        scores = _array(y_pred)
        columns = scores.shape[1] if scores.ndim == 2 and scores.shape[1] > 1 else 0
        num_classes = max(columns, int(max(true.max(initial=-1), pred.max(initial=-1))) + 1)
    if len(true) and (min(true.min(), pred.min()) < 0
                      or max(true.max(), pred.max()) >= num_classes):
        raise ValueError(f"confusion_matrix: labels must be in [0, num_classes={num_classes})")
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (true, pred), 1)
    return matrix


def precision(y_true, y_pred, average="macro", threshold=0.5):
    """Precision TP / (TP + FP) per class, averaged over classes (``average="macro"``) or
    returned per class (``average=None``). A class never predicted scores 0."""
    return _per_class("precision", y_true, y_pred, average, threshold, axis=0)


def recall(y_true, y_pred, average="macro", threshold=0.5):
    """Recall TP / (TP + FN) per class, macro-averaged or per class (``average=None``)."""
    return _per_class("recall", y_true, y_pred, average, threshold, axis=1)


def f1_score(y_true, y_pred, average="macro", threshold=0.5):
    """F1 = 2PR / (P + R) per class, then macro-averaged (the mean of per-class F1s, as in
    scikit-learn), or per class with ``average=None``."""
    p = precision(y_true, y_pred, None, threshold)
    r = recall(y_true, y_pred, None, threshold)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
    return _average("f1_score", per_class, average)


def _per_class(name, y_true, y_pred, average, threshold, axis):
    true, pred = true_labels(y_true), predicted_labels(y_pred, threshold)
    _check_lengths(name, true, pred)
    present = np.union1d(true, pred)  # as scikit-learn: classes seen in either
    matrix = confusion_matrix(true, pred, num_classes=int(present.max(initial=-1)) + 1)
    hits = np.diag(matrix)[present].astype(np.float64)
    totals = matrix.sum(axis=axis)[present].astype(np.float64)
    per_class = np.divide(hits, totals, out=np.zeros_like(hits), where=totals > 0)
    return _average(name, per_class, average)


def _average(name, per_class, average):
    if average is None:
        return per_class
    if average != "macro":
        raise ValueError(f"{name}: average must be 'macro' or None, got {average!r}")
    return float(per_class.mean()) if per_class.size else float("nan")


def true_labels(y_true):
    """Integer labels from labels, an (N, 1) column, or one-hot/probability rows."""
    labels = _array(y_true)
    if labels.ndim == 2:
        labels = labels.argmax(axis=1) if labels.shape[1] > 1 else labels[:, 0]
    if labels.ndim != 1:
        raise ValueError(f"metrics: y_true must be labels (N,) or one-hot rows (N, C), "
                         f"got shape {labels.shape}")
    return labels.astype(np.int64)


def predicted_labels(y_pred, threshold=0.5):
    """Integer labels from class scores (argmax over axis 1), probabilities or labels."""
    scores = _array(y_pred)
    if scores.ndim >= 2 and scores.shape[1] > 1:
        return scores.argmax(axis=1)
    if scores.ndim == 2:
        scores = scores[:, 0]
    if scores.dtype.kind == "f":
        return (scores > threshold).astype(np.int64)
    return scores.astype(np.int64)


def _array(values):
    return values.data if isinstance(values, Tensor) else np.asarray(values)


def _check_lengths(name, true, pred):
    if len(true) != len(pred):
        raise ValueError(f"{name}: y_true has {len(true)} samples but y_pred has {len(pred)}")


METRICS = {"accuracy": accuracy, "acc": accuracy, "precision": precision, "recall": recall,
           "f1": f1_score}
# Metrics for which larger is better; everything else (losses) is minimised.
MAXIMIZED = ("acc", "precision", "recall", "f1")
_TOP_K = re.compile(r"top_(\d+)_accuracy$")


def get_metric(metric):
    """``(name, function)`` for a metric name or a callable ``f(y_true, y_pred) -> float``.

    Raises:
        ValueError: an unknown name (the message lists the known ones).
        TypeError: neither a string nor a callable.
    """
    if callable(metric):
        return getattr(metric, "__name__", type(metric).__name__), metric
    if not isinstance(metric, str):
        raise TypeError(f"metrics: expected a metric name or a callable, got {metric!r}")
    if metric in METRICS:
        return metric, METRICS[metric]
    match = _TOP_K.match(metric)
    if match:
        k = int(match.group(1))
        return metric, lambda y_true, y_pred: top_k_accuracy(y_true, y_pred, k=k)
    known = ", ".join(sorted(METRICS)) + ", top_<k>_accuracy"
    raise ValueError(f"metrics: unknown metric {metric!r}; known: {known}, or pass a callable "
                     f"f(y_true, y_pred)")


def default_mode(monitor):
    """``"max"`` for accuracy-like names, ``"min"`` for losses and anything else."""
    name = monitor.removeprefix("val_")
    return "max" if any(word in name for word in MAXIMIZED) else "min"
