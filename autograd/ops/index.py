"""Indexing: ``x[index]`` (gather) and its adjoint ``scatter_add``, each the other's VJP.

Because the gradient of a gather is a scatter-add and the gradient of a scatter-add is
the same gather, the pair is differentiable to any order. Repeated integer indices
accumulate their gradients (``np.add.at``, or ``np.bincount`` for row lookups), as in
PyTorch.
"""
import numpy as np

from ..op import Op, apply, register
from ..tensor import Tensor


class InvalidIndexError(IndexError, ValueError):
    """An index that does not fit the array: an IndexError (as Python expects of
    ``x[i]``) that is also a ValueError (as the rest of the API raises for bad values)."""


_BASIC_TYPES = (int, np.integer, slice, type(None), type(Ellipsis))


def normalize_index(index, op_name="getitem"):
    """``index`` as a tuple NumPy understands: Tensors become their data, lists arrays.

    Raises TypeError naming ``op_name`` for entries that are not ints, slices, None,
    Ellipsis, or integer/boolean arrays.
    """
    items = index if isinstance(index, tuple) else (index,)
    normalized = []
    for item in items:
        if isinstance(item, Tensor):
            item = item.data
        elif isinstance(item, list):
            item = np.asarray([v.data if isinstance(v, Tensor) else v for v in item])
            if item.size == 0:
                item = item.astype(np.intp)
        if isinstance(item, _BASIC_TYPES) or isinstance(item, (bool, np.bool_)):
            normalized.append(item)
        elif isinstance(item, np.ndarray) and item.dtype.kind in "iub":
            normalized.append(item)
        else:
            what = f"array of dtype {item.dtype}" if isinstance(item, np.ndarray) else repr(item)
            raise TypeError(f"{op_name}: index entries must be ints, slices, None, Ellipsis or "
                            f"integer/boolean arrays; got {what}")
    return tuple(normalized)


def _is_basic(index):
    """True when no two selected positions coincide (no integer arrays), so assignment
    can replace the slower accumulating ``np.add.at``."""
    advanced = [item for item in index if isinstance(item, np.ndarray)]
    if not advanced:
        return True
    return len(advanced) == 1 and advanced[0].dtype == np.bool_


def _leading_rows(index):
    """The integer array of an index that picks rows only (``x[rows]``, ``x[rows, :]``),
    the embedding-lookup case that gets a faster scatter; None for any other index."""
    if not index or not isinstance(index[0], np.ndarray) or index[0].dtype.kind not in "iu":
        return None
    for item in index[1:]:
        if not (item is Ellipsis or (isinstance(item, slice) and item == slice(None))):
            return None
    return index[0]


def _scatter_rows(values, shape, rows):
    """zeros(shape) with ``values`` added at ``rows``: np.bincount over flat positions,
    a few times faster than np.add.at when rows repeat."""
    length = shape[0]
    if rows.size and (rows.min() < -length or rows.max() >= length):
        raise IndexError(f"row indices must lie in [{-length}, {length}), got "
                         f"[{rows.min()}, {rows.max()}]")
    rows = np.where(rows < 0, rows + length, rows)
    inner = int(np.prod(shape[1:]))
    positions = (rows.reshape(-1, 1) * inner + np.arange(inner)).reshape(-1)
    weights = np.broadcast_to(values, rows.shape + tuple(shape[1:])).reshape(-1)
    sums = np.bincount(positions, weights=weights, minlength=length * inner)
    return sums.reshape(shape).astype(values.dtype, copy=False)


def getitem(x, index):
    """``x[index]`` with NumPy's basic and advanced indexing; Tensors in ``index`` act as
    their data. Repeated integer indices accumulate their gradients.

    Raises:
        TypeError: an index entry of an unsupported type (e.g. a float).
        InvalidIndexError (IndexError and ValueError): an index that does not fit x.
    """
    return apply(GetItem, (x,), {"index": normalize_index(index)})


def _torch_index(torch, index):
    items = index if isinstance(index, tuple) else (index,)
    return tuple(torch.as_tensor(item) if isinstance(item, np.ndarray) else item
                 for item in items)


def _getitem_sample(strategies):
    """``((x,), {index})`` for ``x[index]``."""
    st = strategies.st

    @st.composite
    def draw_case(draw):
        shape = draw(strategies.shapes())
        return (draw(strategies.arrays(shape)),), {"index": draw(strategies.indices_for(shape))}
    return draw_case()


@register("getitem", operators=["__getitem__"], function=getitem,
          sample=_getitem_sample,
          torch=lambda torch, x, index: x[_torch_index(torch, index)],
          notes="gather; its VJP is scatter_add, whose VJP is this gather again")
class GetItem(Op):
    """Select elements of x by ``index`` (already normalized)."""
    is_view = True
    vjp_uses_values = False

    def forward(self, x, *, index):
        x = np.asarray(x)
        self.shape, self.index = x.shape, index
        try:
            return x[index]
        except IndexError as err:
            raise InvalidIndexError(f"getitem: index {index!r} does not fit an input of shape "
                                    f"{x.shape}: {err}") from None

    def vjp(self, g, out, x):
        return (scatter_add(g, shape=self.shape, index=self.index),)


def scatter_add(values, shape, index):
    """Zeros of ``shape`` with ``values`` added at ``index`` (repeats accumulate): the
    adjoint of ``getitem``, and its VJP."""
    return apply(ScatterAdd, (values,),
                 {"shape": tuple(shape), "index": normalize_index(index, "scatter_add")})


def _torch_scatter_add(torch, values, shape, index):
    # PyTorch's own adjoint of indexing: the gradient of base[index] w.r.t. base.
    base = torch.zeros(tuple(shape), dtype=values.dtype, requires_grad=True)
    return torch.autograd.grad(base[_torch_index(torch, index)], base, values,
                               create_graph=True)[0]


def _scatter_add_sample(strategies):
    """``((values,), {shape, index})`` where values has the shape of ``x[index]``."""
    st = strategies.st

    @st.composite
    def draw_case(draw):
        shape = draw(strategies.shapes())
        index = draw(strategies.indices_for(shape))
        target = np.empty(shape)[index].shape
        return (draw(strategies.arrays(target)),), {"shape": shape, "index": index}
    return draw_case()


@register("scatter_add", function=scatter_add,
          sample=_scatter_add_sample, torch=_torch_scatter_add,
          notes="adjoint of getitem: zeros(shape) with values added at index")
class ScatterAdd(Op):
    """Zeros of ``shape`` with ``values`` added at ``index``; repeated positions accumulate."""
    vjp_uses_values = False

    def forward(self, values, *, shape, index):
        values = np.asarray(values)
        self.index = index
        rows = _leading_rows(index)
        try:
            if rows is not None and len(shape) and values.dtype.kind == "f":
                return _scatter_rows(values, shape, rows)
            out = np.zeros(shape, dtype=values.dtype)
            if _is_basic(index):
                out[index] = values
            else:
                np.add.at(out, index, values)
        except (IndexError, ValueError) as err:
            raise InvalidIndexError(f"scatter_add: cannot add values of shape {values.shape} at "
                                    f"index {index!r} of shape {shape}: {err}") from None
        return out

    def vjp(self, g, out, values):
        return (g[self.index],)

