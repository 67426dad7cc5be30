"""Embedding: a lookup table of learnable vectors, indexed by integers."""
import numpy as np

from autograd import get_default_dtype

from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from ..validation import integer, positive_int
from .linear import input_shape


class Embedding(Module):
    """Rows of ``weight`` (num_embeddings, embedding_dim) picked by integer indices of any
    shape. The weight starts as N(0, 1), as PyTorch's; the ``padding_idx`` row starts at
    zero and receives no gradient."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, dtype=None):
        super().__init__()
        num_embeddings = positive_int("Embedding", "num_embeddings", num_embeddings)
        embedding_dim = positive_int("Embedding", "embedding_dim", embedding_dim)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None:
            padding_idx = integer("Embedding", "padding_idx", padding_idx)
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} must be within "
                                 f"num_embeddings ({num_embeddings})")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self):
        """Draw N(0, 1) weights again (the padding row zero)."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, indices):
        data = indices.data if hasattr(indices, "data") else np.asarray(indices)
        if np.asarray(data).dtype.kind not in "iu":
            raise TypeError(f"{self._error_name()} expected integer indices, got dtype "
                            f"{np.asarray(data).dtype} (shape {input_shape(indices)})")
        return F.embedding(data, self.weight, self.padding_idx)

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text
