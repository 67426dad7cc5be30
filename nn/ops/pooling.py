"""2-d max and average pooling (NCHW) with PyTorch's options and output sizes.

Both VJPs build window-shaped gradients and sum them back with ``fold``, the registered
adjoint of unfold, so they stay differentiable under ``create_graph=True``.
"""
import numpy as np

from autograd import broadcast_to
from autograd.extend import Op, functions, register

from .unfold import fold
from .windows import Geometry, check_input, pair


def pool_geometry(op, input_hw, kernel_size, stride, padding, dilation, ceil_mode):
    """Geometry of a pooling window, PyTorch's rules: stride defaults to the kernel,
    padding is at most half the kernel, and with ``ceil_mode`` the last window may
    run past the input (extra bottom/right padding) but must start inside it."""
    kernel = pair(kernel_size, "kernel_size", op)
    no_stride = stride is None or (isinstance(stride, (tuple, list)) and not stride)
    stride = kernel if no_stride else pair(stride, "stride", op)
    pad_h, pad_w = pair(padding, "padding", op, minimum=0)
    dilation = pair(dilation, "dilation", op)
    if pad_h > kernel[0] // 2 or pad_w > kernel[1] // 2:
        raise ValueError(f"{op}: padding should be at most half of the kernel size, got "
                         f"padding={padding!r} for kernel_size={kernel_size!r}")
    extra = [0, 0]
    if ceil_mode:
        for axis, (size, pad, k, s, d) in enumerate(zip(input_hw, (pad_h, pad_w), kernel,
                                                          stride, dilation)):
            span = size + 2 * pad - d * (k - 1) - 1
            outputs = -(-span // s) + 1
            if (outputs - 1) * s >= size + pad:  # the last window would start in the padding
                outputs -= 1
            extra[axis] = max(0, (outputs - 1) * s + d * (k - 1) + 1 - (size + 2 * pad))
    padding = (pad_h, pad_h + extra[0], pad_w, pad_w + extra[1])
    return Geometry(op, input_hw, kernel, stride, padding, dilation)


def _pool_sample(strategies, average):
    st = strategies.st

    @st.composite
    def draw(draw):
        kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        stride = draw(st.one_of(st.none(), st.integers(1, 2)))
        padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
        shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)),
                 kernel[0] + draw(st.integers(0, 3)), kernel[1] + draw(st.integers(0, 3)))
        params = dict(kernel_size=kernel, stride=stride, padding=padding,
                      ceil_mode=draw(st.booleans()))
        if average:
            params["count_include_pad"] = draw(st.booleans())
            return (draw(strategies.arrays(shape)),), params
        # Distinct values: finite differences across a tie measure no derivative.
        return (draw(strategies.distinct_arrays(shape, spacing=0.05)),), params
    return draw()


def _fold_windows(columns, geometry):
    """Sum window values (N, C, kh*kw, Ho, Wo) back onto the input with ``fold``."""
    n, c = columns.shape[:2]
    kernel_area, output_area = columns.shape[2], geometry.output_hw[0] * geometry.output_hw[1]
    return fold(columns.reshape(n, c * kernel_area, output_area), output_size=geometry.input_hw,
                kernel_size=geometry.kernel, dilation=geometry.dilation,
                padding=geometry.padding, stride=geometry.stride)


@register("max_pool2d", sample=lambda st: _pool_sample(st, average=False),
          torch=lambda torch, x, **params: torch.nn.functional.max_pool2d(x, **params))
class MaxPool2d(Op):
    """Maximum over each kernel window of x (N, C, H, W); padding counts as -inf.
    The gradient goes to the first maximum of each window (PyTorch's choice on ties)."""

    def forward(self, x, *, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        x = check_input(x, "max_pool2d")
        geometry = pool_geometry("max_pool2d", x.shape[2:], kernel_size, stride, padding,
                                 dilation, ceil_mode)
        windows = geometry.windows(geometry.pad(x, -np.inf))            # (N, C, Ho, Wo, kh, kw)
        flat = windows.reshape(windows.shape[:4] + (-1,))
        self.geometry, self.argmax = geometry, flat.argmax(axis=-1)
        return np.take_along_axis(flat, self.argmax[..., None], axis=-1)[..., 0]

    def vjp(self, g, out, x):
        geometry = self.geometry
        kernel_area = geometry.kernel[0] * geometry.kernel[1]
        n, c, ho, wo = self.argmax.shape
        chosen = self.argmax[:, :, None] == np.arange(kernel_area).reshape(1, 1, -1, 1, 1)
        columns = g.reshape(n, c, 1, ho, wo) * chosen.astype(g.dtype)   # (N, C, kh*kw, Ho, Wo)
        return (_fold_windows(columns, geometry),)


def average_divisor(geometry, count_include_pad, divisor_override, dtype):
    """What each window's sum is divided by, as PyTorch's avg_pool2d: the window area
    clipped to the padded input (count_include_pad) or to the input itself."""
    if divisor_override is not None:
        if divisor_override == 0:
            raise ValueError("avg_pool2d: divisor_override must be non-zero")
        return np.asarray(divisor_override, dtype=dtype)
    top, _, left, _ = geometry.padding
    sides = []
    for size, pad, kernel, stride, outputs in zip(geometry.input_hw, (top, left), geometry.kernel,
                                                  geometry.stride, geometry.output_hw):
        start = np.arange(outputs) * stride - pad
        end = np.minimum(start + kernel, size + pad)
        if count_include_pad:
            sides.append(end - start)
        else:
            sides.append(np.minimum(end, size) - np.maximum(start, 0))
    return np.multiply.outer(sides[0], sides[1]).astype(dtype)


@register("avg_pool2d", sample=lambda st: _pool_sample(st, average=True),
          torch=lambda torch, x, **params: torch.nn.functional.avg_pool2d(x, **params))
class AvgPool2d(Op):
    """Mean over each kernel window of x (N, C, H, W), zero padding; divisor as PyTorch's
    (``count_include_pad``, ``divisor_override``)."""

    def forward(self, x, *, kernel_size, stride=None, padding=0, ceil_mode=False,
                count_include_pad=True, divisor_override=None):
        x = check_input(x, "avg_pool2d")
        geometry = pool_geometry("avg_pool2d", x.shape[2:], kernel_size, stride, padding, 1,
                                 ceil_mode)
        self.geometry = geometry
        self.divisor = average_divisor(geometry, count_include_pad, divisor_override, x.dtype)
        padded = geometry.pad(x)
        (kh, kw), (sh, sw) = geometry.kernel, geometry.stride
        ho, wo = geometry.output_hw
        total = np.zeros(x.shape[:2] + geometry.output_hw, dtype=x.dtype)
        for i in range(kh):  # kh*kw strided adds beat a reduction over a 6-d strided view
            for j in range(kw):
                total += padded[:, :, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw]
        return total / self.divisor

    def vjp(self, g, out, x):
        geometry = self.geometry
        n, c, ho, wo = g.shape
        kernel_area = geometry.kernel[0] * geometry.kernel[1]
        share = (g / self.divisor).reshape(n, c, 1, ho, wo)
        return (_fold_windows(broadcast_to(share, (n, c, kernel_area, ho, wo)), geometry),)


max_pool2d, avg_pool2d = functions("max_pool2d", "avg_pool2d")
