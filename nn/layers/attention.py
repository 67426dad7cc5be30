"""MultiheadAttention with PyTorch's parameters, masks and return values."""
import math

import numpy as np

import autograd
from autograd import Tensor, get_default_dtype

from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from .linear import Linear, check_dtype, input_shape


def _mask_array(mask):
    return mask.data if isinstance(mask, Tensor) else np.asarray(mask)


def _additive(mask, dtype):
    """A mask as a float to add to the scores: a boolean one (True = masked out) becomes
    -inf there and 0 elsewhere; a float one stays (a Tensor keeps its graph)."""
    if _mask_array(mask).dtype == np.bool_:
        return np.where(_mask_array(mask), np.array(-np.inf, dtype=dtype), np.array(0.0, dtype))
    return mask


class MultiheadAttention(Module):
    """Attention over ``num_heads`` heads of ``embed_dim // num_heads`` features each.

    Parameters as PyTorch's: ``in_proj_weight`` (3 * embed_dim, embed_dim) stacking the
    query, key and value projections (or ``q_proj_weight``, ``k_proj_weight``,
    ``v_proj_weight`` when ``kdim``/``vdim`` differ from ``embed_dim``), ``in_proj_bias``
    (3 * embed_dim,) and ``out_proj`` (a Linear). Inputs are (L, N, E) or, with
    ``batch_first``, (N, L, E); unbatched (L, E) works too.

    ``forward(query, key, value, key_padding_mask=None, need_weights=True,
    attn_mask=None, average_attn_weights=True, is_causal=False)`` returns
    ``(output, weights)``; the masks use PyTorch's convention (boolean True = may NOT
    attend; float = added to the scores): ``key_padding_mask`` (N, S), ``attn_mask``
    (L, S) or (N * num_heads, L, S). ``weights`` are averaged over the heads unless
    ``average_attn_weights=False``, and None when ``need_weights=False`` (then the
    fused ``F.scaled_dot_product_attention`` op computes the output). ``is_causal`` is
    PyTorch's hint that ``attn_mask`` is the causal mask; the mask is still required.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, kdim=None, vdim=None,
                 batch_first=False, dtype=None):
        super().__init__()
        embed_dim, num_heads = int(embed_dim), int(num_heads)
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be positive, "
                             f"got embed_dim={embed_dim} and num_heads={num_heads}")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim {embed_dim} must be divisible by "
                             f"num_heads {num_heads}")
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.kdim = embed_dim if kdim is None else int(kdim)
        self.vdim = embed_dim if vdim is None else int(vdim)
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first = float(dropout), batch_first
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), dtype=dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.register_parameter("in_proj_weight", None)
            self.q_proj_weight = Parameter(np.empty((embed_dim, embed_dim), dtype=dtype))
            self.k_proj_weight = Parameter(np.empty((embed_dim, self.kdim), dtype=dtype))
            self.v_proj_weight = Parameter(np.empty((embed_dim, self.vdim), dtype=dtype))
        if bias:
            self.in_proj_bias = Parameter(np.empty(3 * embed_dim, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        self._reset_parameters()

    def _reset_parameters(self):
        """PyTorch's: Xavier-uniform projections, zero biases (out_proj's weight keeps
        Linear's default)."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for weight in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    # --- checks ----------------------------------------------------------------------
    def _check_inputs(self, query, key, value):
        """(batched, N, L, S) after checking every shape; errors name the layer."""
        shapes = {name: input_shape(x) for name, x in (("query", query), ("key", key),
                                                       ("value", value))}
        rank = len(shapes["query"])
        if rank not in (2, 3) or any(len(shape) != rank for shape in shapes.values()):
            raise ValueError(f"{self._error_name()} expected query, key and value all 3-D "
                             f"(batched) or all 2-D (unbatched), got shapes "
                             f"{shapes['query']}, {shapes['key']} and {shapes['value']}")
        for name, size in (("query", self.embed_dim), ("key", self.kdim), ("value", self.vdim)):
            if shapes[name][-1] != size:
                raise ValueError(f"{self._error_name()} expected {name} with last dimension "
                                 f"{size}, got shape {shapes[name]}")
        layout = (lambda s: (s[0], s[1])) if self.batch_first else (lambda s: (s[1], s[0]))
        if rank == 2:
            layout = lambda s: (1, s[0])  # noqa: E731  (unbatched: one sequence)
        (batch, length), (key_batch, source), (value_batch, value_source) = (
            layout(shapes["query"]), layout(shapes["key"]), layout(shapes["value"]))
        if source != value_source or key_batch != value_batch:
            raise ValueError(f"{self._error_name()} expected key and value with the same batch "
                             f"size and sequence length, got key {shapes['key']} and value "
                             f"{shapes['value']}")
        if key_batch != batch:
            raise ValueError(f"{self._error_name()} expected query and key with the same batch "
                             f"size, got query {shapes['query']} and key {shapes['key']}")
        for x in (query, key, value):
            check_dtype(self, x, self.out_proj.weight)
        return rank == 3, batch, length, source

    def _check_mask(self, name, mask, expected):
        array = _mask_array(mask)
        if array.dtype != np.bool_ and array.dtype.kind != "f":
            raise TypeError(f"{self._error_name()} expected a boolean or floating {name}, "
                            f"got dtype {array.dtype}")
        if array.shape not in expected:
            wanted = " or ".join(str(shape) for shape in expected)
            raise ValueError(f"{self._error_name()} expected {name} of shape {wanted}, "
                             f"got shape {array.shape}")

    def _merged_mask(self, key_padding_mask, attn_mask, batched, batch, length, source, dtype):
        """Both masks as one that broadcasts to (N, heads, L, S), in the fused op's
        convention: boolean True = keep (when both are boolean), else a float to add."""
        masks = []
        if key_padding_mask is not None:
            self._check_mask("key_padding_mask", key_padding_mask,
                             [(batch, source)] if batched else [(source,)])
            masks.append(key_padding_mask.reshape(batch, 1, 1, source))
        if attn_mask is not None:
            heads = self.num_heads
            allowed = [(length, source), (batch * heads, length, source)]
            if not batched:
                allowed = [(length, source), (heads, length, source)]
            self._check_mask("attn_mask", attn_mask, allowed)
            if len(input_shape(attn_mask)) == 3:
                attn_mask = attn_mask.reshape(batch, heads, length, source)
            masks.append(attn_mask)
        if not masks:
            return None
        if all(_mask_array(mask).dtype == np.bool_ for mask in masks):
            keep = ~_mask_array(masks[0])
            for mask in masks[1:]:
                keep = keep & ~_mask_array(mask)
            return keep
        merged = _additive(masks[0], dtype)
        for mask in masks[1:]:
            merged = merged + _additive(mask, dtype)
        return merged

    # --- forward ---------------------------------------------------------------------
    def _project(self, query, key, value):
        """The query, key and value projections, each (N, L or S, embed_dim)."""
        bias = self.in_proj_bias
        size = self.embed_dim
        biases = (None, None, None) if bias is None else (
            bias[:size], bias[size:2 * size], bias[2 * size:])
        if self._qkv_same_embed_dim:
            if query is key and key is value:  # self-attention: one product for all three
                return autograd.split(F.linear(query, self.in_proj_weight, bias), 3, axis=-1)
            weight = self.in_proj_weight
            weights = (weight[:size], weight[size:2 * size], weight[2 * size:])
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        return tuple(F.linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases))

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        if is_causal and attn_mask is None:
            raise ValueError(f"{self._error_name()}: is_causal=True is a hint that attn_mask "
                             f"is the causal mask; pass the mask too (see "
                             f"nn.generate_square_subsequent_mask)")
        batched, batch, length, source = self._check_inputs(query, key, value)
        self_attention = query is key and key is value
        if not batched:
            query, key, value = (x.reshape((1,) + input_shape(x)) for x in (query, key, value))
        elif not self.batch_first:
            query, key, value = (x.swapaxes(0, 1) for x in (query, key, value))
        if self_attention:
            key = value = query
        dtype = self.out_proj.weight.dtype
        mask = self._merged_mask(key_padding_mask, attn_mask, batched, batch, length, source,
                                 dtype)
        heads, head_dim = self.num_heads, self.head_dim
        q, k, v = (x.reshape(batch, -1, heads, head_dim).transpose(0, 2, 1, 3)
                   for x in self._project(query, key, value))
        dropout = self.dropout if self.training else 0.0
        weights = None
        if need_weights:
            output, weights = self._explicit_attention(q, k, v, mask, dropout)
        else:
            output = F.scaled_dot_product_attention(q, k, v, mask, dropout_p=dropout)
        output = output.transpose(0, 2, 1, 3).reshape(batch, length, self.embed_dim)
        output = self.out_proj(output)
        if not batched:
            output = output.reshape(length, self.embed_dim)
        elif not self.batch_first:
            output = output.swapaxes(0, 1)
        if weights is not None:
            if average_attn_weights:
                weights = weights.mean(axis=1)
            if not batched:
                weights = weights.reshape(input_shape(weights)[1:])
        return output, weights

    def _explicit_attention(self, q, k, v, mask, dropout):
        """PyTorch's need_weights path: the weights as their own tensor (after dropout,
        as PyTorch returns them), then weights @ v."""
        scores = (q @ k.swapaxes(-1, -2)) * (1.0 / math.sqrt(self.head_dim))
        if mask is not None:
            if _mask_array(mask).dtype == np.bool_:
                scores = autograd.where(mask, scores, np.array(-np.inf, dtype=scores.dtype))
            else:
                scores = scores + mask
        weights = autograd.softmax(scores, axis=-1)
        weights = F.dropout(weights, dropout, training=dropout > 0.0)
        return weights @ v, weights

    def extra_repr(self):
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
                f"dropout={self.dropout}, batch_first={self.batch_first}")
