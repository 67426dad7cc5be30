"""conv1d, conv_transpose2d and conv_transpose1d, built on the conv2d family.

A 1-d convolution is a 2-d one over (N, C, 1, L) with (1, k) kernels; a transposed
convolution is conv2d's input gradient (``conv2d_input_grad``) plus a bias. So these are
registered composites: their gradients and second derivatives are those of the conv2d
ops (one GEMM on contiguous im2col columns each), and the generated tests still check
each against finite differences and PyTorch.
"""
import numpy as np

from autograd import pad, reshape
from autograd.extend import register, value_of

from .conv import conv2d, conv2d_input_grad
from .windows import pair


def single(value, name, op, minimum=1):
    """An int (or a 1-element sequence of one, as PyTorch's 1-d layers accept) >= minimum."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{op}: {name} must be at least {minimum}, got {value!r}")
    return int(value)


def check_rank(value, rank, op, what, layout):
    shape = np.shape(value_of(value))
    if len(shape) != rank:
        raise ValueError(f"{op}: expected a {rank}-d {what} {layout}, got shape {shape}")
    return shape


def as_row_image(value):
    """(N, C, L) -> (N, C, 1, L), on a Tensor or an array."""
    shape = np.shape(value_of(value))
    return reshape(value, shape[:2] + (1,) + shape[2:])


def drop_row(value):
    """(N, C, 1, L) -> (N, C, L)."""
    shape = np.shape(value_of(value))
    return reshape(value, shape[:2] + shape[3:])


def _padding_1d(padding, op):
    if isinstance(padding, str):
        return padding
    return (0, single(padding, "padding", op, minimum=0))


def _conv1d_sample(strategies):
    st = strategies.st

    @st.composite
    def draw(draw):
        groups = draw(st.sampled_from((1, 1, 2)))
        in_channels, out_channels = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
        kernel, stride, dilation = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
        padding = draw(st.sampled_from((0, 1, "valid") + (("same",) if stride == 1 else ())))
        length = dilation * (kernel - 1) + 1 + draw(st.integers(0, 3))
        x = draw(strategies.arrays((draw(st.integers(1, 2)), in_channels, length)))
        weight = draw(strategies.arrays((out_channels, in_channels // groups, kernel)))
        bias = draw(st.one_of(st.none(), strategies.arrays((out_channels,))))
        return (x, weight, bias), dict(stride=stride, padding=padding, dilation=dilation,
                                       groups=groups)
    return draw()


@register("conv1d", sample=_conv1d_sample,
          torch=lambda torch, x, weight, bias=None, **params:
              torch.nn.functional.conv1d(x, weight, bias, **params))
def conv1d(x, weight, bias=None, *, stride=1, padding=0, dilation=1, groups=1):
    """Cross-correlation of x (N, C, L) with weight (O, C/groups, k), plus bias (O,).
    padding: int, "valid" or "same" (stride 1)."""
    check_rank(x, 3, "conv1d", "input", "(N, C, L)")
    check_rank(weight, 3, "conv1d", "weight", "(out_channels, in_channels / groups, k)")
    out = conv2d(as_row_image(x), as_row_image(weight), bias,
                 stride=(1, single(stride, "stride", "conv1d")),
                 padding=_padding_1d(padding, "conv1d"),
                 dilation=(1, single(dilation, "dilation", "conv1d")), groups=groups)
    return drop_row(out)


def transposed_output_side(size, kernel, stride, padding, output_padding, dilation):
    """PyTorch's output length of a transposed convolution along one axis."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def _transpose_sample(strategies, rank):
    st = strategies.st

    @st.composite
    def draw(draw):
        groups = draw(st.sampled_from((1, 1, 2)))
        in_channels, out_per_group = groups * draw(st.integers(1, 2)), draw(st.integers(1, 2))
        kernel = tuple(draw(st.integers(1, 3)) for _ in range(rank))
        stride = tuple(draw(st.integers(1, 3)) for _ in range(rank))
        dilation = tuple(draw(st.integers(1, 2)) for _ in range(rank))
        padding = tuple(draw(st.integers(0, 1)) for _ in range(rank))
        output_padding = tuple(draw(st.integers(0, max(s, d) - 1))
                               for s, d in zip(stride, dilation))
        sides = tuple(draw(st.integers(1, 3)) for _ in range(rank))
        for side, k, s, p, o, d in zip(sides, kernel, stride, padding, output_padding, dilation):
            if transposed_output_side(side, k, s, p, o, d) < 1:
                padding = (0,) * rank
        x = draw(strategies.arrays((draw(st.integers(1, 2)), in_channels) + sides))
        weight = draw(strategies.arrays((in_channels, out_per_group) + kernel))
        bias = draw(st.one_of(st.none(), strategies.arrays((out_per_group * groups,))))
        unpack = (lambda t: t[0]) if rank == 1 else (lambda t: t)
        return (x, weight, bias), dict(stride=unpack(stride), padding=unpack(padding),
                                       output_padding=unpack(output_padding), groups=groups,
                                       dilation=unpack(dilation))
    return draw()


@register("conv_transpose2d", sample=lambda strategies: _transpose_sample(strategies, 2),
          torch=lambda torch, x, weight, bias=None, **params:
              torch.nn.functional.conv_transpose2d(x, weight, bias, **params))
def conv_transpose2d(x, weight, bias=None, *, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed convolution of x (N, C_in, H, W) with weight (C_in, C_out/groups, kh, kw),
    plus bias (C_out,): the gradient of conv2d with respect to its input, output side
    (H - 1) * stride - 2 * padding + dilation * (kh - 1) + output_padding + 1."""
    op = "conv_transpose2d"
    shape = check_rank(x, 4, op, "input", "(N, C_in, H, W)")
    weight_shape = check_rank(weight, 4, op, "weight",
                              "(in_channels, out_channels / groups, kh, kw)")
    stride, dilation = pair(stride, "stride", op), pair(dilation, "dilation", op)
    padding = pair(padding, "padding", op, minimum=0)
    output_padding = pair(output_padding, "output_padding", op, minimum=0)
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    if shape[1] != weight_shape[0]:
        raise ValueError(f"{op}: expected an input with {weight_shape[0]} channels (the "
                         f"weight's first dimension), got {shape[1]}")
    sides, pads, extra_rows = [], [], []
    for axis in range(2):
        s, d, p, o = stride[axis], dilation[axis], padding[axis], output_padding[axis]
        if o >= max(s, d):
            raise ValueError(f"{op}: output_padding must be smaller than stride or dilation, "
                             f"got output_padding={output_padding}, stride={stride}, "
                             f"dilation={dilation}")
        side = transposed_output_side(shape[2 + axis], weight_shape[2 + axis], s, p, o, d)
        if side < 1:
            raise ValueError(f"{op}: the output would be empty: input {shape[2:]}, kernel "
                             f"{weight_shape[2:]}, stride {stride}, padding {padding}")
        # conv2d's windows must tile the output exactly as the input's positions: rows
        # past the last window's reach are zeros, added afterwards with ``pad``.
        reach = min(o, p + s - 1)
        sides.append(side - (o - reach))
        pads += [p, max(0, p - reach)]
        extra_rows.append(o - reach)
    out = conv2d_input_grad(x, weight, input_size=(shape[0], weight_shape[1] * groups) + tuple(sides),
                            stride=stride, padding=tuple(pads), dilation=dilation, groups=groups)
    if any(extra_rows):
        out = pad(out, ((0, 0), (0, 0), (0, extra_rows[0]), (0, extra_rows[1])))
    if bias is not None:
        out = out + reshape(bias, (1, -1, 1, 1))
    return out


@register("conv_transpose1d", sample=lambda strategies: _transpose_sample(strategies, 1),
          torch=lambda torch, x, weight, bias=None, **params:
              torch.nn.functional.conv_transpose1d(x, weight, bias, **params))
def conv_transpose1d(x, weight, bias=None, *, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 1-d convolution of x (N, C_in, L) with weight (C_in, C_out/groups, k)."""
    op = "conv_transpose1d"
    check_rank(x, 3, op, "input", "(N, C_in, L)")
    check_rank(weight, 3, op, "weight", "(in_channels, out_channels / groups, k)")
    out = conv_transpose2d(as_row_image(x), as_row_image(weight), bias,
                           stride=(1, single(stride, "stride", op)),
                           padding=(0, single(padding, "padding", op, minimum=0)),
                           output_padding=(0, single(output_padding, "output_padding", op,
                                                     minimum=0)),
                           groups=groups, dilation=(1, single(dilation, "dilation", op)))
    return drop_row(out)
