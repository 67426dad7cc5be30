"""MaxPool2d and AvgPool2d over NCHW inputs."""
from .. import functional as F
from ..module import Module
from ..ops.windows import pair
from ..validation import boolean, positive_int
from .linear import input_shape


def _check_windows(owner, kernel_size, stride, padding, dilation=1):
    """Refuse bad window arguments at construction rather than at the first forward."""
    pair(kernel_size, "kernel_size", owner)
    if stride is not None:
        pair(stride, "stride", owner)
    pair(padding, "padding", owner, minimum=0)
    pair(dilation, "dilation", owner)


def _check_4d(module, x):
    shape = input_shape(x)
    if len(shape) != 4:
        raise ValueError(f"{module._error_name()} expected a 4-d input (N, C, H, W), "
                         f"got shape {shape}")


class MaxPool2d(Module):
    """Maximum over each ``kernel_size`` window, moved by ``stride`` (default: the kernel);
    ``padding`` (at most half the kernel) counts as -inf."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        super().__init__()
        _check_windows("MaxPool2d", kernel_size, stride, padding, dilation)
        ceil_mode = boolean("MaxPool2d", "ceil_mode", ceil_mode)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation, self.ceil_mode = padding, dilation, ceil_mode

    def forward(self, x):
        _check_4d(self, x)
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """Mean over each ``kernel_size`` window, moved by ``stride`` (default: the kernel);
    zero ``padding`` counts in the divisor unless ``count_include_pad=False``."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        _check_windows("AvgPool2d", kernel_size, stride, padding)
        ceil_mode = boolean("AvgPool2d", "ceil_mode", ceil_mode)
        count_include_pad = boolean("AvgPool2d", "count_include_pad", count_include_pad)
        if divisor_override is not None:
            divisor_override = positive_int("AvgPool2d", "divisor_override", divisor_override)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, x):
        _check_4d(self, x)
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
