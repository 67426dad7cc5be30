"""Group normalisation: layer_norm over the channel groups of each sample, then a
per-channel affine map (PyTorch's group_norm)."""
import numpy as np

from autograd import reshape
from autograd.extend import register, value_of

from .normalization import layer_norm


def _group_norm_sample(strategies):
    st = strategies.st

    @st.composite
    def draw(draw):
        groups = draw(st.integers(1, 3))
        spatial = tuple(draw(st.lists(st.integers(2, 3), max_size=2)))
        # At least two values per group: a statistic of one value has no spread.
        channels = groups * draw(st.integers(1 if spatial else 2, 2))
        shape = (draw(st.integers(1, 2)), channels) + spatial
        x = draw(strategies.arrays(shape))
        # Some spread within each group, or finite differences divide by ~eps.
        x = x + np.arange(x.size).reshape(shape) % 3
        weight = draw(st.one_of(st.none(), strategies.arrays((channels,), low=0.5, high=2.0)))
        bias = draw(st.one_of(st.none(), strategies.arrays((channels,))))
        return (x, weight, bias), dict(num_groups=groups, eps=1e-5)
    return draw()


def _torch_group_norm(torch, x, weight, bias, **params):
    # PyTorch 2.13's backward fails ("tensor does not have a device") for a bias without
    # a weight; a weight of ones is the same map.
    if weight is None and bias is not None:
        weight = torch.ones_like(bias, requires_grad=False)
    return torch.nn.functional.group_norm(x, weight=weight, bias=bias, **params)


@register("group_norm", sample=_group_norm_sample, torch=_torch_group_norm, rtol=1e-4,
          atol=1e-6)
def group_norm(x, weight=None, bias=None, *, num_groups, eps=1e-5):
    """Normalise x (N, C, *) over each of ``num_groups`` groups of C / num_groups channels
    (and every other axis) per sample, biased variance; then weight * x_hat + bias per
    channel (either may be None)."""
    shape = np.shape(value_of(x))
    if len(shape) < 2:
        raise ValueError(f"group_norm: expected an input of shape (N, C, *), got shape {shape}")
    if not isinstance(num_groups, (int, np.integer)) or num_groups < 1 or shape[1] % num_groups:
        raise ValueError(f"group_norm: num_groups must be a positive int dividing the "
                         f"{shape[1]} channels, got {num_groups!r}")
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and np.shape(value_of(value)) != (shape[1],):
            raise ValueError(f"group_norm: expected {name} of shape ({shape[1]},), "
                             f"got {np.shape(value_of(value))}")
    per_group = int(np.prod(shape[1:], dtype=np.int64)) // num_groups
    grouped = reshape(x, (shape[0], num_groups, per_group))
    out = reshape(layer_norm(grouped, None, None, normalized_shape=(per_group,), eps=eps), shape)
    channel_shape = (1, shape[1]) + (1,) * (len(shape) - 2)
    if weight is not None:
        out = out * reshape(weight, channel_shape)
    if bias is not None:
        out = out + reshape(bias, channel_shape)
    return out
