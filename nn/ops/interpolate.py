"""interpolate (resampling by nearest neighbour, linear and bilinear), PyTorch's rules.

Nearest: output index j reads input floor(j * scale) (capped at n - 1), computed in
float32 as PyTorch's kernel does, with scale = 1 / scale_factor when a scale factor is
given and n / out otherwise; an integer-array index, whose gradient accumulates.
(Bi)linear: along each axis a fixed (out, n) interpolation matrix, source position
(j + 0.5) * scale - 0.5 clipped at 0 (or j * (n - 1) / (out - 1) with align_corners),
applied with matmul; bilinear is A_h @ x @ A_w.T.
"""
import math

import numpy as np

from autograd import matmul
from autograd.extend import register, value_of

MODES = {"nearest": (1, 2), "linear": (1,), "bilinear": (2,)}


def output_sizes(op, spatial, size, scale_factor):
    """(output sizes, scale_factors or None) per spatial axis, as F.interpolate reads them."""
    count = len(spatial)
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: exactly one of size and scale_factor must be given")
    if size is not None:
        sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * count
        if len(sizes) != count or not all(isinstance(s, (int, np.integer)) and s >= 1
                                          for s in sizes):
            raise ValueError(f"{op}: size must be a positive int or {count} of them for an "
                             f"input with {count} spatial dimension(s), got {size!r}")
        return tuple(int(s) for s in sizes), None
    factors = (tuple(scale_factor) if isinstance(scale_factor, (tuple, list))
               else (scale_factor,) * count)
    if len(factors) != count or not all(isinstance(f, (int, float, np.number)) and f > 0
                                        for f in factors):
        raise ValueError(f"{op}: scale_factor must be a positive number or {count} of them, "
                         f"got {scale_factor!r}")
    sizes = tuple(int(math.floor(n * float(f))) for n, f in zip(spatial, factors))
    if min(sizes) < 1:
        raise ValueError(f"{op}: scale_factor {scale_factor!r} gives an empty output for "
                         f"input size {spatial}")
    return sizes, tuple(float(f) for f in factors)


def nearest_indices(size, output, factor):
    """Input index of each output position (PyTorch's float32 arithmetic)."""
    if output == size:
        return np.arange(size)
    scale = np.float32(1.0 / factor) if factor is not None else np.float32(size) / np.float32(output)
    source = np.floor(np.arange(output, dtype=np.float32) * scale).astype(np.int64)
    return np.minimum(source, size - 1)


def linear_matrix(size, output, factor, align_corners, dtype):
    """(output, size) matrix of linear-interpolation weights along one axis."""
    if align_corners:
        scale = (size - 1) / (output - 1) if output > 1 else 0.0
        source = np.arange(output, dtype=np.float64) * scale
    else:
        scale = 1.0 / factor if factor is not None else size / output
        source = np.maximum((np.arange(output, dtype=np.float64) + 0.5) * scale - 0.5, 0.0)
    low = np.minimum(np.floor(source).astype(np.int64), size - 1)
    high = np.where(low < size - 1, low + 1, low)
    upper_weight = np.minimum(source - low, 1.0)
    matrix = np.zeros((output, size), dtype=dtype)
    rows = np.arange(output)
    np.add.at(matrix, (rows, low), 1.0 - upper_weight)
    np.add.at(matrix, (rows, high), upper_weight)
    return matrix


def _interpolate_sample(strategies):
    st = strategies.st

    @st.composite
    def draw(draw):
        mode = draw(st.sampled_from(sorted(MODES)))
        rank = draw(st.sampled_from(MODES[mode]))
        spatial = tuple(draw(st.integers(1, 4)) for _ in range(rank))
        x = draw(strategies.arrays((draw(st.integers(1, 2)), draw(st.integers(1, 2))) + spatial))
        params = dict(mode=mode)
        if draw(st.booleans()):
            params["size"] = tuple(draw(st.integers(1, 7)) for _ in range(rank))
        else:
            params["scale_factor"] = draw(st.sampled_from((0.5, 1.5, 2.0, 3.0, 1.75)))
            if min(math.floor(n * params["scale_factor"]) for n in spatial) < 1:
                params["scale_factor"] = 2.0
        if mode != "nearest":
            params["align_corners"] = draw(st.booleans())
        return (x,), params
    return draw()


@register("interpolate", sample=_interpolate_sample,
          torch=lambda torch, x, **params: torch.nn.functional.interpolate(x, **params))
def interpolate(x, *, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None):
    """Resample x (N, C, L) or (N, C, H, W) to ``size`` or by ``scale_factor``.

    mode: "nearest" (1-d or 2-d), "linear" (1-d) or "bilinear" (2-d); align_corners
    (only for the interpolating modes) maps the corner pixels' centres onto each other.
    recompute_scale_factor=True computes the scale from the output size, as PyTorch.
    """
    shape = np.shape(value_of(x))
    if mode not in MODES:
        raise ValueError(f"interpolate: mode must be one of {sorted(MODES)}, got {mode!r}")
    if len(shape) - 2 not in MODES[mode]:
        ranks = " or ".join(f"{rank + 2}-d" for rank in MODES[mode])
        raise ValueError(f"interpolate: mode {mode!r} expects a {ranks} input, got shape {shape}")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("interpolate: align_corners option can only be set with the "
                         "interpolating modes: linear | bilinear")
    sizes, factors = output_sizes("interpolate", shape[2:], size, scale_factor)
    if recompute_scale_factor:
        factors = None
    factors = factors or (None,) * len(sizes)
    if mode == "nearest":
        out = x
        for axis, (n, o, f) in enumerate(zip(shape[2:], sizes, factors)):
            index = (slice(None),) * (2 + axis) + (nearest_indices(n, o, f),)
            out = out[index]
        return out
    dtype = value_of(x).dtype
    matrices = [linear_matrix(n, o, f, bool(align_corners), dtype)
                for n, o, f in zip(shape[2:], sizes, factors)]
    out = matmul(x, matrices[-1].T)
    return matmul(matrices[0], out) if len(matrices) == 2 else out
