"""Loss functions and their Module classes, with PyTorch's definitions and defaults.

The functions (``mse_loss``, ``cross_entropy``, ...) are the ``nn.functional`` forms;
each class (``MSELoss``, ``CrossEntropyLoss``, ...) stores its options and calls its
function. ``reduction`` is ``"mean"`` (default), ``"sum"`` or ``"none"``; weighted
means divide by the total weight of the counted samples, as in PyTorch.

Class-indexed losses take inputs of shape ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)``
(classes on axis 1) and targets without the class axis.
"""
import numpy as np

from autograd import Tensor
from autograd.extend import functions

from .module import Module
from .ops.loss_ops import (binary_cross_entropy as _binary_cross_entropy_op,
                           binary_cross_entropy_with_logits as _bce_with_logits_op,
                           softmax_cross_entropy, softmax_cross_entropy_labels)

__all__ = ["MSELoss", "L1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss",
           "CrossEntropyLoss", "NLLLoss"]

REDUCTIONS = ("mean", "sum", "none")

absolute, where = functions("abs", "where")


# --- argument checks ----------------------------------------------------------------------
def _check_reduction(name, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _as_input(name, value):
    """The prediction as a floating Tensor (arrays and lists are wrapped)."""
    tensor = value if isinstance(value, Tensor) else Tensor(value)
    if tensor.dtype.kind != "f":
        raise TypeError(f"{name}: input must be a floating-point tensor, got dtype {tensor.dtype}")
    return tensor


def _shape_hint(input_shape, target_shape):
    """Why two shapes of a loss may differ: a missing or extra axis of size 1 (reshape
    the target, as PyTorch would otherwise broadcast (N,) against (N, 1) to (N, N)), or
    different batch sizes."""
    if int(np.prod(input_shape)) == int(np.prod(target_shape)):
        sides = ", ".join(["-1"] + [str(side) for side in input_shape[1:]])
        return f"reshape the target: y.reshape({sides})"
    return "mismatched batch sizes?"


def _as_float_target(name, target, input):
    """A target of the input's shape and dtype; a Tensor target keeps its graph."""
    if isinstance(target, Tensor):
        if target.dtype != input.dtype:
            target = target.astype(input.dtype) if target.dtype.kind == "f" else Tensor(
                target.data.astype(input.dtype))
    else:
        target = np.asarray(target)
        if target.dtype.kind not in "fiub":
            raise TypeError(f"{name}: target must be numeric, got dtype {target.dtype}")
        target = target.astype(input.dtype, copy=False)
    if target.shape != input.shape:
        raise ValueError(f"{name}: input has shape {input.shape} but target has shape "
                         f"{target.shape}; they must be the same "
                         f"({_shape_hint(input.shape, target.shape)})")
    return target


def _check_unit_interval(name, what, values):
    data = values.data if isinstance(values, Tensor) else values
    if data.size and not (np.all(data >= 0) and np.all(data <= 1)):
        raise ValueError(f"{name}: every element of {what} must be in [0, 1]; got values in "
                         f"[{np.nanmin(data):.6g}, {np.nanmax(data):.6g}]"
                         + (" (NaN included)" if np.isnan(data).any() else ""))


def _constant_like(name, argument, value, input):
    """An optional weight as a plain array in the input's dtype (it gets no gradient)."""
    if value is None:
        return None
    array = value.data if isinstance(value, Tensor) else np.asarray(value)
    if array.dtype.kind not in "fiu":
        raise TypeError(f"{name}: {argument} must be numeric, got dtype {array.dtype}")
    return array.astype(input.dtype, copy=False)


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


# --- regression losses ----------------------------------------------------------------------
def mse_loss(input, target, reduction="mean"):
    """Mean squared error ``(input - target) ** 2``, reduced.

    Raises:
        ValueError: shapes differ (PyTorch would broadcast with a warning) or bad reduction.
    """
    _check_reduction("mse_loss", reduction)
    input = _as_input("mse_loss", input)
    diff = input - _as_float_target("mse_loss", target, input)
    return _reduce(diff * diff, reduction)


def l1_loss(input, target, reduction="mean"):
    """Mean absolute error ``|input - target|``, reduced (gradient 0 where equal)."""
    _check_reduction("l1_loss", reduction)
    input = _as_input("l1_loss", input)
    return _reduce(absolute(input - _as_float_target("l1_loss", target, input)), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """Huber loss: ``0.5 * d**2`` where ``|d| < delta``, else ``delta * (|d| - 0.5 * delta)``.

    ``d = input - target``. Quadratic near zero, linear (gradient ``delta``) beyond.
    """
    _check_reduction("huber_loss", reduction)
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta!r}")
    input = _as_input("huber_loss", input)
    diff = input - _as_float_target("huber_loss", target, input)
    size = absolute(diff)
    loss = where(size.data < delta, 0.5 * diff * diff, delta * (size - 0.5 * delta))
    return _reduce(loss, reduction)


# --- binary classification ------------------------------------------------------------------
def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """Binary cross-entropy of probabilities ``input`` in [0, 1] against ``target`` in [0, 1].

    ``-weight * (target * log(input) + (1 - target) * log(1 - input))`` with both logs
    clamped at -100, as in PyTorch, so probabilities of exactly 0 or 1 stay finite.

    Raises:
        ValueError: shapes differ, or input/target values outside [0, 1].
    """
    name = "binary_cross_entropy"
    _check_reduction(name, reduction)
    input = _as_input(name, input)
    target = _as_float_target(name, target, input)
    _check_unit_interval(name, "input (probabilities)", input)
    _check_unit_interval(name, "target", target)
    loss = _binary_cross_entropy_op(input, target)
    weight = _constant_like(name, "weight", weight, input)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    """Sigmoid + binary cross-entropy in one stable step, on logits ``input``.

    ``pos_weight`` (broadcast over the last axis, e.g. one per class) multiplies the
    positive term: ``-(pos_weight * t * log(sigmoid(x)) + (1 - t) * log(1 - sigmoid(x)))``.
    ``weight`` rescales each element's loss. Neither gets a gradient here.
    """
    name = "binary_cross_entropy_with_logits"
    _check_reduction(name, reduction)
    input = _as_input(name, input)
    target = _as_float_target(name, target, input)
    pos_weight = _constant_like(name, "pos_weight", pos_weight, input)
    loss = _bce_with_logits_op(input, target, 1.0 if pos_weight is None else pos_weight)
    weight = _constant_like(name, "weight", weight, input)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# --- multi-class classification ---------------------------------------------------------------
def _classes_last(name, input):
    """``(rows, batch_shape)``: the input as ``(M, C)`` rows of class scores."""
    if input.ndim == 0:
        raise ValueError(f"{name}: input must have a class axis, got a 0-d tensor")
    if input.ndim == 1:
        return input.reshape(1, input.shape[0]), ()
    if input.ndim == 2:
        return input, input.shape[:1]
    axes = (0,) + tuple(range(2, input.ndim)) + (1,)
    moved = input.transpose(axes)
    return moved.reshape(-1, input.shape[1]), moved.shape[:-1]


def _class_weight(name, weight, classes, input):
    weight = _constant_like(name, "weight", weight, input)
    if weight is not None and weight.shape != (classes,):
        raise ValueError(f"{name}: weight must have one entry per class, shape ({classes},), "
                         f"got shape {weight.shape}")
    return weight


def _class_labels(name, target, input, batch_shape, classes, ignore_index):
    """Integer class labels of ``batch_shape``, every one in range or ``ignore_index``."""
    labels = target.data if isinstance(target, Tensor) else np.asarray(target)
    if labels.dtype.kind == "b" or labels.dtype.kind not in "iu":
        if labels.dtype.kind == "f" and labels.shape == batch_shape:
            raise TypeError(
                f"{name}: class labels must be integers, got dtype {labels.dtype}; pass integer "
                f"labels (e.g. y.astype(np.int64)) or class probabilities of the input's shape "
                f"{input.shape}")
        raise TypeError(f"{name}: target must be integer class labels of shape {batch_shape}, "
                        f"got dtype {labels.dtype}")
    if labels.shape != batch_shape:
        raise ValueError(
            f"{name}: input of shape {input.shape} needs class labels of shape {batch_shape}, "
            f"but target has shape {labels.shape} (mismatched batch sizes?)")
    flat = labels.reshape(-1).astype(np.int64, copy=False)
    # The common case, checked in two passes (ufunc reductions: ndarray.min and .max
    # add a Python wrapper each): every label counts.
    if (flat.size and 0 <= np.minimum.reduce(flat) and np.maximum.reduce(flat) < classes
            and not 0 <= ignore_index < classes):
        return flat, None
    counted = flat != ignore_index
    bad = counted & ((flat < 0) | (flat >= classes))
    if bad.any():
        raise ValueError(f"{name}: class labels must be in [0, {classes - 1}] (or ignore_index="
                         f"{ignore_index}); got {sorted(set(flat[bad].tolist()))[:5]}")
    return flat, counted


def _label_targets(flat, counted, classes, weight, label_smoothing, dtype):
    """Rows of ``-log p`` weights for class labels, and the mean's divisor.

    Row i holds ``(1 - s) * w[y_i]`` at class y_i plus ``s / C * w`` everywhere (zero
    for ignored rows; ``counted`` None means none is ignored), so that
    ``-sum(target * log_softmax)`` is PyTorch's label-smoothed, class-weighted
    cross-entropy, and the divisor is ``sum w[y_i]``.
    """
    rows = np.arange(flat.size) if counted is None else np.flatnonzero(counted)
    picked = flat[rows]
    target = np.zeros((flat.size, classes), dtype=dtype)
    picked_weight = 1.0 if weight is None else weight[picked]
    target[rows, picked] = (1.0 - label_smoothing) * picked_weight
    if label_smoothing:
        target[rows] += (label_smoothing / classes) * (1.0 if weight is None else weight)
    divisor = float(rows.size) if weight is None else float(np.sum(picked_weight))
    return target, divisor


def _mean_scale(divisor):
    # Every label ignored: the mean is 0 / 0, NaN, as in PyTorch.
    return 1.0 / divisor if divisor else float("nan")


def _reduce_rows(rows, batch_shape, reduction, divisor):
    if reduction == "none":
        return rows.reshape(batch_shape)
    total = rows.sum()
    return total if reduction == "sum" else total * _mean_scale(divisor)


def _softmax_cross_entropy(rows, row_target, batch_shape, reduction, divisor):
    """The fused op, with the reduction folded in: the whole loss is one graph node."""
    if reduction == "none":
        return softmax_cross_entropy(rows, row_target).reshape(batch_shape)
    scale = 1.0 if reduction == "sum" else _mean_scale(divisor)
    return softmax_cross_entropy(rows, row_target, reduction="sum", scale=scale)


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Softmax cross-entropy of logits ``input`` (classes on axis 1) against ``target``.

    ``target`` is either integer class labels (the input's shape without the class
    axis) or class probabilities / one-hot rows (the input's shape). ``weight`` gives
    one rescaling factor per class; labels equal to ``ignore_index`` count nowhere;
    ``label_smoothing`` mixes the target with the uniform distribution. The mean over
    labels divides by the summed weight of the counted labels (PyTorch's semantics).

    Raises:
        TypeError: float labels of the label shape, or a non-float input.
        ValueError: labels out of range, a target of the wrong shape (batch size),
            a weight without one entry per class, bad reduction or label_smoothing.
    """
    name = "cross_entropy"
    _check_reduction(name, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing!r}")
    input = _as_input(name, input)
    rows, batch_shape = _classes_last(name, input)
    classes = rows.shape[1]
    weight = _class_weight(name, weight, classes, input)
    target_data = target.data if isinstance(target, Tensor) else np.asarray(target)
    if target_data.shape == input.shape:
        # Labels never have the input's shape (they lack the class axis), so this is
        # probabilities, or one-hot rows in any numeric dtype.
        return _cross_entropy_probabilities(input, target, weight, reduction, label_smoothing)
    flat, counted = _class_labels(name, target, input, batch_shape, classes, ignore_index)
    if counted is None and weight is None and not label_smoothing:
        # The common case: plain labels, all counted; no one-hot targets to build.
        # Named, so that a graph drawing shows the labels picking one class per row.
        labels = Tensor(flat, name=f"labels {tuple(batch_shape)} as rows")
        if reduction == "none":
            return softmax_cross_entropy_labels(rows, labels).reshape(batch_shape)
        scale = 1.0 if reduction == "sum" else 1.0 / flat.size
        return softmax_cross_entropy_labels(rows, labels, reduction="sum", scale=scale)
    row_target, divisor = _label_targets(flat, counted, classes, weight, label_smoothing,
                                         input.dtype)
    # Named, so that a graph drawing shows where the (N, C) rows come from.
    row_target = Tensor(row_target, name=f"labels {tuple(batch_shape)} as rows")
    return _softmax_cross_entropy(rows, row_target, batch_shape, reduction, divisor)


def _cross_entropy_probabilities(input, target, weight, reduction, label_smoothing):
    """Cross-entropy against class probabilities (the target may require grad)."""
    if not isinstance(target, Tensor):
        target = np.asarray(target).astype(input.dtype, copy=False)
    elif target.dtype.kind != "f":
        target = target.data.astype(input.dtype)
    elif target.dtype != input.dtype:
        target = target.astype(input.dtype)
    rows, batch_shape = _classes_last("cross_entropy", input)
    target_rows, _ = _classes_last("cross_entropy", target)
    classes = rows.shape[1]
    if label_smoothing:
        target_rows = target_rows * (1.0 - label_smoothing) + label_smoothing / classes
    if weight is not None:
        target_rows = target_rows * weight
    return _softmax_cross_entropy(rows, target_rows, batch_shape, reduction,
                                  float(rows.shape[0]))


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of log-probabilities ``input`` (classes on axis 1).

    ``-weight[y] * input[..., y, ...]`` per sample; ``target`` holds integer class
    labels; mean divides by the summed weight of the counted labels.
    """
    name = "nll_loss"
    _check_reduction(name, reduction)
    input = _as_input(name, input)
    rows, batch_shape = _classes_last(name, input)
    classes = rows.shape[1]
    weight = _class_weight(name, weight, classes, input)
    flat, counted = _class_labels(name, target, input, batch_shape, classes, ignore_index)
    row_target, divisor = _label_targets(flat, counted, classes, weight, 0.0, input.dtype)
    picked = -(rows * row_target).sum(axis=-1)
    return _reduce_rows(picked, batch_shape, reduction, divisor)


# --- Module classes -----------------------------------------------------------------------
class _Loss(Module):
    """A loss module: options at construction, ``loss(input, target)`` at call."""

    def __init__(self, reduction="mean"):
        super().__init__()
        _check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def extra_repr(self):
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Mean squared error; see ``mse_loss``."""

    def forward(self, input, target):
        return mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error; see ``l1_loss``."""

    def forward(self, input, target):
        return l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Huber loss with threshold ``delta``; see ``huber_loss``."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        if not delta > 0:
            raise ValueError(f"HuberLoss: delta must be positive, got {delta!r}")
        self.delta = delta

    def forward(self, input, target):
        return huber_loss(input, target, reduction=self.reduction, delta=self.delta)

    def extra_repr(self):
        return f"reduction={self.reduction!r}, delta={self.delta}"


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities; see ``binary_cross_entropy``."""

    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        self.weight = weight

    def forward(self, input, target):
        return binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits; see ``binary_cross_entropy_with_logits``."""

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(reduction)
        self.weight = weight
        self.pos_weight = pos_weight

    def forward(self, input, target):
        return binary_cross_entropy_with_logits(input, target, weight=self.weight,
                                                reduction=self.reduction,
                                                pos_weight=self.pos_weight)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy on logits, for class labels or probabilities; see ``cross_entropy``."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], "
                             f"got {label_smoothing!r}")
        self.weight = weight
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                             reduction=self.reduction, label_smoothing=self.label_smoothing)

    def extra_repr(self):
        extras = [f"reduction={self.reduction!r}"]
        if self.ignore_index != -100:
            extras.append(f"ignore_index={self.ignore_index}")
        if self.label_smoothing:
            extras.append(f"label_smoothing={self.label_smoothing}")
        return ", ".join(extras)


class NLLLoss(_Loss):
    """Negative log-likelihood on log-probabilities; see ``nll_loss``."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__(reduction)
        self.weight = weight
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                        reduction=self.reduction)
