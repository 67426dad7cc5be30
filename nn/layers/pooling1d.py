"""MaxPool1d and AvgPool1d over (N, C, L) inputs."""
from .. import functional as F
from ..module import Module
from .linear import input_shape


def _check_1d(module, x):
    shape = input_shape(x)
    if len(shape) not in (2, 3):
        raise ValueError(f"{module._error_name()} expected a 3-d input (N, C, L) or a 2-d one "
                         f"(C, L), got shape {shape}")


class MaxPool1d(Module):
    """Maximum over each ``kernel_size`` window, moved by ``stride`` (default: the kernel);
    ``padding`` (at most half the kernel) counts as -inf."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation, self.ceil_mode = padding, dilation, ceil_mode

    def forward(self, x):
        _check_1d(self, x)
        return F.max_pool1d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool1d(Module):
    """Mean over each ``kernel_size`` window, moved by ``stride`` (default: the kernel);
    zero ``padding`` counts in the divisor unless ``count_include_pad=False``."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode, self.count_include_pad = padding, ceil_mode, count_include_pad

    def forward(self, x):
        _check_1d(self, x)
        return F.avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
