"""Sliding-window geometry shared by convolution, pooling and unfold/fold (NCHW).

``windows`` is a strided view (no copy) of every kernel position; ``fold_windows`` is
its adjoint, summing window-shaped values back onto the input grid. Padding is kept as
(top, bottom, left, right) so asymmetric cases (``padding="same"`` with an even kernel,
pooling's ``ceil_mode``) need no special path.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided


def pair(value, name, op, minimum=1):
    """``value`` (an int or a pair of ints) as a pair of ints >= ``minimum``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        result = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
        result = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(result) < minimum:
        raise ValueError(f"{op}: {name} must be at least {minimum}, got {value!r}")
    return result


def padding4(padding, op, kernel=None, dilation=(1, 1), stride=(1, 1)):
    """Padding as (top, bottom, left, right) from an int, a pair, a 4-tuple, "valid" or
    "same" ("same" pads the extra row/column at the bottom/right, as PyTorch)."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding == "same":
            if stride != (1, 1):
                raise ValueError(f"{op}: padding='same' is not supported for strided "
                                 f"convolutions (stride={stride})")
            total = [d * (k - 1) for d, k in zip(dilation, kernel)]
            (height, width) = total
            return (height // 2, height - height // 2, width // 2, width - width // 2)
        raise ValueError(f"{op}: padding must be an int, a pair, 'valid' or 'same', "
                         f"got {padding!r}")
    if isinstance(padding, (tuple, list)) and len(padding) == 4:
        if not all(isinstance(p, (int, np.integer)) and p >= 0 for p in padding):
            raise ValueError(f"{op}: padding must be non-negative ints, got {padding!r}")
        return tuple(int(p) for p in padding)
    top, left = pair(padding, "padding", op, minimum=0)
    return (top, top, left, left)


def output_side(size, kernel, stride, before, after, dilation):
    """Number of window positions along one axis (floor division, as PyTorch)."""
    return (size + before + after - dilation * (kernel - 1) - 1) // stride + 1


class Geometry:
    """Where the windows of a 2-d sliding-window op lie on an (N, C, H, W) input."""

    __slots__ = ("kernel", "stride", "padding", "dilation", "input_hw", "output_hw")

    def __init__(self, op, input_hw, kernel, stride, padding, dilation):
        self.kernel, self.stride, self.padding, self.dilation = kernel, stride, padding, dilation
        self.input_hw = tuple(input_hw)
        top, bottom, left, right = padding
        self.output_hw = (output_side(input_hw[0], kernel[0], stride[0], top, bottom, dilation[0]),
                          output_side(input_hw[1], kernel[1], stride[1], left, right, dilation[1]))
        if min(self.output_hw) < 1:
            extent = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
            raise ValueError(f"{op}: the input's spatial size {self.input_hw} (padded to "
                             f"{(input_hw[0] + top + bottom, input_hw[1] + left + right)}) is "
                             f"smaller than the (dilated) kernel {extent}")

    @property
    def padded_hw(self):
        top, bottom, left, right = self.padding
        return (self.input_hw[0] + top + bottom, self.input_hw[1] + left + right)

    def pad(self, x, value=0.0):
        """x with the padding added (x itself when there is none)."""
        top, bottom, left, right = self.padding
        if not (top or bottom or left or right):
            return x
        height, width = self.input_hw
        padded = np.full(x.shape[:2] + self.padded_hw, value, dtype=x.dtype)
        padded[:, :, top:top + height, left:left + width] = x
        return padded

    def crop(self, padded):
        """The input-sized part of a padded array."""
        top, _, left, _ = self.padding
        height, width = self.input_hw
        if padded.shape[2:] == (height, width):
            return padded
        return padded[:, :, top:top + height, left:left + width]

    def windows(self, padded):
        """Read-only view (N, C, Ho, Wo, kh, kw) of every window of a padded input."""
        n, c, stride_h, stride_w = padded.strides
        return as_strided(padded, shape=padded.shape[:2] + self.output_hw + self.kernel,
                          strides=(n, c, stride_h * self.stride[0], stride_w * self.stride[1],
                                   stride_h * self.dilation[0], stride_w * self.dilation[1]),
                          writeable=False)

    def tap(self, i, j):
        """Slices of the padded input that kernel element (i, j) reads, one per window."""
        (sh, sw), (dh, dw) = self.stride, self.dilation
        ho, wo = self.output_hw
        return (slice(i * dh, i * dh + sh * (ho - 1) + 1, sh),
                slice(j * dw, j * dw + sw * (wo - 1) + 1, sw))

    def im2col(self, padded):
        """Contiguous columns (C*kh*kw, N*Ho*Wo) of a padded input: rows in the (c, i, j)
        order of ``weight.reshape(O, -1)``, one column per output position (n, ho, wo),
        so that a convolution is one GEMM ``weight2d @ columns``. Built with kh*kw
        strided slice copies, which beat copying a 6-d window view."""
        batch, channels = padded.shape[:2]
        kh, kw = self.kernel
        columns = np.empty((channels, kh, kw, batch) + self.output_hw, dtype=padded.dtype)
        by_channel = padded.transpose(1, 0, 2, 3)
        for i in range(kh):
            for j in range(kw):
                rows, cols = self.tap(i, j)
                columns[:, i, j] = by_channel[:, :, rows, cols]
        return columns.reshape(channels * kh * kw, -1)

    def col2im(self, columns, batch):
        """The adjoint of ``im2col``: columns (C*kh*kw, N*Ho*Wo) summed back onto a
        contiguous (N, C, H, W) input, overlapping windows adding up."""
        kh, kw = self.kernel
        channels = columns.shape[0] // (kh * kw)
        columns = columns.reshape((channels, kh, kw, batch) + self.output_hw)
        padded = np.zeros((channels, batch) + self.padded_hw, dtype=columns.dtype)
        for i in range(kh):
            for j in range(kw):
                rows, cols = self.tap(i, j)
                padded[:, :, rows, cols] += columns[:, i, j]
        return np.ascontiguousarray(self.crop(padded).transpose(1, 0, 2, 3))

    def fold(self, columns):
        """Sum window values (N, C, kh, kw, Ho, Wo) back onto the input grid (N, C, H, W):
        the adjoint of ``windows``, where overlapping windows add up."""
        (kh, kw), (sh, sw), (dh, dw) = self.kernel, self.stride, self.dilation
        ho, wo = self.output_hw
        padded = np.zeros(columns.shape[:2] + self.padded_hw, dtype=columns.dtype)
        for i in range(kh):
            for j in range(kw):
                padded[:, :, i * dh:i * dh + sh * (ho - 1) + 1:sh,
                       j * dw:j * dw + sw * (wo - 1) + 1:sw] += columns[:, :, i, j]
        return self.crop(padded)


def check_input(x, op, what="input"):
    """x as a 4-d (N, C, H, W) floating ndarray, or a ValueError naming ``op``."""
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"{op}: expected a 4-d {what} (N, C, H, W), got shape {x.shape}")
    return x
