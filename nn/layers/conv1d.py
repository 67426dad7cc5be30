"""Conv1d: 1-d convolution (cross-correlation) over (N, C, L) inputs."""
from .. import functional as F
from ..module import Module
from ..ops.conv_variants import single
from .conv import check_conv_arguments
from .linear import add_affine_parameters, check_dtype, check_size, input_shape, reset_affine


def check_channels(module, x, channels, layout):
    """A ValueError naming ``module`` unless x is (N, C, L) or (C, L) with C == channels."""
    shape = input_shape(x)
    if len(shape) not in (2, 3):
        raise ValueError(f"{module._error_name()} expected a 3-d input {layout.format('N, C')} "
                         f"or a 2-d one {layout.format('C')}, got shape {shape}")
    check_size(module, x, len(shape) - 2, channels, f"{channels} channels on axis "
               f"{len(shape) - 2}")


class Conv1d(Module):
    """1-d convolution: input (N, C_in, L) or (C_in, L) -> (N, C_out, L_out).

    Args as PyTorch's: kernel_size, stride, dilation (int), padding (int, "valid" or
    "same"), groups, bias. The weight (C_out, C_in / groups, k) and bias start as
    PyTorch's: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C_in / groups * k.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", dtype=None):
        super().__init__()
        in_channels, out_channels, groups, bias = check_conv_arguments(
            "Conv1d", in_channels, out_channels, groups, bias, padding_mode)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = (single(kernel_size, "kernel_size", "Conv1d"),)
        self.stride = (single(stride, "stride", "Conv1d"),)
        self.dilation = (single(dilation, "dilation", "Conv1d"),)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"Conv1d: padding must be an int, 'valid' or 'same', "
                                 f"got {padding!r}")
            if padding == "same" and self.stride != (1,):
                raise ValueError("Conv1d: padding='same' is not supported for strided "
                                 "convolutions")
            self.padding = padding
        else:
            self.padding = (single(padding, "padding", "Conv1d", minimum=0),)
        self.padding_mode = padding_mode
        add_affine_parameters(self, (out_channels, in_channels // groups) + self.kernel_size,
                              bias, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw the default initial weights again."""
        reset_affine(self.weight, self.bias)

    def forward(self, x):
        check_channels(self, x, self.in_channels, "({}, L)")
        check_dtype(self, x, self.weight)
        padding = self.padding if isinstance(self.padding, str) else self.padding[0]
        return F.conv1d(x, self.weight, self.bias, self.stride[0], padding, self.dilation[0],
                        self.groups)

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,):
            text += f", padding={self.padding}"
        if self.dilation != (1,):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text
