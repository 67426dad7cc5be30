"""2-d convolution (cross-correlation, NCHW, as PyTorch's conv2d) and its two VJPs.

For y = conv2d(x, w) and a cotangent g, the three maps are one bilinear form
<conv2d(x, w), g> = <x, conv2d_input_grad(g, w)> = <w, conv2d_weight_grad(x, g)>,
so each op's VJP is written with the other two: the family is closed under
differentiation and second derivatives need nothing else.

All three are GEMMs on the same contiguous im2col columns (C*kh*kw, N*Ho*Wo):
forward ``weight2d @ columns``, weight gradient ``g2d @ columns.T``, input gradient
``weight2d.T @ g2d`` scattered back (col2im), with g2d the output gradient as
(O, N*Ho*Wo). conv2d keeps its columns between forward and VJP, so a plain backward
reuses them for the weight gradient instead of rebuilding them (they go with the
op's other saved values when backward releases it). Under ``create_graph=True`` the
VJP records the two gradient ops instead, which keeps it differentiable.
"""
import numpy as np

from autograd import Tensor
from autograd.extend import (Op, apply, batch_merged, functions, materialized,
                             multilinear_jvp, register, tangent_sum)

from .windows import Geometry, check_input, padding4, pair


def _geometry(op, input_hw, kernel_hw, stride, padding, dilation):
    stride = pair(stride, "stride", op)
    dilation = pair(dilation, "dilation", op)
    padding = padding4(padding, op, kernel=kernel_hw, dilation=dilation, stride=stride)
    return Geometry(op, input_hw, tuple(kernel_hw), stride, padding, dilation)


def _check_groups(op, groups, in_channels, out_channels, weight_in_channels):
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    if out_channels % groups:
        raise ValueError(f"{op}: the weight's {out_channels} output channels are not "
                         f"divisible by groups={groups}")
    if in_channels != weight_in_channels * groups:
        raise ValueError(f"{op}: expected an input with {weight_in_channels * groups} channels "
                         f"(weight {weight_in_channels} per group x groups={groups}), "
                         f"got {in_channels}")


def _group_slices(groups, rows_per_group, out_per_group):
    """(column rows, output channels) of each group."""
    for k in range(groups):
        yield (slice(k * rows_per_group, (k + 1) * rows_per_group),
               slice(k * out_per_group, (k + 1) * out_per_group))


def _columns_times_weight(columns, weight, groups):
    """The convolution as GEMMs, one per group: (O, N*Ho*Wo)."""
    out_channels = weight.shape[0]
    weight_2d = weight.reshape(out_channels, -1)
    if groups == 1:
        return weight_2d @ columns
    out = np.empty((out_channels, columns.shape[1]), dtype=np.result_type(columns, weight))
    for rows, outputs in _group_slices(groups, weight_2d.shape[1], out_channels // groups):
        np.matmul(weight_2d[outputs], columns[rows], out=out[outputs])
    return out


def _as_nchw(out_2d, batch, geometry):
    """(O, N*Ho*Wo) as a contiguous (N, O, Ho, Wo)."""
    out = out_2d.reshape((out_2d.shape[0], batch) + geometry.output_hw)
    return np.ascontiguousarray(out.transpose(1, 0, 2, 3))


def _gradient_2d(g):
    """An output gradient (N, O, Ho, Wo) as the GEMMs want it: (O, N*Ho*Wo)."""
    return np.ascontiguousarray(g.transpose(1, 0, 2, 3)).reshape(g.shape[1], -1)


def _input_grad(grad_2d, weight, groups, geometry, batch):
    """weight2d.T @ g2d per group, scattered back onto the input (col2im)."""
    out_channels = weight.shape[0]
    weight_2d = weight.reshape(out_channels, -1)
    if groups == 1:
        columns = weight_2d.T @ grad_2d
    else:
        rows_per_group = weight_2d.shape[1]
        columns = np.empty((groups * rows_per_group, grad_2d.shape[1]),
                           dtype=np.result_type(grad_2d, weight))
        for rows, outputs in _group_slices(groups, rows_per_group, out_channels // groups):
            np.matmul(weight_2d[outputs].T, grad_2d[outputs], out=columns[rows])
    return geometry.col2im(columns, batch)


def _weight_grad(grad_2d, columns, groups, weight_size):
    """g2d @ columns.T per group, shaped as the weight."""
    out_channels = weight_size[0]
    if groups == 1:
        return (grad_2d @ columns.T).reshape(weight_size)
    rows_per_group = columns.shape[0] // groups
    out = np.empty((out_channels, rows_per_group), dtype=np.result_type(grad_2d, columns))
    for rows, outputs in _group_slices(groups, rows_per_group, out_channels // groups):
        np.matmul(grad_2d[outputs], columns[rows].T, out=out[outputs])
    return out.reshape(weight_size)


def _params(geometry, groups):
    return dict(stride=geometry.stride, padding=geometry.padding, dilation=geometry.dilation,
                groups=groups)


def _conv_sample(strategies, with_bias=True):
    st = strategies.st

    @st.composite
    def draw(draw):
        groups = draw(st.sampled_from((1, 1, 2)))
        in_channels = groups * draw(st.integers(1, 2))
        out_channels = groups * draw(st.integers(1, 2))
        kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        stride, dilation = draw(st.integers(1, 2)), draw(st.integers(1, 2))
        padding = (draw(st.integers(0, 1)), draw(st.integers(0, 1)))
        extent = [dilation * (k - 1) + 1 for k in kernel]
        shape = (draw(st.integers(1, 2)), in_channels,
                 extent[0] + draw(st.integers(0, 3)), extent[1] + draw(st.integers(0, 3)))
        x = draw(strategies.arrays(shape))
        weight = draw(strategies.arrays((out_channels, in_channels // groups) + kernel))
        params = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        if not with_bias:
            return x, weight, params
        bias = draw(st.one_of(st.none(), strategies.arrays((out_channels,))))
        return (x, weight, bias), params
    return draw()


def _torch_conv2d(torch, x, weight, bias=None, **params):
    return torch.nn.functional.conv2d(x, weight, bias, **params)


@register("conv2d", sample=_conv_sample, torch=_torch_conv2d)
class Conv2d(Op):
    """Cross-correlation of x (N, C, H, W) with weight (O, C/groups, kh, kw), plus bias (O,).

    stride, dilation: int or pair. padding: int, pair, (top, bottom, left, right),
    "valid" or "same" (stride 1). groups: channels split into that many independent
    convolutions.
    """

    def forward(self, x, weight, bias=None, *, stride=1, padding=0, dilation=1, groups=1):
        x = check_input(x, "conv2d")
        weight = check_input(weight, "conv2d", "weight")
        out_channels = weight.shape[0]
        _check_groups("conv2d", groups, x.shape[1], out_channels, weight.shape[1])
        if bias is not None and np.shape(bias) != (out_channels,):
            raise ValueError(f"conv2d: expected bias of shape ({out_channels},), "
                             f"got {np.shape(bias)}")
        geometry = _geometry("conv2d", x.shape[2:], weight.shape[2:], stride, padding, dilation)
        self.params, self.geometry = _params(geometry, groups), geometry
        self.columns = columns = geometry.im2col(geometry.pad(x))
        out = _columns_times_weight(columns, weight, groups)            # (O, N*Ho*Wo)
        if bias is not None:
            out += np.asarray(bias).reshape(-1, 1)
        return _as_nchw(out, x.shape[0], geometry)

    def jvp(self, tangents, out, x, weight, bias):
        t_x, t_weight, t_bias = tangents
        terms = [apply(Conv2d, (t_x, weight, None), self.params) if t_x is not None else None,
                 apply(Conv2d, (x, t_weight, None), self.params) if t_weight is not None else None,
                 t_bias.reshape(-1, 1, 1) if t_bias is not None else None]
        return tangent_sum(*terms)

    def batch_rule(op_cls, values, batched, params, size):
        (x, weight, bias), (batched_x, batched_weight, batched_bias) = values, batched
        if not batched_weight and not batched_bias:
            return batch_merged(op_cls, values, batched, params, size)
        # one weight per element (per-example gradients): the elements become groups,
        # x (B, N, C, H, W) -> (N, B*C, H, W), weight (B, O, C/g, kh, kw) -> (B*O, ...)
        if not batched_x:
            x = materialized(x, size)
        if not batched_weight:
            weight = materialized(weight, size)
        n, channels = x.shape[1], x.shape[2]
        merged_x = x.swapaxes(0, 1).reshape((n, size * channels) + x.shape[3:])
        merged_weight = weight.reshape((size * weight.shape[1],) + weight.shape[2:])
        if bias is not None:
            bias = (bias if batched_bias else materialized(bias, size)).reshape(-1)
        groups = params.get("groups", 1)
        out = apply(op_cls, (merged_x, merged_weight, bias), dict(params, groups=size * groups))
        out = out.reshape((n, size, weight.shape[1]) + out.shape[2:])
        return out.swapaxes(0, 1)

    def vjp(self, g, out, x, weight, bias):
        needs_x, needs_weight, needs_bias = self.needs_grad
        if isinstance(g, Tensor):  # create_graph: record the differentiable gradient ops
            grad_bias = g.sum(axis=(0, 2, 3)) if needs_bias else None
            grad_x = (conv2d_input_grad(g, weight, input_size=x.shape, **self.params)
                      if needs_x else None)
            grad_weight = (conv2d_weight_grad(x, g, weight_size=weight.shape, **self.params)
                           if needs_weight else None)
            return grad_x, grad_weight, grad_bias
        grad_2d, groups = _gradient_2d(g), self.params["groups"]
        grad_bias = grad_2d.sum(axis=1) if needs_bias else None
        grad_x = (_input_grad(grad_2d, weight, groups, self.geometry, x.shape[0])
                  if needs_x else None)
        grad_weight = (_weight_grad(grad_2d, self.columns, groups, weight.shape)
                       if needs_weight else None)
        return grad_x, grad_weight, grad_bias


def _grad_sample(strategies, make_case):
    """Conv cases plus an output gradient ``g`` of the matching shape, turned into an
    (args, kwargs) case by ``make_case(x, weight, params, g)``."""
    def to_case(case):
        x, weight, params = case
        geometry = _geometry("conv2d", x.shape[2:], weight.shape[2:], params["stride"],
                             params["padding"], params["dilation"])
        grad_shape = (x.shape[0], weight.shape[0]) + geometry.output_hw
        return strategies.arrays(grad_shape).map(lambda g: make_case(x, weight, params, g))
    return _conv_sample(strategies, with_bias=False).flatmap(to_case)


def _input_grad_sample(strategies):
    return _grad_sample(strategies, lambda x, weight, params, g:
                        ((g, weight), dict(params, input_size=x.shape)))


def _weight_grad_sample(strategies):
    return _grad_sample(strategies, lambda x, weight, params, g:
                        ((x, g), dict(params, weight_size=weight.shape)))


def _torch_input_grad(torch, g, weight, *, input_size, stride=1, padding=0, dilation=1, groups=1):
    return torch.nn.grad.conv2d_input(tuple(input_size), weight, g, stride, padding, dilation,
                                      groups)


def _torch_weight_grad(torch, x, g, *, weight_size, stride=1, padding=0, dilation=1, groups=1):
    return torch.nn.grad.conv2d_weight(x, tuple(weight_size), g, stride, padding, dilation, groups)


@register("conv2d_input_grad", sample=_input_grad_sample, torch=_torch_input_grad)
class Conv2dInputGrad(Op):
    """The gradient of conv2d with respect to its input (a transposed convolution):
    g (N, O, Ho, Wo) and weight (O, C/groups, kh, kw) give (N, C, H, W) = ``input_size``."""

    def forward(self, g, weight, *, input_size, stride=1, padding=0, dilation=1, groups=1):
        g = check_input(g, "conv2d_input_grad", "gradient")
        weight = check_input(weight, "conv2d_input_grad", "weight")
        input_size = tuple(input_size)
        _check_groups("conv2d_input_grad", groups, input_size[1], weight.shape[0], weight.shape[1])
        geometry = _geometry("conv2d_input_grad", input_size[2:], weight.shape[2:], stride,
                             padding, dilation)
        if g.shape != (input_size[0], weight.shape[0]) + geometry.output_hw:
            expected = (input_size[0], weight.shape[0]) + geometry.output_hw
            raise ValueError(f"conv2d_input_grad: expected a gradient of shape {expected}, "
                             f"got {g.shape}")
        self.params = _params(geometry, groups)
        return _input_grad(_gradient_2d(g), weight, groups, geometry, g.shape[0])

    jvp = multilinear_jvp

    def vjp(self, u, out, g, weight):
        needs_g, needs_weight = self.needs_grad
        grad_g = conv2d(u, weight, None, **self.params) if needs_g else None
        grad_weight = (conv2d_weight_grad(u, g, weight_size=weight.shape, **self.params)
                       if needs_weight else None)
        return grad_g, grad_weight


@register("conv2d_weight_grad", sample=_weight_grad_sample, torch=_torch_weight_grad)
class Conv2dWeightGrad(Op):
    """The gradient of conv2d with respect to its weight: x (N, C, H, W) and g
    (N, O, Ho, Wo) give (O, C/groups, kh, kw) = ``weight_size``."""

    def forward(self, x, g, *, weight_size, stride=1, padding=0, dilation=1, groups=1):
        x = check_input(x, "conv2d_weight_grad")
        g = check_input(g, "conv2d_weight_grad", "gradient")
        weight_size = tuple(weight_size)
        _check_groups("conv2d_weight_grad", groups, x.shape[1], weight_size[0], weight_size[1])
        geometry = _geometry("conv2d_weight_grad", x.shape[2:], weight_size[2:], stride,
                             padding, dilation)
        if g.shape != (x.shape[0], weight_size[0]) + geometry.output_hw:
            raise ValueError(f"conv2d_weight_grad: expected a gradient of shape "
                             f"{(x.shape[0], weight_size[0]) + geometry.output_hw}, got {g.shape}")
        self.params = _params(geometry, groups)
        return _weight_grad(_gradient_2d(g), geometry.im2col(geometry.pad(x)), groups,
                            weight_size)

    jvp = multilinear_jvp

    def vjp(self, v, out, x, g):
        needs_x, needs_g = self.needs_grad
        grad_x = conv2d_input_grad(g, v, input_size=x.shape, **self.params) if needs_x else None
        grad_g = conv2d(x, v, None, **self.params) if needs_g else None
        return grad_x, grad_g


conv2d, conv2d_input_grad, conv2d_weight_grad = functions(
    "conv2d", "conv2d_input_grad", "conv2d_weight_grad")
