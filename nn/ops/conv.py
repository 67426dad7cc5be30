"""2-d convolution (cross-correlation, NCHW, as PyTorch's conv2d) and its two VJPs.

For y = conv2d(x, w) and a cotangent g, the three maps are one bilinear form
<conv2d(x, w), g> = <x, conv2d_input_grad(g, w)> = <w, conv2d_weight_grad(x, g)>,
so each op's VJP is written with the other two: the family is closed under
differentiation and second derivatives need nothing else. Forward passes gather
windows with a strided view (im2col) and contract them with one ``tensordot`` per
group; the input gradient scatters them back (col2im).
"""
import numpy as np

from autograd.extend import Op, functions, register

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


def _group_slices(groups, in_per_group, out_per_group):
    for k in range(groups):
        yield (slice(k * in_per_group, (k + 1) * in_per_group),
               slice(k * out_per_group, (k + 1) * out_per_group))


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
        self.params = _params(geometry, groups)
        windows = geometry.windows(geometry.pad(x))                     # (N, C, Ho, Wo, kh, kw)
        if groups == 1:
            out = np.tensordot(windows, weight, axes=([1, 4, 5], [1, 2, 3]))   # (N, Ho, Wo, O)
        else:
            out = np.empty(windows.shape[:1] + geometry.output_hw + (out_channels,),
                           dtype=np.result_type(x, weight))
            for inputs, outputs in _group_slices(groups, weight.shape[1], out_channels // groups):
                out[..., outputs] = np.tensordot(windows[:, inputs], weight[outputs],
                                                 axes=([1, 4, 5], [1, 2, 3]))
        if bias is not None:
            out += bias
        return np.ascontiguousarray(out.transpose(0, 3, 1, 2))

    def vjp(self, g, out, x, weight, bias):
        needs_x, needs_weight, needs_bias = self.needs_grad
        grad_x = (conv2d_input_grad(g, weight, input_size=x.shape, **self.params)
                  if needs_x else None)
        grad_weight = (conv2d_weight_grad(x, g, weight_size=weight.shape, **self.params)
                       if needs_weight else None)
        grad_bias = g.sum(axis=(0, 2, 3)) if needs_bias else None
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
        columns = np.empty((g.shape[0], input_size[1]) + geometry.kernel + geometry.output_hw,
                           dtype=np.result_type(g, weight))            # (N, C, kh, kw, Ho, Wo)
        out_per_group = weight.shape[0] // groups
        for inputs, outputs in _group_slices(groups, weight.shape[1], out_per_group):
            # (C_g, kh, kw, N, Ho, Wo) -> (N, C_g, kh, kw, Ho, Wo)
            columns[:, inputs] = np.moveaxis(
                np.tensordot(weight[outputs], g[:, outputs], axes=([0], [1])), 3, 0)
        return np.ascontiguousarray(geometry.fold(columns))

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
        windows = geometry.windows(geometry.pad(x))
        out = np.empty(weight_size, dtype=np.result_type(x, g))
        for inputs, outputs in _group_slices(groups, weight_size[1], weight_size[0] // groups):
            out[outputs] = np.tensordot(g[:, outputs], windows[:, inputs],
                                        axes=([0, 2, 3], [0, 2, 3]))
        return out

    def vjp(self, v, out, x, g):
        needs_x, needs_g = self.needs_grad
        grad_x = conv2d_input_grad(g, v, input_size=x.shape, **self.params) if needs_x else None
        grad_g = conv2d(x, v, None, **self.params) if needs_g else None
        return grad_x, grad_g


conv2d, conv2d_input_grad, conv2d_weight_grad = functions(
    "conv2d", "conv2d_input_grad", "conv2d_weight_grad")
