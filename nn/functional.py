"""Functional forms of the layers and activations (``import nn.functional as F``).

Signatures and defaults are PyTorch's (``dim`` for axes, ``training`` flags), so code
written against ``torch.nn.functional`` reads the same here. The per-step hot paths
(linear, batch_norm, leaky_relu) call ``apply`` on their op directly, skipping the
argument parsing of the registered public function. The loss functions are defined in
``nn.losses`` and re-exported at the end of this file.
"""
import functools
import inspect

import numpy as np

import autograd
from autograd import Tensor

from autograd.extend import apply

from . import init
from .data.encoding import one_hot as _encode_one_hot
from .ops.attention import ScaledDotProductAttention as _AttentionOp
from .ops.activation import LeakyRelu as _LeakyReluOp, gelu as _gelu, silu as _silu
from .ops.conv import conv2d as _conv2d
from .ops.embedding import embedding as _embedding
from .ops.linear import Linear as _LinearOp
from .ops.normalization import BatchNorm as _BatchNormOp, layer_norm as _layer_norm
from .ops.pooling import avg_pool2d as _avg_pool2d, max_pool2d as _max_pool2d
from .ops.unfold import fold as _fold, unfold as _unfold
from .validation import normalize_dim

__all__ = ["relu", "leaky_relu", "silu", "gelu", "sigmoid", "tanh", "softmax", "log_softmax",
           "softplus", "identity", "linear", "conv2d", "max_pool2d", "avg_pool2d", "unfold",
           "fold", "dropout", "batch_norm", "layer_norm", "embedding", "flatten", "one_hot",
           "scaled_dot_product_attention"]

# NumPy's names for PyTorch's arguments: accepted by every function here that takes the
# PyTorch one, so that ``F.softmax(x, axis=1)`` works as ``x.softmax(axis=1)`` does.
NUMPY_ARGUMENT_NAMES = {"axis": "dim", "keepdims": "keepdim"}


def accepts_numpy_names(function):
    """Let ``function`` (PyTorch argument names) also take their NumPy spellings
    (``axis=`` for ``dim=``, ``keepdims=`` for ``keepdim=``); giving both is a TypeError."""
    parameters = inspect.signature(function).parameters
    aliases = {numpy: torch for numpy, torch in NUMPY_ARGUMENT_NAMES.items() if torch in parameters}
    if not aliases:
        return function

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        for numpy_name, torch_name in aliases.items():
            if numpy_name in kwargs:
                if torch_name in kwargs:
                    raise TypeError(f"{function.__name__}: got both {torch_name}= and "
                                    f"{numpy_name}= (the same argument); pass one")
                kwargs[torch_name] = kwargs.pop(numpy_name)
        return function(*args, **kwargs)
    return wrapper


def _array(value):
    """The ndarray behind a Tensor (running statistics are state, not graph inputs)."""
    return value.data if isinstance(value, Tensor) else value


# --- activations ---------------------------------------------------------------------------
def relu(input):
    """max(x, 0)."""
    return autograd.relu(input)


def leaky_relu(input, negative_slope=0.01):
    """x for x > 0, else negative_slope * x."""
    return apply(_LeakyReluOp, (input,), {"negative_slope": negative_slope})


def silu(input):
    """x * sigmoid(x)."""
    return _silu(input)


def gelu(input, approximate="none"):
    """x * Phi(x) (``approximate="tanh"``: PyTorch's tanh approximation)."""
    return _gelu(input, approximate=approximate)


def sigmoid(input):
    """1 / (1 + exp(-x))."""
    return autograd.sigmoid(input)


def tanh(input):
    """Hyperbolic tangent."""
    return autograd.tanh(input)


def softplus(input):
    """log(1 + exp(x))."""
    return autograd.softplus(input)


def identity(input):
    """The input itself."""
    return input


def implicit_softmax_dim(ndim):
    """PyTorch's legacy choice when ``dim`` is not given: 0 for 0-, 1- and 3-d inputs, else 1."""
    return 0 if ndim in (0, 1, 3) else 1


@accepts_numpy_names
def softmax(input, dim=None):
    """exp(x) / sum(exp(x)) along ``dim`` (PyTorch's implicit choice when None)."""
    dim = implicit_softmax_dim(np.ndim(_array(input))) if dim is None else dim
    return autograd.softmax(input, axis=dim)


@accepts_numpy_names
def log_softmax(input, dim=None):
    """x - logsumexp(x) along ``dim`` (PyTorch's implicit choice when None)."""
    dim = implicit_softmax_dim(np.ndim(_array(input))) if dim is None else dim
    return autograd.log_softmax(input, axis=dim)


# --- layers --------------------------------------------------------------------------------
def linear(input, weight, bias=None):
    """input @ weight.T + bias; weight (out, in), bias (out,) or None."""
    return apply(_LinearOp, (input, weight, bias))


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d cross-correlation, NCHW (see ``nn.Conv2d``). A 3-d (C, H, W) input is one sample."""
    if np.ndim(_array(input)) == 3:
        return _conv2d(input[None], weight, bias, stride=stride, padding=padding,
                       dilation=dilation, groups=groups)[0]
    return _conv2d(input, weight, bias, stride=stride, padding=padding, dilation=dilation,
                   groups=groups)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Maximum over each window; stride defaults to kernel_size."""
    return _max_pool2d(input, kernel_size=kernel_size, stride=stride, padding=padding,
                       dilation=dilation, ceil_mode=ceil_mode)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over each window; stride defaults to kernel_size."""
    return _avg_pool2d(input, kernel_size=kernel_size, stride=stride, padding=padding,
                       ceil_mode=ceil_mode, count_include_pad=count_include_pad,
                       divisor_override=divisor_override)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding windows as columns: (N, C, H, W) -> (N, C*kh*kw, L)."""
    return _unfold(input, kernel_size=kernel_size, dilation=dilation, padding=padding,
                   stride=stride)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Columns back to an image, overlapping values summed: (N, C*kh*kw, L) -> (N, C, H, W)."""
    return _fold(input, output_size=output_size, kernel_size=kernel_size, dilation=dilation,
                 padding=padding, stride=stride)


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dimensions ``start_dim..end_dim`` into one."""
    shape = np.shape(_array(input))
    ndim = len(shape)
    # Dims are checked as PyTorch checks them: a 0-d input counts as 1-d.
    start = normalize_dim("flatten", "start_dim", start_dim, ndim)
    end = normalize_dim("flatten", "end_dim", end_dim, ndim)
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                         f"for a {ndim}-d input")
    if ndim == 0:
        return input.reshape(1)
    return input.reshape(shape[:start] + (-1,) + shape[end + 1:])


def one_hot(tensor, num_classes=-1):
    """PyTorch's ``F.one_hot``: int64 rows with a 1 in each label's column, shape
    ``tensor.shape + (num_classes,)``; ``num_classes=-1`` takes ``max(tensor) + 1``.
    For float rows (e.g. as targets) use ``nn.data.one_hot(labels, dtype=...)``."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) \
            or num_classes < -1:
        raise ValueError(f"one_hot: num_classes must be -1 or a non-negative integer, "
                         f"got {num_classes!r}")
    classes = None if num_classes == -1 else int(num_classes)
    encoded = _encode_one_hot(tensor, classes, dtype=np.int64)
    return encoded if isinstance(encoded, Tensor) else Tensor(encoded)


def dropout(input, p=0.5, training=True, inplace=False):
    """Inverted dropout: zero each element with probability ``p`` and scale the rest by
    1 / (1 - p), so the expected value is unchanged; the identity when not training.
    The mask comes from the seeded default generator (``nn.manual_seed``). ``inplace`` is
    accepted for PyTorch compatibility; the result is always a new tensor."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    p = float(p)  # a NumPy float64 p must not promote float32 data
    if not training or p == 0.0:
        return input
    shape = np.shape(_array(input))
    dtype = np.result_type(_array(input).dtype, np.float32)
    if p == 1.0:
        scaled_mask = np.zeros(shape, dtype=dtype)
    else:
        keep = init.default_generator().random(shape, dtype=np.float32) < 1.0 - p
        scaled_mask = keep.astype(dtype) * (1.0 / (1.0 - p))
    return input * scaled_mask


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalisation over every axis but 1, PyTorch's signature and semantics:
    with ``training`` the batch statistics are used and the running ones (if given) are
    updated in place; otherwise the running statistics are used."""
    return apply(_BatchNormOp, (input, weight, bias), {
        "running_mean": _array(running_mean), "running_var": _array(running_var),
        "training": training, "momentum": momentum, "eps": eps})


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing ``normalized_shape`` dimensions of each sample."""
    if isinstance(normalized_shape, (int, np.integer)):
        normalized_shape = (int(normalized_shape),)
    return _layer_norm(input, weight, bias, normalized_shape=tuple(normalized_shape), eps=eps)


def embedding(input, weight, padding_idx=None):
    """Rows of ``weight`` at the integer indices ``input``; the ``padding_idx`` row gets
    no gradient."""
    if padding_idx is not None:
        rows = np.shape(_array(weight))[0]
        if not -rows <= padding_idx < rows:
            raise ValueError(f"embedding: padding_idx {padding_idx} is out of range for "
                             f"{rows} embeddings")
        padding_idx %= rows
    return _embedding(_array(input), weight, padding_idx=padding_idx)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None):
    """softmax(query @ key^T * scale + mask) @ value as one op (PyTorch's signature).

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev), batch
    dimensions broadcasting. ``attn_mask`` broadcasts to (..., L, S): a boolean mask keeps
    the positions where it is True, a float mask is added to the scores. ``is_causal``
    lets query i see keys 0..i (then no ``attn_mask``). ``scale`` defaults to
    1 / sqrt(E). ``dropout_p`` drops attention weights (always, as PyTorch: pass 0.0
    in evaluation). A query whose keys are all masked out gets a zero output row.
    """
    return apply(_AttentionOp, (query, key, value, attn_mask),
                 {"is_causal": is_causal, "dropout_p": float(dropout_p), "scale": scale})


# Last, so that nn.losses may import from this module without a cycle.
from .losses import (binary_cross_entropy, binary_cross_entropy_with_logits,  # noqa: E402
                     cross_entropy, huber_loss, l1_loss, mse_loss, nll_loss)

__all__ += ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
            "huber_loss", "l1_loss", "mse_loss", "nll_loss"]
