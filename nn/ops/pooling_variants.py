"""1-d pooling on the 2-d pooling ops, and adaptive average pooling as averaging matrices.

max_pool1d / avg_pool1d pool (N, C, L) as (N, C, 1, L) with (1, k) windows, so they share
max_pool2d's and avg_pool2d's fast paths and PyTorch's tie and divisor rules.
Adaptive average pooling is linear: along each axis, output i averages input positions
floor(i * n / o) .. ceil((i + 1) * n / o) - 1 (PyTorch's bins, which may overlap), i.e.
a fixed (o, n) matrix; the 2-d case is A_h @ x @ A_w.T, two matmuls whose gradients the
engine already has.
"""
import numpy as np

from autograd import matmul
from autograd.extend import register, value_of

from .conv_variants import as_row_image, drop_row, single
from .pooling import avg_pool2d, max_pool2d


def _check_rank(x, ranks, op, layout):
    shape = np.shape(value_of(x))
    if len(shape) not in ranks:
        raise ValueError(f"{op}: expected an input of shape {layout}, got shape {shape}")
    return shape


def _pool1d_sample(strategies, average):
    st = strategies.st

    @st.composite
    def draw(draw):
        kernel = draw(st.integers(1, 3))
        stride = draw(st.one_of(st.none(), st.integers(1, 2)))
        padding = draw(st.integers(0, kernel // 2))
        shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), kernel + draw(st.integers(0, 4)))
        params = dict(kernel_size=kernel, stride=stride, padding=padding,
                      ceil_mode=draw(st.booleans()))
        if average:
            params["count_include_pad"] = draw(st.booleans())
            return (draw(strategies.arrays(shape)),), params
        # Distinct values: finite differences across a tie measure no derivative.
        return (draw(strategies.distinct_arrays(shape, spacing=0.05)),), params
    return draw()


def _stride_1d(stride, kernel, op):
    no_stride = stride is None or (isinstance(stride, (tuple, list)) and not stride)
    return kernel if no_stride else single(stride, "stride", op)


@register("max_pool1d", sample=lambda strategies: _pool1d_sample(strategies, average=False),
          torch=lambda torch, x, **params: torch.nn.functional.max_pool1d(x, **params))
def max_pool1d(x, *, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Maximum over each window of x (N, C, L); stride defaults to the kernel."""
    op = "max_pool1d"
    _check_rank(x, (3,), op, "(N, C, L)")
    kernel = single(kernel_size, "kernel_size", op)
    out = max_pool2d(as_row_image(x), kernel_size=(1, kernel),
                     stride=(1, _stride_1d(stride, kernel, op)),
                     padding=(0, single(padding, "padding", op, minimum=0)),
                     dilation=(1, single(dilation, "dilation", op)), ceil_mode=ceil_mode)
    return drop_row(out)


@register("avg_pool1d", sample=lambda strategies: _pool1d_sample(strategies, average=True),
          torch=lambda torch, x, **params: torch.nn.functional.avg_pool1d(x, **params))
def avg_pool1d(x, *, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """Mean over each window of x (N, C, L), zero padding; stride defaults to the kernel."""
    op = "avg_pool1d"
    _check_rank(x, (3,), op, "(N, C, L)")
    kernel = single(kernel_size, "kernel_size", op)
    out = avg_pool2d(as_row_image(x), kernel_size=(1, kernel),
                     stride=(1, _stride_1d(stride, kernel, op)),
                     padding=(0, single(padding, "padding", op, minimum=0)),
                     ceil_mode=ceil_mode, count_include_pad=count_include_pad)
    return drop_row(out)


def averaging_matrix(size, output, dtype):
    """(output, size) matrix whose row i averages PyTorch's adaptive bin i."""
    matrix = np.zeros((output, size), dtype=dtype)
    for i in range(output):
        start, end = (i * size) // output, -((-(i + 1) * size) // output)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


def _output_sizes(output_size, input_sizes, op):
    """PyTorch's output_size: an int, or one entry per axis where None keeps the input's."""
    count = len(input_sizes)
    sizes = (output_size,) * count if not isinstance(output_size, (tuple, list)) else output_size
    if len(sizes) != count:
        raise ValueError(f"{op}: output_size must be an int or {count} ints, got {output_size!r}")
    result = []
    for size, given in zip(sizes, input_sizes):
        if size is None:
            result.append(given)
        elif isinstance(size, (int, np.integer)) and not isinstance(size, bool) and size >= 1:
            result.append(int(size))
        else:
            raise ValueError(f"{op}: output_size entries must be positive ints or None, "
                             f"got {output_size!r}")
    return result


def _adaptive_sample(strategies, rank):
    st = strategies.st

    @st.composite
    def draw(draw):
        batch = draw(st.sampled_from(((), (1,), (2,))))
        sides = tuple(draw(st.integers(1, 6)) for _ in range(rank))
        x = draw(strategies.arrays(batch + (draw(st.integers(1, 2)),) + sides))
        outputs = tuple(draw(st.integers(1, 5)) for _ in range(rank))
        return (x,), dict(output_size=outputs[0] if rank == 1 else outputs)
    return draw()


@register("adaptive_avg_pool2d", sample=lambda strategies: _adaptive_sample(strategies, 2),
          torch=lambda torch, x, **params: torch.nn.functional.adaptive_avg_pool2d(x, **params))
def adaptive_avg_pool2d(x, *, output_size):
    """Average of x (N, C, H, W) or (C, H, W) over ``output_size`` adaptive bins."""
    shape = _check_rank(x, (3, 4), "adaptive_avg_pool2d", "(N, C, H, W) or (C, H, W)")
    dtype = value_of(x).dtype
    rows, cols = _output_sizes(output_size, shape[-2:], "adaptive_avg_pool2d")
    return matmul(matmul(averaging_matrix(shape[-2], rows, dtype), x),
                  averaging_matrix(shape[-1], cols, dtype).T)


@register("adaptive_avg_pool1d", sample=lambda strategies: _adaptive_sample(strategies, 1),
          torch=lambda torch, x, **params: torch.nn.functional.adaptive_avg_pool1d(x, **params))
def adaptive_avg_pool1d(x, *, output_size):
    """Average of x (N, C, L) or (C, L) over ``output_size`` adaptive bins."""
    shape = _check_rank(x, (2, 3), "adaptive_avg_pool1d", "(N, C, L) or (C, L)")
    (length,) = _output_sizes(output_size, shape[-1:], "adaptive_avg_pool1d")
    return matmul(x, averaging_matrix(shape[-1], length, value_of(x).dtype).T)
