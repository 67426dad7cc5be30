"""unfold (im2col) and fold (col2im), PyTorch's layout: columns (N, C*kh*kw, L).

Each is the other's VJP, so both are differentiable to any order. Pooling uses fold
for its VJPs.
"""
import numpy as np

from autograd.extend import Op, functions, register

from .windows import Geometry, check_input, padding4, pair


def unfold_geometry(op, input_hw, kernel_size, dilation, padding, stride):
    kernel = pair(kernel_size, "kernel_size", op)
    dilation = pair(dilation, "dilation", op)
    stride = pair(stride, "stride", op)
    return Geometry(op, input_hw, kernel, stride, padding4(padding, op), dilation)


def _unfold_sample(strategies):
    st = strategies.st

    @st.composite
    def draw(draw):
        kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        params = dict(kernel_size=kernel, dilation=draw(st.integers(1, 2)),
                      padding=draw(st.integers(0, 1)), stride=draw(st.integers(1, 2)))
        extent = [params["dilation"] * (k - 1) + 1 for k in kernel]
        shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)),
                 extent[0] + draw(st.integers(0, 2)), extent[1] + draw(st.integers(0, 2)))
        return (draw(strategies.arrays(shape)),), params
    return draw()


def _fold_sample(strategies):
    def to_fold_case(case):
        (x,), params = case
        geometry = unfold_geometry("fold", x.shape[2:], params["kernel_size"], params["dilation"],
                                   params["padding"], params["stride"])
        columns_shape = (x.shape[0], x.shape[1] * int(np.prod(geometry.kernel)),
                         int(np.prod(geometry.output_hw)))
        return columns_shape, dict(params, output_size=x.shape[2:])
    return _unfold_sample(strategies).map(to_fold_case).flatmap(
        lambda case: strategies.arrays(case[0]).map(lambda columns: ((columns,), case[1])))


@register("unfold", sample=_unfold_sample,
          torch=lambda torch, x, **params: torch.nn.functional.unfold(x, **params))
class Unfold(Op):
    """Every kernel window of x (N, C, H, W) as a column: (N, C*kh*kw, Ho*Wo)."""

    def forward(self, x, *, kernel_size, dilation=1, padding=0, stride=1):
        x = check_input(x, "unfold")
        self.geometry = unfold_geometry("unfold", x.shape[2:], kernel_size, dilation, padding,
                                        stride)
        windows = self.geometry.windows(self.geometry.pad(x))          # (N, C, Ho, Wo, kh, kw)
        n, c, ho, wo, kh, kw = windows.shape
        return windows.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, ho * wo)

    def vjp(self, g, out, x):
        geometry = self.geometry
        return (fold(g, output_size=geometry.input_hw, kernel_size=geometry.kernel,
                     dilation=geometry.dilation, padding=geometry.padding, stride=geometry.stride),)


@register("fold", sample=_fold_sample,
          torch=lambda torch, columns, **params: torch.nn.functional.fold(columns, **params))
class Fold(Op):
    """Sum columns (N, C*kh*kw, L) back into an image (N, C, *output_size); where
    windows overlap their values add. The adjoint of unfold."""

    def forward(self, columns, *, output_size, kernel_size, dilation=1, padding=0, stride=1):
        columns = np.asarray(columns)
        output_size = pair(output_size, "output_size", "fold")
        geometry = unfold_geometry("fold", output_size, kernel_size, dilation, padding, stride)
        kh, kw = geometry.kernel
        ho, wo = geometry.output_hw
        if columns.ndim != 3 or columns.shape[1] % (kh * kw) or columns.shape[2] != ho * wo:
            raise ValueError(f"fold: expected columns of shape (N, C*{kh * kw}, {ho * wo}) for "
                             f"output_size {output_size} and kernel {geometry.kernel}, got shape "
                             f"{columns.shape}")
        self.geometry = geometry
        n, rows, _ = columns.shape
        return geometry.fold(columns.reshape(n, rows // (kh * kw), kh, kw, ho, wo))

    def vjp(self, g, out, columns):
        geometry = self.geometry
        return (unfold(g, kernel_size=geometry.kernel, dilation=geometry.dilation,
                       padding=geometry.padding, stride=geometry.stride),)


unfold, fold = functions("unfold", "fold")
