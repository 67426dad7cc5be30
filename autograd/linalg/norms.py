"""Vector and matrix norms: NumPy's linalg.norm, built from differentiable ops."""
import numpy as np

from ..op import functions, register, value_of
from ..tensor import Tensor
from ..ops.axis_checks import axis_in_range
from .decompositions import svd


def _euclidean(x, axis, keepdims):
    """sqrt(sum(x**2)) whose gradient at x = 0 is 0 (PyTorch's choice) instead of NaN:
    where the sum is 0 the square root reads 1 and the result is masked to 0."""
    squares = sum(x * x, axis=axis, keepdims=keepdims)
    zero = value_of(squares) == 0
    if not np.any(zero):
        return sqrt(squares)
    return where(zero, 0.0, sqrt(where(zero, 1.0, squares)))


def _vector_norm(x, ord, axis, keepdims):
    if ord is None or ord == 2:
        return _euclidean(x, axis, keepdims)
    if ord == np.inf:
        return max(abs(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return min(abs(x), axis=axis, keepdims=keepdims)
    if ord == 0:
        return Tensor(np.sum(value_of(x) != 0, axis=axis, keepdims=keepdims)
                      .astype(value_of(x).dtype))
    if ord == 1:
        return sum(abs(x), axis=axis, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"linalg.norm: ord={ord!r} is a matrix norm; a vector norm takes a "
                         f"number, inf or -inf")
    return sum(abs(x) ** ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)


def _matrix_norm(x, ord, axes, keepdims):
    row, col = axes
    if ord in (None, "fro"):
        result = _euclidean(x, (row, col), keepdims=True)
    elif ord == "nuc" or ord in (2, -2):
        moved = moveaxis(x, (row, col), (-2, -1))
        values = svd(moved, compute_uv=False)
        reduced = sum(values, axis=-1) if ord == "nuc" else \
            (max if ord == 2 else min)(values, axis=-1)
        result = expand_dims(expand_dims(reduced, -1), -1)
        result = moveaxis(result, (-2, -1), (row, col))
    elif ord in (1, -1):
        result = (max if ord == 1 else min)(sum(abs(x), axis=row, keepdims=True), axis=col,
                                             keepdims=True)
    elif ord in (np.inf, -np.inf):
        result = (max if ord == np.inf else min)(sum(abs(x), axis=col, keepdims=True), axis=row,
                                                  keepdims=True)
    else:
        raise ValueError(f"linalg.norm: invalid matrix norm ord={ord!r}; expected None, 'fro', "
                         f"'nuc', 1, -1, 2, -2, inf or -inf")
    return result if keepdims else squeeze(result, axis=(row, col))


def _norm_sample(st):
    def build(drawn):
        x, data = drawn
        # magnitudes >= 1, all distinct and with no equal row/column sums (norms built
        # on abs, max and min have kinks at 0 and at ties)
        signs = data.draw(st.hnp.arrays(np.float64, x.shape,
                                        elements=st.st.sampled_from([-1.0, 1.0])))
        jitter = 0.01 * np.sqrt(np.arange(x.size) + 2.0).reshape(x.shape)
        x = (x - x.min() + 1.0 + jitter) * signs
        kind = data.draw(st.st.sampled_from(["none", "vector", "matrix"] if x.ndim >= 2
                                            else ["none", "vector"]))
        kwargs = {"keepdims": data.draw(st.st.booleans())}
        if kind == "none":
            return (x,), kwargs
        if kind == "vector":
            kwargs["axis"] = data.draw(st.st.integers(-x.ndim, x.ndim - 1))
            kwargs["ord"] = data.draw(st.st.sampled_from([None, 1, 2, 3, np.inf, -np.inf]))
            return (x,), kwargs
        kwargs["axis"] = tuple(data.draw(st.st.permutations(range(x.ndim)))[:2])
        kwargs["ord"] = data.draw(st.st.sampled_from([None, "fro", "nuc", 1, -1, 2, -2,
                                                      np.inf, -np.inf]))
        if kwargs["ord"] in ("nuc", 2, -2):
            if x.ndim != 2:
                kwargs["ord"] = "fro"
            else:  # distinct singular values keep the SVD's gradient finite
                rows, cols = (x.shape[a] for a in kwargs["axis"])
                x = data.draw(st.spectral_matrices(batch=(), rows=rows, cols=cols))
                x = x if kwargs["axis"] == (0, 1) else x.T.copy()
        return (x,), kwargs
    return st.st.tuples(st.shapes(min_dims=1, max_dims=3).flatmap(st.distinct_arrays), st.st.data()
                        ).map(build)


@register("linalg.norm", public=False, numpy=np.linalg.norm, sample=_norm_sample,
          torch=lambda torch, x, ord=None, axis=None, keepdims=False:
              torch.linalg.norm(x, ord, axis, keepdims))
def norm(x, ord=None, axis=None, keepdims=False):
    """NumPy's linalg.norm. ``axis`` None: the 2-norm of the flattened input when ord is
    None, else a vector (1-D) or matrix (2-D) norm. An int axis: vector norms (ord None
    or 2, 1, inf, -inf, 0 (count, no gradient), any p). A pair of axes: matrix norms
    ('fro' or None, 'nuc', 1, -1, 2, -2, inf, -inf). The 2-norm's gradient at zero is
    0, as PyTorch's; max/min-based norms share the gradient between tied entries, and
    the 2/-2/'nuc' norms use the SVD (finite while singular values are distinct)."""
    data = np.asarray(value_of(x))
    if not isinstance(x, Tensor):
        x = data
    if axis is None:
        if ord is None:
            result = _euclidean(reshape(x, (-1,)), 0, False)
            return reshape(result, (1,) * data.ndim) if keepdims else result
        if data.ndim == 1:
            return _vector_norm(x, ord, 0, keepdims)
        if data.ndim == 2:
            return _matrix_norm(x, ord, (0, 1), keepdims)
        raise ValueError(f"linalg.norm: ord={ord!r} with axis=None needs a 1-D or 2-D input, "
                         f"got shape {data.shape}")
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    axes = tuple(axis_in_range(a, data.shape, "linalg.norm") for a in axes)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    if len(axes) == 2 and axes[0] != axes[1]:
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError(f"linalg.norm: axis must be an int or a pair of distinct axes, got "
                     f"{axis!r} for an input of shape {data.shape}")


(sum, max, min, abs, sqrt, where, moveaxis, expand_dims, squeeze, reshape) = functions(
    "sum", "max", "min", "abs", "sqrt", "where", "moveaxis", "expand_dims", "squeeze",
    "reshape")


def _tensor_norm_sample(strategies):
    st = strategies.st

    @st.composite
    def draw_case(draw):
        x = draw(strategies.arrays(strategies.shapes(min_dims=1, max_dims=3), avoid=(0.0,)))
        p = draw(st.sampled_from(["fro", 1, 2, 3]))
        dim = draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1),
                             st.permutations(range(x.ndim)).map(lambda axes: tuple(axes[:2]))))
        return (x,), {"p": p, "dim": dim, "keepdim": draw(st.booleans())}
    return draw_case()


@register("norm", method=True, sample=_tensor_norm_sample,
          torch=lambda torch, x, p="fro", dim=None, keepdim=False: torch.norm(x, p, dim, keepdim))
def tensor_norm(x, p="fro", dim=None, keepdim=False):
    """PyTorch's ``x.norm(p, dim, keepdim)`` and ``torch.norm``: the p-norm of the entries
    over ``dim`` (every dimension when None), ``'fro'`` being the 2-norm; ``'nuc'`` is the
    nuclear norm over a pair of dims. NumPy's matrix norms: ``ag.linalg.norm``."""
    data = np.asarray(value_of(x))
    if p == "nuc":
        return norm(x, "nuc", axis=(-2, -1) if dim is None else dim, keepdims=keepdim)
    axes = tuple(range(data.ndim)) if dim is None else (
        (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim))
    axes = tuple(axis_in_range(a, data.shape, "norm") for a in axes)
    return _vector_norm(x, 2 if p == "fro" else p, axes, keepdim)
