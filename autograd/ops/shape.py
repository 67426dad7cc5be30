"""Ops that rearrange elements without changing them: reshape, transpose, stack, pad..."""
import numpy as np

from ..op import Op, apply, functions, register, value_of
from ..broadcast import unbroadcast
from ..tensor import Tensor
from .axes import normalize_axes
from .index import scatter_add


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
    return apply(Reshape, (x,), {"shape": _shape_argument(shape)})


def _prime_factors(n):
    factors, p = [], 2
    while n > 1:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    return factors


def _reshape_sample(strategies):
    """``((x,), {shape})`` with a target of the same size (maybe one -1, maybe extra 1s)."""
    st, arrays, shapes = strategies.st, strategies.arrays, strategies.shapes

    @st.composite
    def draw_case(draw):
        x = draw(arrays(shapes()))
        factors = draw(st.permutations(_prime_factors(x.size)))
        cuts = sorted(draw(st.lists(st.integers(0, len(factors)), max_size=3)))
        bounds = [0] + cuts + [len(factors)]
        target = [int(np.prod(factors[a:b])) for a, b in zip(bounds, bounds[1:])]
        for _ in range(draw(st.integers(0, 2))):
            target.insert(draw(st.integers(0, len(target))), 1)
        if target and draw(st.booleans()):
            target[draw(st.integers(0, len(target) - 1))] = -1
        return (x,), {"shape": tuple(target)}
    return draw_case()


@register("reshape", method=("reshape", "view"), numpy=np.reshape, function=_reshape,
          sample=_reshape_sample,
          torch=lambda torch, x, shape: torch.reshape(x, shape))
class Reshape(Op):
    """Same elements in a new shape (one dimension may be -1)."""
    is_view = True
    vjp_uses_values = False

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


def _flatten_sample(strategies):
    st = strategies.st

    @st.composite
    def draw(draw):
        x = draw(strategies.arrays(strategies.shapes(min_dims=1)))
        start = draw(st.integers(-x.ndim, x.ndim - 1))
        end = draw(st.integers(start % x.ndim, x.ndim - 1))
        return (x,), {"start_dim": start, "end_dim": end}
    return draw()


@register("flatten", method=True, sample=_flatten_sample,
          torch=lambda torch, x, start_dim=0, end_dim=-1: torch.flatten(x, start_dim, end_dim))
def flatten(x, start_dim=0, end_dim=-1):
    """Merge dimensions ``start_dim..end_dim`` (inclusive) into one, as PyTorch's flatten;
    with the defaults every dimension (NumPy's ``ndarray.flatten``). Recorded as reshape."""
    shape = np.shape(x.data if isinstance(x, Tensor) else x)
    ndim = max(len(shape), 1)
    for name, dim in (("start_dim", start_dim), ("end_dim", end_dim)):
        if not isinstance(dim, (int, np.integer)) or not -ndim <= dim < ndim:
            raise ValueError(f"flatten: {name}={dim!r} is out of range for a "
                             f"{len(shape)}-d input of shape {shape}")
    start, end = start_dim % ndim, end_dim % ndim
    if start > end:
        raise ValueError(f"flatten: start_dim={start_dim} comes after end_dim={end_dim} for a "
                         f"{len(shape)}-d input")
    merged = int(np.prod(shape[start:end + 1], dtype=np.int64))
    new_shape = tuple(shape[:start]) + (merged,) + tuple(shape[end + 1:])
    return apply(Reshape, (x,), {"shape": new_shape})


@register("clone", method=True, numpy=np.copy, sample=lambda st: st.elementwise(1),
          torch=lambda torch, x: x.clone())
class Clone(Op):
    """A copy with its own memory that stays in the graph (``x.clone()``, ``np.copy``)."""
    vjp_uses_values = False

    def forward(self, x):
        return np.array(x, copy=True)

    def vjp(self, g, out, x):
        return (g,)


def _transpose(x, *axes, **kwargs):
    if "axes" in kwargs:
        axes = (kwargs.pop("axes"),)
    if kwargs:
        raise TypeError(f"transpose() got unexpected argument(s) {sorted(kwargs)}")
    axes = None if not axes or axes == (None,) else _shape_argument(axes)
    return apply(Transpose, (x,), {"axes": axes})


def _transpose_sample(strategies):
    """``((x,), {axes})`` with axes None or a permutation."""
    st, arrays, shapes = strategies.st, strategies.arrays, strategies.shapes

    @st.composite
    def draw_case(draw):
        x = draw(arrays(shapes()))
        axes = draw(st.one_of(st.none(), st.permutations(range(x.ndim)).map(tuple)))
        return (x,), {"axes": axes}
    return draw_case()


@register("transpose", method=("transpose", "permute"), numpy=np.transpose, function=_transpose,
          sample=_transpose_sample,
          torch=lambda torch, x, axes=None: x.permute(
              tuple(axes) if axes is not None else tuple(reversed(range(x.ndim)))))
class Transpose(Op):
    """Permute the axes (reverse them when ``axes`` is None)."""
    is_view = True
    vjp_uses_values = False

    def forward(self, x, *, axes=None):
        x = np.asarray(x)
        permuted = None if axes is None else sorted(int(a) % max(x.ndim, 1) for a in axes)
        if permuted is not None and permuted != list(range(x.ndim)):
            raise ValueError(f"transpose: axes {axes} is not a permutation of the "
                             f"{x.ndim} axes of an input of shape {x.shape}")
        self.axes = axes
        return np.transpose(x, axes)

    def vjp(self, g, out, x):
        inverse = None if self.axes is None else tuple(np.argsort([a % g.ndim for a in self.axes]))
        return (transpose(g, inverse),)


def _broadcast_to_sample(strategies):
    """``((x,), {shape})`` with a shape x broadcasts to: new leading axes, size-1 sides grown."""
    st = strategies.st

    @st.composite
    def draw_case(draw):
        x = draw(strategies.arrays(strategies.shapes(max_dims=3)))
        grown = [draw(st.integers(1, 3)) if side == 1 else side for side in x.shape]
        leading = draw(st.lists(st.integers(1, 3), max_size=strategies.MAX_DIMS - x.ndim))
        return (x,), {"shape": tuple(leading + grown)}
    return draw_case()


@register("broadcast_to", method=True, numpy=np.broadcast_to,
          sample=_broadcast_to_sample,
          torch=lambda torch, x, shape: torch.broadcast_to(x, shape))
class BroadcastTo(Op):
    """A read-only broadcast view of x in ``shape``."""
    is_view = True
    vjp_uses_values = False

    def forward(self, x, *, shape):
        x = np.asarray(x)
        self.input_shape = x.shape
        try:
            return np.broadcast_to(x, shape)
        except ValueError as err:
            raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from err

    def vjp(self, g, out, x):
        return (unbroadcast(g, self.input_shape),)


def normalize_axis(axis, ndim, op_name, argument="axis"):
    """A single ``axis`` as a non-negative int below ``ndim``; raises naming the op."""
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{op_name}: {argument} must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op_name}: {argument} {axis} is out of range for a {ndim}-d input")
    return int(axis) % ndim


def _swapaxes_sample(strategies):
    """``((x,), {axis1, axis2})``, axes possibly negative or equal."""
    st, arrays, shapes = strategies.st, strategies.arrays, strategies.shapes

    @st.composite
    def draw_case(draw):
        x = draw(arrays(shapes(min_dims=1)))
        axis = st.integers(-x.ndim, x.ndim - 1)
        return (x,), {"axis1": draw(axis), "axis2": draw(axis)}
    return draw_case()


@register("swapaxes", method=True, numpy=np.swapaxes,
          sample=_swapaxes_sample,
          torch=lambda torch, x, axis1, axis2: torch.swapaxes(x, axis1, axis2))
class SwapAxes(Op):
    """Interchange two axes (a view)."""
    is_view = True
    vjp_uses_values = False

    def forward(self, x, *, axis1, axis2):
        x = np.asarray(x)
        self.axis1 = normalize_axis(axis1, x.ndim, "swapaxes", "axis1")
        self.axis2 = normalize_axis(axis2, x.ndim, "swapaxes", "axis2")
        return x.swapaxes(self.axis1, self.axis2)

    def vjp(self, g, out, x):
        return (g.swapaxes(self.axis1, self.axis2),)


def _torch_expand_dims(torch, x, axis):
    axes = normalize_axes(axis, x.ndim + (len(axis) if isinstance(axis, (tuple, list)) else 1),
                          "expand_dims")
    for a in axes:
        x = x.unsqueeze(a)
    return x


def _expand_dims_sample(strategies):
    """``((x,), {axis})``: an int or a tuple of distinct positions in the result."""
    st = strategies.st

    @st.composite
    def draw_case(draw):
        x = draw(strategies.arrays(strategies.shapes(max_dims=3)))
        count = draw(st.integers(1, strategies.MAX_DIMS - x.ndim + 1))
        out_ndim = x.ndim + count
        positions = draw(st.lists(st.integers(0, out_ndim - 1), min_size=count, max_size=count,
                                  unique=True))
        positions = [p - out_ndim if draw(st.booleans()) else p for p in positions]
        axis = positions[0] if count == 1 and draw(st.booleans()) else tuple(positions)
        return (x,), {"axis": axis}
    return draw_case()


@register("expand_dims", numpy=np.expand_dims, method="unsqueeze", aliases=("unsqueeze",),
          sample=_expand_dims_sample, torch=_torch_expand_dims)
class ExpandDims(Op):
    """Insert size-1 axes at ``axis`` (positions in the result, an int or a tuple)."""
    is_view = True
    vjp_uses_values = False

    def forward(self, x, *, axis):
        x = np.asarray(x)
        count = len(axis) if isinstance(axis, (tuple, list)) else 1
        axes = normalize_axes(axis, x.ndim + count, "expand_dims")
        self.shape = x.shape
        return np.expand_dims(x, axes)

    def vjp(self, g, out, x):
        return (g.reshape(self.shape),)


def _squeeze_sample(strategies):
    """``((x,), kwargs)`` for squeeze: axis None (or omitted), or some of the size-1 axes."""
    st, arrays, shapes = strategies.st, strategies.arrays, strategies.shapes

    @st.composite
    def draw_case(draw):
        shape = draw(shapes(max_side=2))
        x = draw(arrays(shape))
        ones = [i for i, side in enumerate(shape) if side == 1]
        choice = draw(st.sampled_from(["omitted", "none"] + (["int", "tuple"] if ones else [])))
        if choice == "omitted":
            return (x,), {}
        if choice == "none":
            return (x,), {"axis": None}
        if choice == "int":
            negative = draw(st.booleans())
            return (x,), {"axis": draw(st.sampled_from(ones)) - (len(shape) if negative else 0)}
        return (x,), {"axis": tuple(draw(st.lists(st.sampled_from(ones), min_size=1, unique=True)))}
    return draw_case()


@register("squeeze", method=True, numpy=np.squeeze,
          sample=_squeeze_sample,
          torch=lambda torch, x, axis=None: x.squeeze() if axis is None else x.squeeze(axis))
class Squeeze(Op):
    """Remove size-1 axes: all of them, or those in ``axis`` (which must have size 1)."""
    is_view = True
    vjp_uses_values = False

    def forward(self, x, *, axis=None):
        x = np.asarray(x)
        if axis is not None:
            for a in normalize_axes(axis, x.ndim, "squeeze"):
                if x.shape[a] != 1:
                    raise ValueError(f"squeeze: cannot squeeze axis {a} of an input of shape "
                                     f"{x.shape}: its size is {x.shape[a]}, not 1")
        self.shape = x.shape
        return np.squeeze(x, axis=axis)

    def vjp(self, g, out, x):
        return (g.reshape(self.shape),)


def _flip_sample(strategies):
    """``((x,), {axis})`` with axis None, an int or a tuple."""
    st = strategies.st

    @st.composite
    def draw_case(draw):
        x = draw(strategies.arrays(strategies.shapes()))
        return (x,), {"axis": draw(strategies.axes_for(x.ndim))}
    return draw_case()


@register("flip", numpy=np.flip, sample=_flip_sample,
          torch=lambda torch, x, axis=None: torch.flip(x, normalize_axes(axis, x.ndim, "flip")))
class Flip(Op):
    """Reverse the order of elements along ``axis`` (all axes when None); a view."""
    is_view = True
    vjp_uses_values = False

    def forward(self, x, *, axis=None):
        x = np.asarray(x)
        normalize_axes(axis, x.ndim, "flip")
        self.axis = axis
        return np.flip(x, axis)

    def vjp(self, g, out, x):
        return (flip(g, axis=self.axis),)


def _pad_widths(pad_width, ndim):
    """NumPy's pad_width forms (n, (n,), (before, after), ((b0, a0), ...)) as ndim pairs."""
    widths = np.asarray(value_of(pad_width))
    if widths.dtype.kind not in "iu":
        raise TypeError(f"pad: pad_width must be integers, got {pad_width!r}")
    try:
        widths = np.broadcast_to(widths, (ndim, 2))
    except ValueError:
        raise ValueError(f"pad: pad_width {pad_width!r} does not fit a {ndim}-d input; give n, "
                         f"(before, after) or one (before, after) pair per axis") from None
    if np.any(widths < 0):
        raise ValueError(f"pad: pad_width must be non-negative, got {pad_width!r}")
    return tuple((int(before), int(after)) for before, after in widths)


def _torch_pad(torch, x, pad_width, mode="constant", constant_values=0):
    widths = _pad_widths(pad_width, x.ndim)
    flat = [w for pair in reversed(widths) for w in pair]
    return torch.nn.functional.pad(x, flat, mode=mode, value=constant_values)


def _pad_sample(strategies):
    """``((x,), {pad_width, constant_values})`` in NumPy's pad_width forms."""
    st, arrays, shapes = strategies.st, strategies.arrays, strategies.shapes

    @st.composite
    def draw_case(draw):
        x = draw(arrays(shapes(min_dims=1, max_dims=3)))
        width = st.integers(0, 2)
        form = draw(st.sampled_from(["int", "pair", "per_axis"]))
        if form == "int":
            pad_width = draw(width)
        elif form == "pair":
            pad_width = (draw(width), draw(width))
        else:
            pad_width = tuple((draw(width), draw(width)) for _ in range(x.ndim))
        kwargs = {"pad_width": pad_width}
        if draw(st.booleans()):
            kwargs["constant_values"] = draw(st.floats(-2.0, 2.0))
        return (x,), kwargs
    return draw_case()


@register("pad", numpy=np.pad, sample=_pad_sample, torch=_torch_pad)
class Pad(Op):
    """Pad with ``constant_values`` (the only mode supported: its gradient is a slice)."""
    vjp_uses_values = False

    def forward(self, x, *, pad_width, mode="constant", constant_values=0):
        x = np.asarray(x)
        if mode != "constant":
            raise ValueError(f"pad: mode {mode!r} is not supported; only mode='constant'")
        widths = _pad_widths(pad_width, x.ndim)
        self.inner = tuple(slice(before, before + size)
                           for (before, _), size in zip(widths, x.shape))
        if np.ndim(constant_values):  # per-axis values: NumPy's general routine
            return np.pad(x, widths, mode="constant", constant_values=constant_values)
        padded = tuple(size + before + after for size, (before, after) in zip(x.shape, widths))
        out = np.full(padded, constant_values, dtype=x.dtype)
        out[self.inner] = x
        return out

    def vjp(self, g, out, x):
        return (g[self.inner],)


def _torch_repeat(torch, x, repeats, axis=None):
    counts = np.asarray(repeats)
    counts = int(counts) if counts.ndim == 0 else torch.as_tensor(counts)
    return torch.repeat_interleave(x, counts, dim=axis)


def _repeat_sample(strategies):
    """``((x,), {repeats, axis})``: an int count or one count per element along axis."""
    st, arrays, shapes = strategies.st, strategies.arrays, strategies.shapes

    @st.composite
    def draw_case(draw):
        x = draw(arrays(shapes(max_dims=3)))
        axis = draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1))) if x.ndim else None
        length = x.size if axis is None else x.shape[axis]
        if draw(st.booleans()):
            repeats = draw(st.integers(0, 3))
        else:
            repeats = np.array(draw(st.lists(st.integers(0, 3), min_size=length, max_size=length)),
                               dtype=np.int64)
        return (x,), {"repeats": repeats, "axis": axis}
    return draw_case()


@register("repeat", method=True, numpy=np.repeat, sample=_repeat_sample,
          torch=_torch_repeat)
class Repeat(Op):
    """Repeat each element ``repeats`` times (an int, or one count per element) along
    ``axis``; over the flattened input when ``axis`` is None."""
    vjp_uses_values = False

    def forward(self, x, *, repeats, axis=None):
        x = np.asarray(x)
        counts = np.asarray(value_of(repeats))
        if counts.dtype.kind not in "iu":
            raise TypeError(f"repeat: repeats must be integers, got {repeats!r}")
        if np.any(counts < 0):
            raise ValueError(f"repeat: repeats must be non-negative, got {repeats!r}")
        self.shape = x.shape
        self.work_shape = (x.size,) if axis is None else x.shape
        self.axis = 0 if axis is None else normalize_axis(axis, x.ndim, "repeat")
        length = self.work_shape[self.axis]
        if counts.size == 1:
            counts = counts.reshape(())
        elif counts.shape != (length,):
            raise ValueError(f"repeat: repeats has shape {counts.shape}, but the axis it repeats "
                             f"has length {length}; give an int or one count per element")
        self.counts = counts
        return np.repeat(x, counts, axis=axis)

    def vjp(self, g, out, x):
        shape, axis = self.work_shape, self.axis
        if self.counts.ndim == 0:
            # each element's copies are adjacent: fold them into a new axis and sum it
            grouped = shape[:axis] + (shape[axis], int(self.counts)) + shape[axis + 1:]
            grad = g.reshape(grouped).sum(axis=axis + 1)
        else:
            source = np.repeat(np.arange(shape[axis]), self.counts)
            grad = scatter_add(g, shape=shape, index=(slice(None),) * axis + (source,))
        return (grad.reshape(self.shape),)


def _tile_reps(reps):
    reps = value_of(reps).tolist() if isinstance(reps, (Tensor, np.ndarray)) else reps
    reps = tuple(reps) if isinstance(reps, (tuple, list)) else (reps,)
    for r in reps:
        if not isinstance(r, (int, np.integer)) or isinstance(r, bool) or r < 0:
            raise ValueError(f"tile: reps must be non-negative ints, got {reps!r}")
    return reps


def _tile_sample(strategies):
    """``((x,), {reps})`` with reps an int or a tuple shorter or longer than x.ndim."""
    st = strategies.st

    @st.composite
    def draw_case(draw):
        x = draw(strategies.arrays(strategies.shapes(max_dims=3, max_side=3)))
        if draw(st.booleans()):
            reps = draw(st.integers(1, 3))
        else:
            reps = tuple(draw(st.lists(st.integers(1, 3), min_size=1,
                                       max_size=strategies.MAX_DIMS)))
        return (x,), {"reps": reps}
    return draw_case()


@register("tile", numpy=np.tile, sample=_tile_sample,
          torch=lambda torch, x, reps: torch.tile(x, _tile_reps(reps)))
class Tile(Op):
    """Repeat the whole input ``reps`` times along each axis (NumPy's ``tile``)."""
    vjp_uses_values = False

    def forward(self, x, *, reps):
        x = np.asarray(x)
        reps = _tile_reps(reps)
        ndim = max(x.ndim, len(reps))
        self.shape = x.shape
        self.padded_shape = (1,) * (ndim - x.ndim) + x.shape
        self.padded_reps = (1,) * (ndim - len(reps)) + reps
        return np.tile(x, reps)

    def vjp(self, g, out, x):
        # out[r * s + j] == x[j] along each axis: split every axis into (copy, position)
        # and sum over the copies.
        interleaved = tuple(size for pair in zip(self.padded_reps, self.padded_shape)
                            for size in pair)
        copies = tuple(range(0, 2 * len(self.padded_shape), 2))
        return (g.reshape(interleaved).sum(axis=copies).reshape(self.shape),)


def _as_sequence(arrays, op_name):
    if isinstance(arrays, (Tensor, np.ndarray)):
        return tuple(arrays[i] for i in range(len(arrays)))
    if not isinstance(arrays, (list, tuple)):
        raise TypeError(f"{op_name}: expected a sequence of arrays, got {type(arrays).__name__}")
    if not arrays:
        raise ValueError(f"{op_name}: need at least one array")
    return tuple(arrays)


def concatenate(arrays, axis=0):
    """Join a sequence of arrays along an existing ``axis`` (flattened first when None)."""
    return apply(Concatenate, _as_sequence(arrays, "concatenate"), {"axis": axis})


def _concatenate_sample(strategies):
    """``(([a, b, ...],), {axis})``: 1 to 3 arrays that agree except along ``axis``
    (or flattened, axis None)."""
    st, arrays, shapes = strategies.st, strategies.arrays, strategies.shapes

    @st.composite
    def draw_case(draw):
        count = draw(st.integers(1, 3))
        if draw(st.integers(0, 4)) == 0:
            return (tuple(draw(arrays(shapes())) for _ in range(count)),), {"axis": None}
        shape = list(draw(shapes(min_dims=1)))
        axis = draw(st.integers(-len(shape), len(shape) - 1))
        parts = []
        for _ in range(count):
            shape[axis] = draw(st.integers(1, 3))
            parts.append(draw(arrays(tuple(shape))))
        return (parts,), {"axis": axis}
    return draw_case()


@register("concatenate", numpy=np.concatenate, aliases=("cat",), function=concatenate,
          sample=_concatenate_sample,
          torch=lambda torch, arrays, axis=0: torch.cat(
              [a.reshape(-1) for a in arrays] if axis is None else list(arrays), dim=axis or 0))
class Concatenate(Op):
    """Join arrays along ``axis``; each input's gradient is its slice of the output's."""
    vjp_uses_values = False

    def forward(self, *arrays, axis=0):
        arrays = [np.asarray(a) for a in arrays]
        if axis is None:
            self.shapes = [a.shape for a in arrays]
            arrays = [a.reshape(-1) for a in arrays]
            axis = 0
        else:
            self.shapes = None
            for a in arrays:
                if a.ndim == 0:
                    raise ValueError("concatenate: zero-dimensional arrays cannot be "
                                     "concatenated; use stack, or pass axis=None")
            axis = normalize_axis(axis, arrays[0].ndim, "concatenate")
        expected = arrays[0].shape[:axis] + arrays[0].shape[axis + 1:]
        for a in arrays:
            if a.ndim != arrays[0].ndim or a.shape[:axis] + a.shape[axis + 1:] != expected:
                raise ValueError(f"concatenate: all input shapes must match except along axis "
                                 f"{axis}, got {[b.shape for b in arrays]}")
        self.axis, self.sizes = axis, [a.shape[axis] for a in arrays]
        return np.concatenate(arrays, axis=axis)

    def vjp(self, g, out, *arrays):
        grads, start, lead = [], 0, (slice(None),) * self.axis
        for index, (size, needs) in enumerate(zip(self.sizes, self.needs_grad)):
            piece = g[lead + (slice(start, start + size),)] if needs else None
            if piece is not None and self.shapes is not None:
                piece = piece.reshape(self.shapes[index])
            grads.append(piece)
            start += size
        return tuple(grads)


def stack(arrays, axis=0):
    """Join a sequence of same-shaped arrays along a new ``axis``."""
    return apply(Stack, _as_sequence(arrays, "stack"), {"axis": axis})


def _stack_sample(strategies):
    """``(([a, b, ...],), {axis})``: 1 to 3 arrays of one shape, axis in the result."""
    st, arrays, shapes = strategies.st, strategies.arrays, strategies.shapes

    @st.composite
    def draw_case(draw):
        shape = draw(shapes(max_dims=3))
        parts = [draw(arrays(shape)) for _ in range(draw(st.integers(1, 3)))]
        return (parts,), {"axis": draw(st.integers(-len(shape) - 1, len(shape)))}
    return draw_case()


@register("stack", numpy=np.stack, function=stack, sample=_stack_sample,
          torch=lambda torch, arrays, axis=0: torch.stack(list(arrays), dim=axis))
class Stack(Op):
    """Join same-shaped arrays along a new ``axis``; input i's gradient is ``g[..., i, ...]``."""
    vjp_uses_values = False

    def forward(self, *arrays, axis=0):
        arrays = [np.asarray(a) for a in arrays]
        shapes = {a.shape for a in arrays}
        if len(shapes) != 1:
            raise ValueError(f"stack: all inputs must have the same shape, got "
                             f"{[a.shape for a in arrays]}")
        self.axis = normalize_axis(axis, arrays[0].ndim + 1, "stack")
        return np.stack(arrays, axis=self.axis)

    def vjp(self, g, out, *arrays):
        lead = (slice(None),) * self.axis
        return tuple(g[lead + (i,)] if needs else None for i, needs in enumerate(self.needs_grad))


def _torch_split(torch, x, indices_or_sections, axis=0):
    if not isinstance(indices_or_sections, (int, np.integer)):
        indices_or_sections = [int(i) for i in indices_or_sections]
    return list(torch.tensor_split(x, indices_or_sections, dim=axis))


def _split_sample(strategies):
    """``((x, indices_or_sections), {axis})``: a divisor of the axis length, or cut points
    (sorted, possibly repeated or past the end, as NumPy allows)."""
    st, arrays, shapes = strategies.st, strategies.arrays, strategies.shapes

    @st.composite
    def draw_case(draw):
        shape = draw(shapes(min_dims=1))
        x = draw(arrays(shape))
        axis = draw(st.integers(-len(shape), len(shape) - 1))
        length = shape[axis]
        if draw(st.booleans()):
            sections = draw(st.sampled_from([d for d in range(1, length + 1) if length % d == 0]))
        else:
            sections = sorted(draw(st.lists(st.integers(0, length + 1), max_size=3)))
        return (x, sections), {"axis": axis}
    return draw_case()


@register("split", numpy=np.split, sample=_split_sample, torch=_torch_split)
def split(ary, indices_or_sections, axis=0):
    """Split ``ary`` into a list of sub-arrays along ``axis``, as NumPy's ``split``: an int
    N gives N equal parts (ValueError if the axis does not divide), a sequence of
    indices gives the cut points. Each part is a slice of ``ary`` (so differentiable)."""
    x = ary if isinstance(ary, Tensor) else np.asarray(ary)
    axis = normalize_axis(axis, x.ndim, "split")
    length = x.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0 or length % sections:
            raise ValueError(f"split: {sections} sections do not divide axis {axis} of length "
                             f"{length} equally; give a divisor of {length} or cut indices")
        cuts = [length // sections * i for i in range(1, sections)]
    else:
        cuts = [int(i) for i in value_of(indices_or_sections).reshape(-1).tolist()]
    bounds = [0] + cuts + [length]
    lead = (slice(None),) * axis
    return [x[lead + (slice(start, stop),)] for start, stop in zip(bounds, bounds[1:])]


(reshape, transpose, broadcast_to, swapaxes, expand_dims, squeeze, flip, pad, repeat,
 tile) = functions("reshape", "transpose", "broadcast_to", "swapaxes", "expand_dims", "squeeze",
                   "flip", "pad", "repeat", "tile")
