"""Fused loss ops: registered autograd ops where one op beats a chain of small ones.

``softmax_cross_entropy`` fuses log_softmax and the weighted sum of the negative
log-probabilities: one pass, no overflow for large logits, and a closed-form VJP
(``softmax * sum(target) - target``) instead of back-propagating through exp/log/sum.
``binary_cross_entropy`` follows PyTorch's clamped logs (never below -100) and its
gradient formula, so probabilities of exactly 0 or 1 give finite losses and gradients.
``binary_cross_entropy_with_logits`` keeps its gradient exact for large |logits|.

The VJPs are written with registered functions, so they also run on Tensors under
``create_graph=True`` (second derivatives work); saved forward values serve only a
plain backward, where everything is an ndarray.
"""
import numpy as np

from autograd import Tensor
from autograd.extend import (Op, apply, batch_elementwise, functions, logical_shape,
                             materialized, register, tangent_sum, value_of)

# PyTorch clamps log(p) and log(1 - p) at -100 in binary_cross_entropy, and divides
# its gradient by max(p * (1 - p), 1e-12).
LOG_CLAMP = -100.0
BCE_GRAD_EPSILON = 1e-12


def _same_shape_pair(st, low1=-3.0, high1=3.0, low2=-3.0, high2=3.0):
    """``((x, y), {})`` with x and y of one drawn shape: the registry's test hint."""
    return st.shapes(min_dims=1, max_dims=3).flatmap(
        lambda shape: st.st.tuples(st.arrays(shape, low=low1, high=high1),
                                   st.arrays(shape, low=low2, high=high2))
    ).map(lambda pair: (pair, {}))


def _log_softmax_last(logits):
    """log_softmax over the last axis from registered ops (differentiable on Tensors).

    The max shift is a constant: log_softmax does not depend on it mathematically,
    so it needs no gradient, it only keeps exp from overflowing.
    """
    data = logits.data if isinstance(logits, Tensor) else logits
    shifted = logits - np.max(data, axis=-1, keepdims=True)
    return shifted - log(sum(exp(shifted), axis=-1, keepdims=True))


def _softmax_cross_entropy_sample(st):
    """Logits and targets of one shape, per-row or summed with a scale."""
    options = st.st.sampled_from([{}, {"reduction": "sum"}, {"reduction": "sum", "scale": 0.25}])
    return st.st.tuples(_same_shape_pair(st, low2=0.0, high2=1.0), options).map(
        lambda drawn: (drawn[0][0], drawn[1]))


def _torch_softmax_cross_entropy(torch, logits, target, reduction="none", scale=1.0):
    rows = -(target * torch.log_softmax(logits, -1)).sum(-1)
    return rows if reduction == "none" else rows.sum() * scale


@register("softmax_cross_entropy", sample=_softmax_cross_entropy_sample,
          torch=_torch_softmax_cross_entropy)
class SoftmaxCrossEntropy(Op):
    """Cross-entropy ``-sum(target * log_softmax(logits), axis=-1)`` per row, or with
    ``reduction="sum"`` the sum over rows times ``scale`` (a mean is a sum scaled by
    1 / count).

    ``target`` has the logits' shape: one-hot rows (times class weights) for class
    labels, or class probabilities. Fused for speed and stability, the whole loss one
    graph node: d/dlogits = softmax * sum(target) - target, d/dtarget = -log_softmax.
    """
    def forward(self, logits, target, *, reduction="none", scale=1.0):
        if reduction not in ("none", "sum"):
            raise ValueError(f"softmax_cross_entropy: reduction must be 'none' or 'sum', "
                             f"got {reduction!r}")
        shifted = logits - np.max(logits, axis=-1, keepdims=True)
        softmax = np.exp(shifted)
        total = np.sum(softmax, axis=-1, keepdims=True)
        log_total = np.log(total)
        softmax /= total
        target_sum = np.sum(target, axis=-1, keepdims=True)
        # -sum(t * (shifted - log_total)) without forming log_softmax: for one-hot rows
        # this is exactly PyTorch's log_total - shifted[label].
        rows = (target_sum * log_total)[..., 0] - np.sum(target * shifted, axis=-1)
        self.shifted, self.log_total, self.softmax, self.target_sum = (
            shifted, log_total, softmax, target_sum)
        self.reduction, self.scale = reduction, scale
        if reduction == "none":
            return rows * scale if scale != 1.0 else rows
        return np.asarray(np.sum(rows) * scale, dtype=rows.dtype)

    def jvp(self, tangents, out, logits, target):
        t_logits, t_target = tangents
        log_probs = log_softmax(logits, axis=-1)
        rows = None
        if t_logits is not None:
            # d rows = sum(t_logits * (softmax * sum(target) - target))
            target_sum = sum(target, axis=-1, keepdims=True)
            rows = sum(t_logits * (exp(log_probs) * target_sum - target), axis=-1)
        if t_target is not None:
            rows = tangent_sum(rows, -sum(t_target * log_probs, axis=-1))
        scale = self.params.get("scale", 1.0)
        if self.params.get("reduction", "none") == "sum":
            rows = sum(rows)
        return rows * scale if scale != 1.0 else rows

    def batch_rule(op_cls, values, batched, params, size):
        rows = batch_elementwise(op_cls, values, batched,
                                 dict(params, reduction="none", scale=1.0), size)
        if params.get("reduction", "none") == "sum":
            rows = sum(rows, axis=tuple(range(1, rows.ndim)))
        scale = params.get("scale", 1.0)
        return rows * scale if scale != 1.0 else rows

    def vjp(self, g, out, logits, target):
        if isinstance(g, Tensor):
            # Saved values are constants; under create_graph recompute them from the
            # inputs so that the gradient is itself differentiable.
            log_probs = _log_softmax_last(logits)
            softmax, target_sum = exp(log_probs), sum(target, axis=-1, keepdims=True)
        else:
            log_probs = None
            softmax, target_sum = self.softmax, self.target_sum
        if self.scale != 1.0:
            g = g * self.scale
        if self.reduction == "none":
            g = g.reshape(g.shape + (1,))
        grad_logits = grad_target = None
        if self.needs_grad[0]:
            grad_logits = g * (softmax * target_sum - target)
        if self.needs_grad[1]:
            if log_probs is None:
                log_probs = self.shifted - self.log_total
            grad_target = -g * log_probs
        return grad_logits, grad_target


def _labels_sample(st):
    """Logits (rows, classes) and integer labels, per-row or summed with a scale."""
    @st.st.composite
    def draw(draw):
        rows, classes = draw(st.st.integers(1, 4)), draw(st.st.integers(1, 5))
        logits = draw(st.arrays((rows, classes)))
        labels = draw(st.hnp.arrays(np.int64, (rows,), elements=st.st.integers(0, classes - 1)))
        options = draw(st.st.sampled_from([{}, {"reduction": "sum"},
                                           {"reduction": "sum", "scale": 0.25}]))
        return (logits, labels), options
    return draw()


def _torch_labels_cross_entropy(torch, logits, labels, reduction="none", scale=1.0):
    return torch.nn.functional.cross_entropy(logits, labels, reduction=reduction) * scale


@register("softmax_cross_entropy_labels", sample=_labels_sample,
          torch=_torch_labels_cross_entropy)
class SoftmaxCrossEntropyLabels(Op):
    """``softmax_cross_entropy`` for integer class ``labels`` (one per row of ``logits``,
    shape (M, C), each in [0, C)): ``logsumexp(row) - row[label]``, per row or summed
    times ``scale``. The same numbers as one-hot targets, without building them:
    the loss picks one logit per row and d/dlogits = softmax - one_hot(label).
    """
    def forward(self, logits, labels, *, reduction="none", scale=1.0):
        if reduction not in ("none", "sum"):
            raise ValueError(f"softmax_cross_entropy_labels: reduction must be 'none' or "
                             f"'sum', got {reduction!r}")
        shifted = logits - np.maximum.reduce(logits, axis=-1, keepdims=True)
        softmax = np.exp(shifted)
        total = np.add.reduce(softmax, axis=-1, keepdims=True)
        softmax /= total
        picked = np.arange(len(labels)), labels
        rows = np.log(total[:, 0]) - shifted[picked]
        # The forward needs no softmax: it becomes d rows / d logits in place, which
        # leaves the VJP a single product.
        softmax[picked] -= 1
        self.softmax_minus_one_hot = softmax
        self.reduction, self.scale = reduction, scale
        if reduction == "none":
            return rows * scale if scale != 1.0 else rows
        return np.asarray(np.add.reduce(rows) * scale, dtype=rows.dtype)

    def jvp(self, tangents, out, logits, labels):
        t_logits = tangents[0]
        if t_logits is None:
            return None
        # d rows = sum(t_logits * (softmax - one_hot(label)), axis=-1)
        one_hot = np.eye(logits.shape[-1], dtype=logits.dtype)[value_of(labels)]
        rows = sum(t_logits * (exp(log_softmax(logits, axis=-1)) - one_hot), axis=-1)
        scale = self.params.get("scale", 1.0)
        if self.params.get("reduction", "none") == "sum":
            rows = sum(rows)
        return rows * scale if scale != 1.0 else rows

    def batch_rule(op_cls, values, batched, params, size):
        # Fold the vmap batch into the rows: (B, M, C) logits and (B, M) labels become
        # (B * M, C) and (B * M,), one call, then the rows are regrouped per element.
        logits, labels = (value if is_batched else materialized(value, size)
                          for value, is_batched in zip(values, batched))
        batch, count, classes = logical_shape(logits)
        rows = apply(op_cls, (reshape(logits, (batch * count, classes)), reshape(labels, (-1,))),
                     dict(params, reduction="none", scale=1.0))
        rows = reshape(rows, (batch, count))
        if params.get("reduction", "none") == "sum":
            rows = sum(rows, axis=1)
        scale = params.get("scale", 1.0)
        return rows * scale if scale != 1.0 else rows

    def vjp(self, g, out, logits, labels):
        if not self.needs_grad[0]:
            return None, None
        if self.scale != 1.0:
            g = g * self.scale
        if self.reduction == "none":
            g = g.reshape(g.shape + (1,))
        if isinstance(g, Tensor):
            # Under create_graph the softmax must be a differentiable function of logits.
            one_hot = np.eye(logits.shape[-1], dtype=logits.dtype)[value_of(labels)]
            return g * (exp(_log_softmax_last(logits)) - one_hot), None
        return g * self.softmax_minus_one_hot, None


@register("binary_cross_entropy",
          sample=lambda st: _same_shape_pair(st, low1=0.05, high1=0.95, low2=0.0, high2=1.0),
          torch=lambda torch, probs, target:
              torch.nn.functional.binary_cross_entropy(probs, target, reduction="none"))
class BinaryCrossEntropy(Op):
    """Elementwise ``-(target * log(p) + (1 - target) * log(1 - p))``, PyTorch's way.

    Both logs are clamped at -100, so p = 0 or 1 gives a finite loss; the gradient is
    ``(p - target) / max(p * (1 - p), 1e-12)`` as in PyTorch, and d/dtarget = -logit(p).
    """
    def forward(self, probs, target):
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(probs), LOG_CLAMP)
            log_not_p = np.maximum(np.log1p(-probs), LOG_CLAMP)
        return (target - 1) * log_not_p - target * log_p

    def jvp(self, tangents, out, probs, target):
        t_probs, t_target = tangents
        by_probs = by_target = None
        if t_probs is not None:
            by_probs = t_probs * (probs - target) / maximum((1 - probs) * probs, BCE_GRAD_EPSILON)
        if t_target is not None:
            by_target = t_target * (log1p(-probs) - log(probs))
        return tangent_sum(by_probs, by_target)

    batch_rule = batch_elementwise

    def vjp(self, g, out, probs, target):
        grad_probs = grad_target = None
        if self.needs_grad[0]:
            grad_probs = g * (probs - target) / maximum((1 - probs) * probs, BCE_GRAD_EPSILON)
        if self.needs_grad[1]:
            with np.errstate(divide="ignore"):
                grad_target = g * (log1p(-probs) - log(probs))
        return grad_probs, grad_target


def _logits_target_pos_weight(st):
    """``((logits, target, pos_weight), {})`` of one shape, pos_weight positive."""
    return st.shapes(min_dims=1, max_dims=3).flatmap(
        lambda shape: st.st.tuples(st.arrays(shape, low=-6.0, high=6.0),
                                   st.arrays(shape, low=0.0, high=1.0),
                                   st.arrays(shape, low=0.2, high=3.0))
    ).map(lambda args: (args, {}))


@register("binary_cross_entropy_with_logits", sample=_logits_target_pos_weight,
          # PyTorch's own formula (Loss.cpp): F.binary_cross_entropy_with_logits itself
          # refuses a gradient for pos_weight, which this op provides.
          torch=lambda torch, logits, target, pos_weight:
              (1 - target) * logits - (1 + (pos_weight - 1) * target)
              * torch.nn.functional.logsigmoid(logits))
class BinaryCrossEntropyWithLogits(Op):
    """Elementwise ``-(pos_weight * t * log(sigmoid(x)) + (1 - t) * log(1 - sigmoid(x)))``.

    Computed as ``(1 - t) * x + (1 + (pos_weight - 1) * t) * softplus(-x)``, which
    never overflows (PyTorch's formula). Fused so that the gradient is the exact
    ``(1 + (pos_weight - 1) * t) * sigmoid(x) - pos_weight * t`` rather than a
    difference of two near-equal terms, which loses all digits for large |x|.
    """
    def forward(self, logits, target, pos_weight):
        softplus_neg = np.maximum(-logits, 0) + np.log1p(np.exp(-np.abs(logits)))
        self.softplus_neg = softplus_neg
        return (1 - target) * logits + (1 + (pos_weight - 1) * target) * softplus_neg

    def jvp(self, tangents, out, logits, target, pos_weight):
        t_logits, t_target, t_pos_weight = tangents
        softplus_neg = softplus(-logits)
        terms = []
        if t_logits is not None:
            log_weight = 1 + (pos_weight - 1) * target
            terms.append(t_logits * (log_weight * sigmoid(logits) - pos_weight * target))
        if t_target is not None:
            terms.append(t_target * ((pos_weight - 1) * softplus_neg - logits))
        if t_pos_weight is not None:
            terms.append(t_pos_weight * target * softplus_neg)
        return tangent_sum(*terms)

    batch_rule = batch_elementwise

    def vjp(self, g, out, logits, target, pos_weight):
        softplus_neg = softplus(-logits) if isinstance(g, Tensor) else self.softplus_neg
        grad_logits = grad_target = grad_pos_weight = None
        if self.needs_grad[0]:
            log_weight = 1 + (pos_weight - 1) * target
            grad_logits = g * (log_weight * sigmoid(logits) - pos_weight * target)
        if self.needs_grad[1]:
            grad_target = g * ((pos_weight - 1) * softplus_neg - logits)
        if self.needs_grad[2]:
            grad_pos_weight = g * target * softplus_neg
        return grad_logits, grad_target, grad_pos_weight


(softmax_cross_entropy, softmax_cross_entropy_labels, binary_cross_entropy,
 binary_cross_entropy_with_logits) = functions(
    "softmax_cross_entropy", "softmax_cross_entropy_labels", "binary_cross_entropy",
    "binary_cross_entropy_with_logits")
exp, log, log1p, sum, maximum, sigmoid, softplus, log_softmax, reshape = functions(
    "exp", "log", "log1p", "sum", "maximum", "sigmoid", "softplus", "log_softmax", "reshape")
