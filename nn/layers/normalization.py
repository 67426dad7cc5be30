"""BatchNorm1d, BatchNorm2d and LayerNorm, with PyTorch's statistics and defaults."""
import numpy as np

from autograd import Tensor, get_default_dtype
from autograd.extend import apply

from .. import functional as F
from .. import init
from ..module import Module
from ..ops.normalization import BatchNorm as BatchNormOp
from ..parameter import Parameter
from ..validation import boolean, non_negative_float, positive_int, probability
from .linear import check_size, input_shape


class _BatchNorm(Module):
    """Shared by BatchNorm1d/2d: the subclasses differ only in the input ranks they accept.

    In training, each channel is normalised with the batch mean and biased variance, and
    the running statistics move towards the batch's with ``momentum`` (the variance
    unbiased): running = (1 - momentum) * running + momentum * batch. ``momentum=None``
    makes them a cumulative average (momentum = 1 / num_batches_tracked). In eval mode
    the running statistics are used. ``track_running_stats=False`` keeps none and always
    uses batch statistics. ``affine`` adds a per-channel weight and (unless ``bias=False``)
    a bias.
    """

    ranks = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, dtype=None, *, bias=True):
        super().__init__()
        owner = type(self).__name__
        num_features = positive_int(owner, "num_features", num_features)
        eps = non_negative_float(owner, "eps", eps)
        momentum = None if momentum is None else probability(owner, "momentum", momentum)
        affine = boolean(owner, "affine", affine)
        track_running_stats = boolean(owner, "track_running_stats", track_running_stats)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        if affine and bias:
            self.bias = Parameter(np.zeros(num_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.zeros((), dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def reset_parameters(self):
        """Running statistics reset, weight 1, bias 0."""
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x):
        shape = x.shape if isinstance(x, Tensor) else input_shape(x)
        if len(shape) not in self.ranks or shape[1] != self.num_features:
            self._reject(x, shape)
        buffers, parameters = self._buffers, self._parameters  # read once: this runs every step
        running_mean, running_var = buffers["running_mean"], buffers["running_var"]
        factor, training = self.momentum, self.training
        if training and self.track_running_stats:
            batches = buffers["num_batches_tracked"].data
            batches[()] += 1  # as a scalar: a ufunc on a 0-d array costs ten times more
            if factor is None:
                factor = 1.0 / float(batches)
        elif factor is None:
            factor = 0.0
        if not training or self.track_running_stats:  # the op updates them in place
            running_mean = None if running_mean is None else running_mean.data
            running_var = None if running_var is None else running_var.data
        else:
            running_mean = running_var = None
        return apply(BatchNormOp, (x, parameters["weight"], parameters["bias"]), {
            "running_mean": running_mean, "running_var": running_var,
            "training": training or running_mean is None, "momentum": factor, "eps": self.eps})

    def _reject(self, x, shape):
        if len(shape) not in self.ranks:
            expected = " or ".join(f"{rank}D" for rank in self.ranks)
            raise ValueError(f"{self._error_name()} expected {expected} input, got "
                             f"{len(shape)}D input of shape {shape}")
        check_size(self, x, 1, self.num_features, f"{self.num_features} features on axis 1")

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, per channel C."""

    ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs, per channel C."""

    ranks = (4,)


class LayerNorm(Module):
    """Normalise each sample over its trailing ``normalized_shape`` dimensions (biased
    variance), then scale and shift elementwise (``elementwise_affine``, ``bias``)."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 dtype=None):
        super().__init__()
        if isinstance(normalized_shape, (int, np.integer, bool, float)):
            normalized_shape = (normalized_shape,)
        if not isinstance(normalized_shape, (tuple, list)) or not normalized_shape:
            raise TypeError(f"LayerNorm: normalized_shape must be a positive integer or a "
                            f"non-empty tuple of them, got {normalized_shape!r}")
        self.normalized_shape = tuple(positive_int("LayerNorm", "normalized_shape", size)
                                      for size in normalized_shape)
        eps = non_negative_float("LayerNorm", "eps", eps)
        elementwise_affine = boolean("LayerNorm", "elementwise_affine", elementwise_affine)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x):
        shape = input_shape(x)
        count = len(self.normalized_shape)
        if shape[len(shape) - count:] != self.normalized_shape or len(shape) < count:
            raise ValueError(f"{self._error_name()} expected input whose last dimensions are "
                             f"{self.normalized_shape}, got shape {shape}")
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")
