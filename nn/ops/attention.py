"""Scaled dot-product attention as one op: softmax(q k^T * scale + mask) v.

One graph node per attention call instead of the matmul/scale/mask/softmax/dropout/
matmul chain a composite records. With P the attention probabilities, W = P * D the
weights after the dropout mask D (1 / (1 - p) where kept, 0 where dropped) and
out = W v, the VJP is

    dv = W^T g,    dP = (g v^T) * D,    dS = P * (dP - sum(dP * P, axis=-1)),
    dq = dS k * scale,    dk = dS^T q * scale,    d(float mask) = dS

written with operators and registered functions, so that under ``create_graph=True``
it records a graph (P recomputed from q and k as one) and second derivatives are exact.

Masks follow PyTorch: a boolean ``attn_mask`` keeps the positions where it is True, a
float mask is added to the scores. A row whose every position is masked out gives
zero weights (and a zero output row), as PyTorch does, instead of the NaN of 0/0.
"""
import math

import numpy as np

from autograd import Tensor
from autograd.extend import Op, functions, register, value_of

from .. import init

_NAME = "scaled_dot_product_attention"


def _check_inputs(query, key, value, attn_mask, dropout_p):
    """Raise ValueError/TypeError naming the argument unless the shapes fit together;
    returns the shape of the attention scores (batch..., L, S)."""
    for label, array in (("query", query), ("key", key), ("value", value)):
        if np.ndim(array) < 2:
            raise ValueError(f"{_NAME}: expected {label} of shape (..., sequence, features), "
                             f"got shape {np.shape(array)}")
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(f"{_NAME}: query and key need the same last dimension, got query "
                         f"{query.shape} and key {key.shape}")
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(f"{_NAME}: key and value need the same sequence length (dimension "
                         f"-2), got key {key.shape} and value {value.shape}")
    try:
        batch = np.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    except ValueError:
        raise ValueError(f"{_NAME}: the batch dimensions of query {query.shape}, key "
                         f"{key.shape} and value {value.shape} cannot be broadcast "
                         f"together") from None
    scores_shape = batch + (query.shape[-2], key.shape[-2])
    if attn_mask is not None:
        if attn_mask.dtype != np.bool_ and attn_mask.dtype.kind != "f":
            raise TypeError(f"{_NAME}: expected a boolean or floating attn_mask, got dtype "
                            f"{attn_mask.dtype}")
        try:
            fits = np.broadcast_shapes(attn_mask.shape, scores_shape) == scores_shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"{_NAME}: attn_mask of shape {attn_mask.shape} does not "
                             f"broadcast to the attention scores' shape {scores_shape} "
                             f"(batch..., query length, key length)")
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"{_NAME}: dropout_p must be in [0, 1), got {dropout_p}")
    return scores_shape


def _masked_probabilities(scores, valid, fill, nonempty_rows):
    """softmax(scores) over the last axis where ``valid``; masked positions get weight 0,
    and rows with no valid position (``fill`` 0 there keeps softmax finite) are zeroed by
    ``nonempty_rows``. On ndarrays or Tensors alike."""
    softmax, where = functions("softmax", "where")
    if valid is not None:
        scores = where(valid, scores, fill)
    probabilities = softmax(scores, axis=-1)
    return probabilities if nonempty_rows is None else probabilities * nonempty_rows


def _sample(strategies):
    st = strategies.st

    @st.composite
    def draw(draw):
        batch = tuple(draw(st.lists(st.integers(1, 2), max_size=2)))
        length, source = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        features, value_features = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        query = draw(strategies.arrays(batch + (length, features)))
        key = draw(strategies.arrays(batch + (source, features)))
        value = draw(strategies.arrays(batch + (source, value_features)))
        kind = draw(st.sampled_from(["none", "causal", "bool", "float"]))
        # The mask broadcasts from (length, source) or carries the full batch shape.
        mask_shape = draw(st.sampled_from([(length, source), batch + (length, source)]))
        mask = None
        if kind == "bool":
            mask = draw(strategies.hnp.arrays(np.bool_, mask_shape))
        elif kind == "float":
            mask = draw(strategies.arrays(mask_shape))
        scale = draw(st.one_of(st.none(), st.floats(0.1, 2.0)))
        return (query, key, value, mask), dict(is_causal=kind == "causal", scale=scale)
    return draw()


def _torch_attention(torch, query, key, value, attn_mask=None, **params):
    return torch.nn.functional.scaled_dot_product_attention(query, key, value,
                                                            attn_mask=attn_mask, **params)


@register(_NAME, sample=_sample, torch=_torch_attention)
class ScaledDotProductAttention(Op):
    """softmax(query @ key^T * scale + mask) @ value, with dropout on the weights.

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev); batch
    dimensions broadcast. ``attn_mask`` broadcasts to (..., L, S): boolean keeps where
    True, float is added. ``is_causal`` keeps key j for query i when j <= i (no
    ``attn_mask`` then). ``scale`` defaults to 1 / sqrt(E). ``dropout_p`` drops weights
    with the seeded default generator (``nn.manual_seed``).
    """

    def forward(self, query, key, value, attn_mask=None, *, is_causal=False, dropout_p=0.0,
                scale=None):
        query, key, value = np.asarray(query), np.asarray(key), np.asarray(value)
        if attn_mask is not None:
            attn_mask = np.asarray(attn_mask)
            if is_causal:
                raise ValueError(f"{_NAME}: pass either attn_mask or is_causal=True, not both")
        _check_inputs(query, key, value, attn_mask, dropout_p)
        length, source = query.shape[-2], key.shape[-2]
        self.scale = scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
        scores = np.matmul(query, np.swapaxes(key, -1, -2))
        scores *= scale
        keep = None
        if is_causal:
            keep = np.tri(length, source, dtype=bool)
        elif attn_mask is not None and attn_mask.dtype == np.bool_:
            keep = attn_mask
        elif attn_mask is not None:
            scores = scores + attn_mask  # may broadcast scores up
        self.valid, self.fill, self.nonempty_rows = self._mask_constants(scores, keep)
        probabilities = _masked_probabilities(scores, self.valid, self.fill, self.nonempty_rows)
        self.probabilities, self.dropout_mask = probabilities, None
        weights = probabilities
        if dropout_p > 0.0:
            kept = init.default_generator().random(probabilities.shape) < 1.0 - dropout_p
            self.dropout_mask = kept.astype(probabilities.dtype) * (1.0 / (1.0 - dropout_p))
            weights = probabilities * self.dropout_mask
        return np.matmul(weights, value)

    @staticmethod
    def _mask_constants(scores, keep):
        """(valid, fill, nonempty_rows): where the scores count, what masked positions
        become (-inf, or 0 across a row with nothing valid) and the 0/1 row factor
        (None when every row has a valid position). -inf scores from a float mask count
        as masked, so an all -inf row gives zeros too."""
        valid = scores > -np.inf
        if keep is not None:
            valid &= keep
        if valid.all():
            return None, None, None
        dtype = scores.dtype
        nonempty = valid.any(axis=-1, keepdims=True)
        if nonempty.all():
            return valid, np.array(-np.inf, dtype=dtype), None
        fill = np.where(nonempty, np.array(-np.inf, dtype=dtype), np.array(0.0, dtype=dtype))
        return valid, fill, nonempty.astype(dtype)

    def vjp(self, g, out, query, key, value, attn_mask):
        needs_query, needs_key, needs_value, needs_mask = self.needs_grad
        scale = self.scale
        if isinstance(g, Tensor):  # create_graph: P as a graph of query, key (and the mask)
            scores = (query @ key.swapaxes(-1, -2)) * scale
            if attn_mask is not None and value_of(attn_mask).dtype != np.bool_:
                scores = scores + attn_mask
            probabilities = _masked_probabilities(scores, self.valid, self.fill,
                                                  self.nonempty_rows)
        else:
            probabilities = self.probabilities
        dropout_mask = self.dropout_mask
        weights = probabilities if dropout_mask is None else probabilities * dropout_mask
        grad_query = grad_key = grad_value = grad_mask = None
        if needs_value:
            grad_value = weights.swapaxes(-1, -2) @ g
        if needs_query or needs_key or needs_mask:
            grad_weights = g @ value.swapaxes(-1, -2)
            if dropout_mask is not None:
                grad_weights = grad_weights * dropout_mask
            grad_scores = probabilities * (
                grad_weights - (grad_weights * probabilities).sum(axis=-1, keepdims=True))
            if needs_mask:
                grad_mask = grad_scores
            if needs_query:
                grad_query = (grad_scores @ key) * scale
            if needs_key:
                grad_key = (grad_scores.swapaxes(-1, -2) @ query) * scale
        return grad_query, grad_key, grad_value, grad_mask


(scaled_dot_product_attention,) = functions(_NAME)
