"""Batch and layer normalisation as single ops with closed-form VJPs.

With x_hat = (x - mean) / sqrt(var + eps) over the normalised axes (M elements each,
biased variance) and y = weight * x_hat + bias, the input gradient is

    dx = (1 / sqrt(var + eps)) * (dxh - mean(dxh) - x_hat * mean(dxh * x_hat)),  dxh = dy * weight

One node per layer instead of the dozen a composite would record. The VJPs are written
with operators and registered functions: on a plain backward they use what the
forward saved (batch norm: the centred input, 1/sqrt(var + eps) and the output's
scale, so its VJP is two per-channel sums and four elementwise passes); under
``create_graph=True`` they recompute x_hat from x as a graph, so second derivatives
are exact.
"""
import functools

import numpy as np

from autograd import Tensor, sqrt
from autograd.extend import Op, batch_leading, functions, register, tangent_sum


def _normalize(x, axes, eps):
    """(x_hat, 1/sqrt(var + eps)) over ``axes`` with the biased variance; on ndarrays
    or Tensors alike."""
    centered = x - x.mean(axis=axes, keepdims=True)
    inverse_std = 1.0 / sqrt((centered * centered).mean(axis=axes, keepdims=True) + eps)
    return centered * inverse_std, inverse_std


def _normalized_input_grad(grad_x_hat, x_hat, inverse_std, axes):
    """d loss / d x through x_hat = normalize(x), given d loss / d x_hat."""
    return inverse_std * (grad_x_hat - grad_x_hat.mean(axis=axes, keepdims=True)
                          - x_hat * (grad_x_hat * x_hat).mean(axis=axes, keepdims=True))


def _channel_shape(ndim):
    """Shape that broadcasts a per-channel (axis 1) vector against an N-d input."""
    return (1, -1) + (1,) * (ndim - 2)


def _per_channel(vector, channel_shape):
    """A per-channel vector (or None) shaped to broadcast along axis 1; (N, C) inputs
    need no reshaping (``channel_shape`` None)."""
    return vector if channel_shape is None or vector is None else vector.reshape(channel_shape)


def _check_per_channel(channels, weight, bias, running_mean, running_var):
    expected = (channels,)
    for name, value in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                        ("running_var", running_var)):
        if value is not None and (value.shape if type(value) is np.ndarray
                                  else np.shape(value)) != expected:
            raise ValueError(f"batch_norm: expected {name} of shape ({channels},) for an "
                             f"input with {channels} channels, got {np.shape(value)}")


def _floating(x):
    """x as an array of floats: integers become float64, as their mean would (and the
    per-channel sums below take the input's dtype)."""
    x = np.asarray(x)
    return x if x.dtype.kind in "fc" else x.astype(np.float64)


@functools.lru_cache(maxsize=16)
def _filled(count, dtype, value):
    vector = np.full(count, value, dtype)
    vector.flags.writeable = False
    return vector


def _row_sum(rows, each=1.0):
    """Per-column sum of ``each * rows``: a product with a constant vector, as BLAS's
    gemv beats a NumPy reduction over axis 0 (1.5x at (10, 256), 2x at (100, 256); an
    ndarray.mean 5x), and ``each = 1 / N`` gives the mean for free."""
    return _filled(len(rows), rows.dtype, each) @ rows


def _row_dot(rows, other, each=1.0):
    return _row_sum(rows * other, each)


def _channel_sum(view, each=1.0):
    # Over an (N, C, L) view einsum's per-channel sums are 3x faster than reductions
    # over axes (0, 2, 3), and sums of products need no temporary.
    total = np.einsum("ncl->c", view)
    return total if each == 1.0 else total * each


def _channel_dot(view, other, each=1.0):
    total = np.einsum("ncl,ncl->c", view, other)
    return total if each == 1.0 else total * each


# (per-channel sum, per-channel sum of products, index that broadcasts a per-channel
# vector) for the (N, C) rows of BatchNorm1d's usual input, and for (N, C, L) views.
_ROWS = (_row_sum, _row_dot, Ellipsis)
_CHANNELS = (_channel_sum, _channel_dot, (slice(None), None))


def _batch_norm_sample(strategies):
    st = strategies.st

    @st.composite
    def draw(draw):
        ndim = draw(st.integers(2, 4))
        shape = (draw(st.integers(2, 4)), draw(st.integers(1, 3))) + tuple(
            draw(st.integers(1, 3)) for _ in range(ndim - 2))
        channels = shape[1]
        x = draw(strategies.arrays(shape))
        # Batch statistics need some spread, or finite differences divide by ~eps.
        x = x + np.arange(x.size).reshape(shape) % 3
        weight = draw(st.one_of(st.none(), strategies.arrays((channels,), low=0.5, high=2.0)))
        bias = draw(st.one_of(st.none(), strategies.arrays((channels,))))
        training = draw(st.booleans())
        params = dict(training=training, eps=1e-5)
        if not training:
            params["running_mean"] = draw(strategies.arrays((channels,)))
            params["running_var"] = draw(strategies.arrays((channels,), low=0.5, high=2.0))
        return (x, weight, bias), params
    return draw()


def _torch_batch_norm(torch, x, weight, bias, *, running_mean=None, running_var=None,
                      training=True, momentum=0.1, eps=1e-5):
    def as_tensor(value):  # running statistics are state, never differentiated
        if value is None:
            return None
        if torch.is_tensor(value):
            return value.detach().clone()
        return torch.as_tensor(np.array(value))
    return torch.nn.functional.batch_norm(x, as_tensor(running_mean), as_tensor(running_var),
                                          weight, bias, training, momentum, eps)


@register("batch_norm", sample=_batch_norm_sample, torch=_torch_batch_norm, rtol=1e-4, atol=1e-6)
class BatchNorm(Op):
    """Batch normalisation over every axis but 1 (channels) of x of shape (N, C, *).

    training=True: normalise with the batch mean and biased variance; if running
    statistics are given, update them in place (as PyTorch's functional batch_norm
    does): running = (1 - momentum) * running + momentum * batch, with the unbiased
    batch variance. training=False: normalise with the running statistics.
    Arguments are ordered as the op's tensor inputs (x, weight, bias); weight and
    bias may be None.
    """

    def forward(self, x, weight=None, bias=None, *, running_mean=None, running_var=None,
                training=True, momentum=0.1, eps=1e-5):
        if type(x) is not np.ndarray or x.dtype.kind != "f":
            x = _floating(x)
        if x.ndim < 2:
            raise ValueError(f"batch_norm: expected an input of shape (N, C, *), "
                             f"got shape {x.shape}")
        channels = x.shape[1]
        _check_per_channel(channels, weight, bias, running_mean, running_var)
        # Saved for the VJP: the centred input, 1/sqrt(var + eps) and the output's
        # per-channel scale, on (N, C) rows or on an (N, C, L) view of a larger input.
        layout = self.layout = _ROWS if x.ndim == 2 else _CHANNELS
        work = x if layout is _ROWS else x.reshape(x.shape[0], channels, -1)
        count = self.count = work.size // channels
        # Python floats, so that NumPy float64 scalars cannot promote float32 data.
        momentum, eps = float(momentum), float(eps)
        self.training, self.eps = training, eps
        channel_sum, channel_dot, column = layout
        if training:
            if count < 2:
                raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                                 f"training, got input of shape {x.shape}")
            mean = channel_sum(work, 1.0 / count)
            centered = work - mean[column]
            variance = channel_dot(centered, centered, 1.0 / count)
            inverse_std = 1.0 / np.sqrt(variance + eps)
            if running_mean is not None:
                running_mean *= 1.0 - momentum
                running_mean += momentum * mean
            if running_var is not None:
                running_var *= 1.0 - momentum
                running_var += (momentum * count / (count - 1)) * variance
        else:
            if running_mean is None or running_var is None:
                raise ValueError("batch_norm: running_mean and running_var are required "
                                 "when training=False")
            mean = np.array(running_mean, dtype=x.dtype)
            self.shift = _per_channel(mean, None if x.ndim == 2 else _channel_shape(x.ndim))
            centered = work - mean[column]
            inverse_std = (1.0 / np.sqrt(running_var + eps)).astype(x.dtype)
        scale = inverse_std if weight is None else inverse_std * weight
        self.centered, self.inverse_std, self.scale = centered, inverse_std, scale
        out = centered * scale[column]
        if bias is not None:
            out += bias[column]
        return out if layout is _ROWS else out.reshape(x.shape)

    def jvp(self, tangents, out, x, weight, bias):
        t_x, t_weight, t_bias = tangents
        params, ndim = self.params, x.ndim
        axes = (0,) if ndim == 2 else (0,) + tuple(range(2, ndim))
        channel_shape = None if ndim == 2 else _channel_shape(ndim)
        eps, training = float(params.get("eps", 1e-5)), params.get("training", True)
        if training:
            x_hat, inverse_std = _normalize(x, axes, eps)
        else:
            running_var = np.asarray(params["running_var"])
            inverse_std = _per_channel((1.0 / np.sqrt(running_var + eps)).astype(x.dtype),
                                       channel_shape)
            shift = _per_channel(np.array(params["running_mean"], dtype=x.dtype), channel_shape)
            x_hat = (x - shift) * inverse_std
        terms = []
        if t_x is not None:
            # the normalisation's Jacobian is symmetric: its JVP has the VJP's formula
            moved = (_normalized_input_grad(t_x, x_hat, inverse_std, axes) if training
                     else t_x * inverse_std)
            terms.append(moved * _per_channel(weight, channel_shape) if weight is not None
                         else moved)
        if t_weight is not None:
            terms.append(x_hat * _per_channel(t_weight, channel_shape))
        if t_bias is not None:
            terms.append(_per_channel(t_bias, channel_shape))
        return tangent_sum(*terms)

    def vjp(self, g, out, x, weight, bias):
        if isinstance(g, Tensor):
            return self._recorded_vjp(g, x, weight)
        needs_x, needs_weight, needs_bias = self.needs_grad
        centered, inverse_std, count = self.centered, self.inverse_std, self.count
        channel_sum, channel_dot, column = self.layout
        g = g.reshape(centered.shape)
        # With S_b = sum(g) and S_w = sum(g * x_hat) per channel (the bias and weight
        # gradients), dx = weight / sqrt(var + eps) * (g - S_b / M - x_hat * S_w / M).
        uses_sums = needs_x and self.training
        grad_sum = channel_sum(g) if needs_bias or uses_sums else None
        scaled_sum = (channel_dot(g, centered) * inverse_std
                      if needs_weight or uses_sums else None)
        grad_x = None
        if needs_x:
            scale = self.scale
            grad_x = g * scale[column]
            if self.training:
                step = scale / count
                grad_x -= (step * grad_sum)[column]
                step *= inverse_std
                step *= scaled_sum
                grad_x -= centered * step[column]
            grad_x = grad_x.reshape(x.shape)
        return grad_x, scaled_sum if needs_weight else None, grad_sum if needs_bias else None

    def _recorded_vjp(self, g, x, weight):
        """The VJP under ``create_graph=True``: x_hat recomputed from x as a graph, so
        that second derivatives are exact."""
        needs_x, needs_weight, needs_bias = self.needs_grad
        axes, count = (0,) + tuple(range(2, x.ndim)), self.count
        channel_shape = None if x.ndim == 2 else _channel_shape(x.ndim)
        if self.training:
            x_hat, inverse_std = _normalize(x, axes, self.eps)
        else:
            inverse_std = _per_channel(self.inverse_std, channel_shape)
            x_hat = (x - self.shift) * inverse_std
        uses_sums = needs_x and self.training
        grad_sum = g.sum(axis=axes, keepdims=True) if needs_bias or uses_sums else None
        scaled_sum = ((g * x_hat).sum(axis=axes, keepdims=True)
                      if needs_weight or uses_sums else None)
        grad_x = grad_weight = grad_bias = None
        if needs_x:
            scale = inverse_std
            if weight is not None:
                scale = inverse_std * _per_channel(weight, channel_shape)
            if self.training:
                grad_x = (g - grad_sum * (1.0 / count)
                          - x_hat * (scaled_sum * (1.0 / count))) * scale
            else:
                grad_x = g * scale
        if needs_weight:
            grad_weight = scaled_sum.reshape(-1)
        if needs_bias:
            grad_bias = grad_sum.reshape(-1)
        return grad_x, grad_weight, grad_bias


def _scale_and_shift(x_hat, weight, bias):
    """weight * x_hat + bias (either may be None), as a new array."""
    if weight is not None:
        out = x_hat * weight
        if bias is not None:
            out += bias
        return out
    return x_hat + bias if bias is not None else x_hat.copy()


def _layer_norm_sample(strategies):
    st = strategies.st

    @st.composite
    def draw(draw):
        normalized_shape = tuple(draw(st.lists(st.integers(2, 3), min_size=1, max_size=2)))
        batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
        x = draw(strategies.arrays(batch + normalized_shape))
        x = x + np.arange(x.size).reshape(x.shape) % 3
        weight = draw(st.one_of(st.none(), strategies.arrays(normalized_shape, low=0.5, high=2.0)))
        bias = draw(st.one_of(st.none(), strategies.arrays(normalized_shape)))
        return (x, weight, bias), dict(normalized_shape=normalized_shape, eps=1e-5)
    return draw()


@register("layer_norm", sample=_layer_norm_sample, rtol=1e-4, atol=1e-6,
          torch=lambda torch, x, weight, bias, *, normalized_shape, eps=1e-5:
              torch.nn.functional.layer_norm(x, normalized_shape, weight, bias, eps))
class LayerNorm(Op):
    """Normalise over the trailing ``normalized_shape`` axes of each sample, then scale by
    ``weight`` and shift by ``bias`` (both of shape ``normalized_shape``, or None)."""

    def forward(self, x, weight, bias, *, normalized_shape, eps=1e-5):
        x = np.asarray(x)
        normalized_shape = tuple(normalized_shape)
        count = len(normalized_shape)
        if count == 0 or x.shape[x.ndim - count:] != normalized_shape or x.ndim < count:
            raise ValueError(f"layer_norm: expected an input whose trailing dimensions are "
                             f"{normalized_shape}, got shape {x.shape}")
        for name, value in (("weight", weight), ("bias", bias)):
            if value is not None and np.shape(value) != normalized_shape:
                raise ValueError(f"layer_norm: expected {name} of shape {normalized_shape}, "
                                 f"got {np.shape(value)}")
        self.axes = tuple(range(x.ndim - count, x.ndim))
        self.eps = eps = float(eps)
        self.x_hat, self.inverse_std = _normalize(x, self.axes, eps)
        return _scale_and_shift(self.x_hat, weight, bias)

    batch_rule = batch_leading  # normalizes the trailing axes only

    def jvp(self, tangents, out, x, weight, bias):
        t_x, t_weight, t_bias = tangents
        count = len(tuple(self.params["normalized_shape"]))
        axes = tuple(range(x.ndim - count, x.ndim))
        x_hat, inverse_std = _normalize(x, axes, float(self.params.get("eps", 1e-5)))
        terms = []
        if t_x is not None:
            # the normalisation's Jacobian is symmetric: its JVP has the VJP's formula
            moved = _normalized_input_grad(t_x, x_hat, inverse_std, axes)
            terms.append(moved * weight if weight is not None else moved)
        if t_weight is not None:
            terms.append(x_hat * t_weight)
        if t_bias is not None:
            terms.append(t_bias)
        return tangent_sum(*terms)

    def vjp(self, g, out, x, weight, bias):
        needs_x, needs_weight, needs_bias = self.needs_grad
        axes = self.axes
        if isinstance(g, Tensor):
            x_hat, inverse_std = _normalize(x, axes, self.eps)
        else:
            x_hat, inverse_std = self.x_hat, self.inverse_std
        batch_axes = tuple(range(g.ndim - len(axes)))
        grad_x = grad_weight = grad_bias = None
        if needs_x:
            grad_x_hat = g * weight if weight is not None else g
            grad_x = _normalized_input_grad(grad_x_hat, x_hat, inverse_std, axes)
        if needs_weight:
            grad_weight = (g * x_hat).sum(axis=batch_axes) if batch_axes else g * x_hat
        if needs_bias:
            grad_bias = g.sum(axis=batch_axes) if batch_axes else g
        return grad_x, grad_weight, grad_bias


batch_norm, layer_norm = functions("batch_norm", "layer_norm")
