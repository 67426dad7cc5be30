"""AdaptiveAvgPool1d and AdaptiveAvgPool2d: average pooling to a fixed output size."""
from .. import functional as F
from ..module import Module
from .linear import input_shape


class _AdaptiveAvgPool(Module):
    ranks, layout = (), ""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        shape = input_shape(x)
        if len(shape) not in self.ranks:
            raise ValueError(f"{self._error_name()} expected an input of shape {self.layout}, "
                             f"got shape {shape}")
        return self.function(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPool):
    """(N, C, L) or (C, L) -> (..., output_size): output i averages input positions
    floor(i * L / out) .. ceil((i + 1) * L / out) - 1, as PyTorch's."""

    ranks, layout = (2, 3), "(N, C, L) or (C, L)"
    function = staticmethod(F.adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptiveAvgPool):
    """(N, C, H, W) or (C, H, W) -> (..., *output_size) (an int, or a pair where None
    keeps that side); PyTorch's bins along each axis."""

    ranks, layout = (3, 4), "(N, C, H, W) or (C, H, W)"
    function = staticmethod(F.adaptive_avg_pool2d)
