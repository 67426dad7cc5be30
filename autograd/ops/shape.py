"""Ops that rearrange elements without changing them: reshape, transpose, stack, pad..."""
import numpy as np

from ..op import Op, functions, register


def _shape_argument(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def _reshape(x, *shape, **kwargs):
    if "newshape" in kwargs:
        shape = (kwargs.pop("newshape"),)
    if "shape" in kwargs:
        shape = (kwargs.pop("shape"),)
    if kwargs:
        raise TypeError(f"reshape() got unexpected argument(s) {sorted(kwargs)}")
    from ..op import apply
    return apply(Reshape, (x,), {"shape": _shape_argument(shape)})


@register("reshape", method=True, numpy=np.reshape, function=_reshape,
          sample=lambda st: st.reshape_args(),
          torch=lambda torch, x, shape: torch.reshape(x, shape))
class Reshape(Op):
    """Same elements in a new shape (one dimension may be -1)."""
    def forward(self, x, *, shape):
        x = np.asarray(x)
        self.input_shape = x.shape
        try:
            return x.reshape(shape)
        except (ValueError, TypeError) as err:
            raise ValueError(f"reshape: cannot reshape an input of shape {x.shape} "
                             f"({x.size} elements) into shape {shape}") from err

    def vjp(self, g, out, x):
        return (g.reshape(self.input_shape),)


def _transpose(x, *axes, **kwargs):
    if "axes" in kwargs:
        axes = (kwargs.pop("axes"),)
    if kwargs:
        raise TypeError(f"transpose() got unexpected argument(s) {sorted(kwargs)}")
    axes = None if not axes or axes == (None,) else _shape_argument(axes)
    from ..op import apply
    return apply(Transpose, (x,), {"axes": axes})


@register("transpose", method=True, numpy=np.transpose, function=_transpose,
          sample=lambda st: st.transpose_args(),
          torch=lambda torch, x, axes=None: x.permute(*(axes if axes is not None else reversed(range(x.ndim)))))
class Transpose(Op):
    """Permute the axes (reverse them when ``axes`` is None)."""
    def forward(self, x, *, axes=None):
        x = np.asarray(x)
        if axes is not None and sorted(int(a) % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
            raise ValueError(f"transpose: axes {axes} is not a permutation of the "
                             f"{x.ndim} axes of an input of shape {x.shape}")
        self.axes = axes
        return np.transpose(x, axes)

    def vjp(self, g, out, x):
        inverse = None if self.axes is None else tuple(np.argsort([a % g.ndim for a in self.axes]))
        return (transpose(g, inverse),)


@register("broadcast_to", method=True, numpy=np.broadcast_to,
          sample=lambda st: st.broadcast_to_args(),
          torch=lambda torch, x, shape: torch.broadcast_to(x, shape))
class BroadcastTo(Op):
    """A read-only broadcast view of x in ``shape``."""
    def forward(self, x, *, shape):
        x = np.asarray(x)
        self.input_shape = x.shape
        try:
            return np.broadcast_to(x, shape)
        except ValueError as err:
            raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from err

    def vjp(self, g, out, x):
        from ..broadcast import unbroadcast
        return (unbroadcast(g, self.input_shape),)


reshape, transpose, broadcast_to = functions("reshape", "transpose", "broadcast_to")
