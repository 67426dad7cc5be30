"""Embedding lookup (rows of a weight matrix picked by integer indices) and its VJP.

The VJP is a scatter-add into a zero matrix (``embedding_backward``), an op whose own
VJP is the lookup again, so the pair is differentiable to any order. As in PyTorch,
the row at ``padding_idx`` receives no gradient.
"""
import numpy as np

from autograd.extend import Op, functions, register


def _check_indices(indices, num_embeddings, op):
    indices = np.asarray(indices)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be integers, got dtype {indices.dtype}")
    # Negative indices are refused, as PyTorch refuses them (no wrap-around lookup).
    if indices.size and (indices.min() < 0 or indices.max() >= num_embeddings):
        bad = indices.min() if indices.min() < 0 else indices.max()
        raise IndexError(f"{op}: index {int(bad)} is out of range for {num_embeddings} "
                         f"embeddings (expected 0 <= index < {num_embeddings})")
    return indices


def _padding_mask(indices, padding_idx, num_embeddings, dtype):
    """1 where an index is not the padding row, 0 where it is (None without padding)."""
    if padding_idx is None:
        return None
    return (indices % num_embeddings != padding_idx % num_embeddings).astype(dtype)[..., None]


def _embedding_sample(strategies):
    st = strategies.st

    @st.composite
    def draw(draw):
        rows, dim = draw(st.integers(2, 5)), draw(st.integers(1, 3))
        index_shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)))
        padding_idx = draw(st.one_of(st.none(), st.integers(0, rows - 1)))
        # The padding row gets no gradient by definition, which finite differences of
        # the lookup would contradict; so it is declared but never looked up here.
        rows_used = st.integers(0, rows - 1).filter(lambda row: row != padding_idx)
        indices = draw(strategies.hnp.arrays(np.int64, index_shape, elements=rows_used))
        return (indices, draw(strategies.arrays((rows, dim)))), dict(padding_idx=padding_idx)
    return draw()


@register("embedding", sample=_embedding_sample,
          torch=lambda torch, indices, weight, padding_idx=None:
              torch.nn.functional.embedding(indices, weight, padding_idx))
class Embedding(Op):
    """Rows of ``weight`` (num_embeddings, dim) at integer ``indices`` (any shape):
    output shape indices.shape + (dim,)."""

    def forward(self, indices, weight, *, padding_idx=None):
        weight = np.asarray(weight)
        if weight.ndim != 2:
            raise ValueError(f"embedding: expected a 2-d weight (num_embeddings, dim), "
                             f"got shape {weight.shape}")
        self.indices = _check_indices(indices, weight.shape[0], "embedding")
        self.padding_idx = padding_idx
        return np.take(weight, self.indices, axis=0)

    def vjp(self, g, out, indices, weight):
        return None, embedding_backward(g, indices=self.indices, num_weights=len(weight),
                                        padding_idx=self.padding_idx)


def _backward_sample(strategies):
    def to_case(case):
        (indices, weight), params = case
        return strategies.arrays(indices.shape + weight.shape[1:]).map(
            lambda g: ((g,), dict(params, indices=indices, num_weights=weight.shape[0])))
    return _embedding_sample(strategies).flatmap(to_case)


def _torch_backward(torch, g, *, indices, num_weights, padding_idx=None):
    return torch.ops.aten.embedding_dense_backward(
        g, torch.as_tensor(indices), num_weights, -1 if padding_idx is None else padding_idx, False)


@register("embedding_backward", sample=_backward_sample, torch=_torch_backward)
class EmbeddingBackward(Op):
    """Scatter-add g (indices.shape + (dim,)) into a zero (num_weights, dim) matrix;
    repeated indices accumulate, the padding row stays zero."""

    def forward(self, g, *, indices, num_weights, padding_idx=None):
        g = np.asarray(g)
        indices = _check_indices(indices, num_weights, "embedding_backward")
        if g.shape[:-1] != indices.shape:
            raise ValueError(f"embedding_backward: expected a gradient of shape "
                             f"{indices.shape} + (dim,), got {g.shape}")
        self.indices, self.num_weights, self.padding_idx = indices, num_weights, padding_idx
        grad = np.zeros((num_weights, g.shape[-1]), dtype=g.dtype)
        np.add.at(grad, indices.reshape(-1), g.reshape(-1, g.shape[-1]))
        if padding_idx is not None:
            grad[padding_idx] = 0
        return grad

    def vjp(self, u, out, g):
        picked = embedding(self.indices, u)
        mask = _padding_mask(self.indices, self.padding_idx, self.num_weights, picked.dtype)
        return (picked if mask is None else picked * mask,)


embedding, embedding_backward = functions("embedding", "embedding_backward")
