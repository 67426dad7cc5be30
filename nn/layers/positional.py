"""Position information for attention, which by itself ignores order: fixed sinusoids
(Vaswani et al. 2017) or a learned vector per position (GPT). Both add to the input."""
import math

import numpy as np

from autograd import Tensor, get_default_dtype

from .. import init
from ..module import Module
from ..parameter import Parameter
from .linear import check_dtype, input_shape


def sinusoidal_table(max_len, embedding_dim, dtype=None):
    """(max_len, embedding_dim): sin(pos / 10000^(2i/d)) in even columns, cos in odd ones,
    as the PyTorch tutorial's PositionalEncoding."""
    dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
    position = np.arange(max_len, dtype=np.float64)[:, None]
    frequencies = np.exp(np.arange(0, embedding_dim, 2) * (-math.log(10000.0) / embedding_dim))
    table = np.zeros((max_len, embedding_dim))
    table[:, 0::2] = np.sin(position * frequencies)
    table[:, 1::2] = np.cos(position * frequencies[:embedding_dim // 2])
    return table.astype(dtype)


class _AddedPositions(Module):
    """Adds ``self._table()`` (max_len, embedding_dim) to inputs (L, N, E), (N, L, E) with
    ``batch_first``, or (L, E)."""

    def _positions(self, x):
        shape = input_shape(x)
        if len(shape) not in (2, 3) or shape[-1] != self.embedding_dim:
            raise ValueError(f"{self._error_name()} expected input of shape (L, N, "
                             f"{self.embedding_dim}), (N, L, {self.embedding_dim}) with "
                             f"batch_first, or (L, {self.embedding_dim}); got shape {shape}")
        length = shape[1] if self.batch_first and len(shape) == 3 else shape[0]
        if length > self.max_len:
            raise ValueError(f"{self._error_name()} holds {self.max_len} positions, got a "
                             f"sequence of {length} (input shape {shape})")
        check_dtype(self, x, self._table())
        table = self._table()[:length]
        if len(shape) == 3:
            table = table[None] if self.batch_first else table[:, None]
        return table

    def forward(self, x):
        return x + self._positions(x)

    def extra_repr(self):
        return (f"{self.max_len}, {self.embedding_dim}, batch_first={self.batch_first}")


class SinusoidalPositionalEncoding(_AddedPositions):
    """x + a fixed sinusoid per position (``sinusoidal_table``); no parameters, and the
    table is a non-persistent buffer (not in the state_dict)."""

    def __init__(self, embedding_dim, max_len=5000, batch_first=False, dtype=None):
        super().__init__()
        self.embedding_dim, self.max_len = int(embedding_dim), int(max_len)
        self.batch_first = batch_first
        self.register_buffer("table", Tensor(sinusoidal_table(self.max_len, self.embedding_dim,
                                                              dtype)), persistent=False)

    def _table(self):
        return self.table.data


class LearnedPositionalEmbedding(_AddedPositions):
    """x + a learned vector per position: ``weight`` (max_len, embedding_dim), started
    as N(0, 0.02^2) as GPT-2's position embeddings."""

    def __init__(self, max_len, embedding_dim, batch_first=False, dtype=None):
        super().__init__()
        self.embedding_dim, self.max_len = int(embedding_dim), int(max_len)
        self.batch_first = batch_first
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        self.weight = Parameter(np.empty((self.max_len, self.embedding_dim), dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self):
        """Draw N(0, 0.02^2) weights again."""
        init.normal_(self.weight, std=0.02)

    def _table(self):
        return self.weight
