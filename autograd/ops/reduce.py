"""Reductions over ``axis`` (int, tuple or None) with ``keepdims``, as in NumPy."""
import numpy as np

from ..forward_mode import linear_jvp, symmetric_jvp
from ..batching import batch_arg_reduction, batch_leading, batch_reduction
from ..op import Op, functions, register, value_of
from .axes import normalize_axes, torch_dims
from .elementwise import exp, where
from .shape import broadcast_to, expand_dims


def expand_reduced(g, shape, axis, keepdims):
    """Broadcast a reduced gradient back to the input's ``shape`` (differentiably)."""
    if not keepdims:
        axes = normalize_axes(axis, len(shape), "reduction")
        kept = list(shape)
        for a in axes:
            kept[a] = 1
        g = g.reshape(tuple(kept))
    return broadcast_to(g, shape)


@register("sum", method=True, numpy=np.sum,
          sample=lambda st: st.reduction(),
          torch=lambda torch, x, axis=None, keepdims=False:
              torch.sum(x, dim=torch_dims(x, axis), keepdim=keepdims))
class Sum(Op):
    """Sum over ``axis``."""
    vjp_uses_values = False

    def forward(self, x, *, axis=None, keepdims=False):
        x = np.asarray(x)
        normalize_axes(axis, x.ndim, "sum")
        self.shape, self.axis, self.keepdims = x.shape, axis, keepdims
        # The method: np.sum's Python-level dispatch costs more than the sum of a small array.
        return x.sum(axis=axis, keepdims=keepdims)

    jvp = linear_jvp

    batch_rule = batch_reduction

    def vjp(self, g, out, x):
        return (expand_reduced(g, self.shape, self.axis, self.keepdims),)


@register("mean", method=True, numpy=np.mean,
          sample=lambda st: st.reduction(),
          torch=lambda torch, x, axis=None, keepdims=False:
              torch.mean(x, dim=torch_dims(x, axis), keepdim=keepdims))
class Mean(Op):
    """Arithmetic mean over ``axis``."""
    vjp_uses_values = False

    def forward(self, x, *, axis=None, keepdims=False):
        x = np.asarray(x)
        axes = normalize_axes(axis, x.ndim, "mean")
        self.shape, self.axis, self.keepdims = x.shape, axis, keepdims
        self.count = int(np.prod([x.shape[a] for a in axes])) if axes else 1
        return x.mean(axis=axis, keepdims=keepdims)

    jvp = linear_jvp

    batch_rule = batch_reduction

    def vjp(self, g, out, x):
        return (expand_reduced(g, self.shape, self.axis, self.keepdims) / self.count,)


def _reduced_count(shape, axis, op_name):
    axes = normalize_axes(axis, len(shape), op_name)
    return int(np.prod([shape[a] for a in axes])) if axes else 1


def _check_ddof(count, ddof, op_name):
    if not isinstance(ddof, (int, np.integer, float)) or isinstance(ddof, bool):
        raise TypeError(f"{op_name}: ddof must be a number, got {ddof!r}")
    if count - ddof <= 0:
        raise ValueError(f"{op_name}: ddof={ddof} leaves no degrees of freedom for "
                         f"{count} element(s) per reduction")


def _spread_tangent(params, tangent, x):
    """The tangent of var / 2 (and of std * std / 2): sum((x - mean) * t) / (n - ddof)."""
    axis, keepdims = params.get("axis"), params.get("keepdims", False)
    dof = _reduced_count(x.shape, axis, "var") - params.get("ddof", 0)
    centered = x - mean(x, axis=axis, keepdims=True)
    return sum(centered * tangent, axis=axis, keepdims=keepdims) / dof


class _Spread(Op):
    """What var and std share: the checks, the reduction, and d/dx = scale * (x - mean)."""
    reduce = None

    def forward(self, x, *, axis=None, ddof=0, keepdims=False):
        x = np.asarray(x)
        count = _reduced_count(x.shape, axis, self.name)
        _check_ddof(count, ddof, self.name)
        self.shape, self.axis, self.keepdims = x.shape, axis, keepdims
        self.dof = count - ddof
        return type(self).reduce(x, axis=axis, ddof=ddof, keepdims=keepdims)

    def vjp(self, g, out, x):
        centered = x - mean(x, axis=self.axis, keepdims=True)
        scale = expand_reduced(self.scale(g, out), self.shape, self.axis, self.keepdims)
        return (scale * centered,)


def _var_sample(strategies, min_count=1):
    """``((x,), {axis, ddof, keepdims})`` leaving at least ``min_count`` elements and one
    degree of freedom per reduction; distinct values, so the spread is never zero."""
    st = strategies.st

    @st.composite
    def draw_case(draw):
        shape = draw(strategies.shapes())
        axis = draw(strategies.axes_for(len(shape)))
        axes = range(len(shape)) if axis is None else axis if isinstance(axis, tuple) else (axis,)
        count = int(np.prod([shape[a] for a in axes]))
        if count < min_count:
            shape, axis, count = shape + (min_count,), None, int(np.prod(shape)) * min_count
        ddof = draw(st.sampled_from([0, 1] if count > 1 else [0]))
        return (draw(strategies.distinct_arrays(shape)),), {"axis": axis, "ddof": ddof,
                                                 "keepdims": draw(st.booleans())}
    return draw_case()


@register("var", method=True, numpy=np.var,
          sample=_var_sample,
          torch=lambda torch, x, axis=None, ddof=0, keepdims=False:
              torch.var(x, dim=torch_dims(x, axis), correction=ddof, keepdim=keepdims))
class Var(_Spread):
    """Variance over ``axis``: mean((x - mean(x))**2) * n / (n - ddof)."""
    reduce = staticmethod(np.var)

    def jvp(self, tangents, out, x):
        return _spread_tangent(self.params, tangents[0], x) * 2.0

    batch_rule = batch_reduction

    def scale(self, g, out):
        return g * (2.0 / self.dof)


@register("std", method=True, numpy=np.std,
          sample=lambda strategies: _var_sample(strategies, min_count=2),
          torch=lambda torch, x, axis=None, ddof=0, keepdims=False:
              torch.std(x, dim=torch_dims(x, axis), correction=ddof, keepdim=keepdims))
class Std(_Spread):
    """Standard deviation over ``axis``: sqrt(var(x, ddof)). At zero spread the gradient
    is 0, as in PyTorch (where the formula below would divide 0 by 0)."""
    reduce = staticmethod(np.std)

    def jvp(self, tangents, out, x):
        return _spread_tangent(self.params, tangents[0], x) / where(out == 0, 1.0, out)

    batch_rule = batch_reduction

    def scale(self, g, out):
        # d std / dx = (x - mean) / (dof * std)
        return g / (where(out == 0, 1.0, out) * self.dof)


def _extremum_share(x, out, shape, axis, keepdims):
    """1/k at each of the k positions that attain the extremum, 0 elsewhere: the gradient
    is split evenly among ties, as in PyTorch's amax/amin."""
    x, out = value_of(x), value_of(out)
    hits = x == expand_reduced(out, shape, axis, keepdims)
    counts = hits.sum(axis=axis, keepdims=True)
    return hits / counts.astype(x.dtype)


def _extremum(reduce, x, axis, keepdims, op_name):
    try:
        return reduce(x, axis=axis, keepdims=keepdims)
    except ValueError:
        raise ValueError(f"{op_name}: cannot reduce an empty axis of an input of shape "
                         f"{x.shape} (there is no identity for {op_name})") from None


def _torch_extremum(name):
    def compute(torch, x, axis=None, keepdims=False):
        return getattr(torch, name)(x, dim=torch_dims(x, axis), keepdim=keepdims)
    return compute


class _Extremum(Op):
    """max and min share forward and VJP; a subclass names its NumPy reduction."""
    reduce = None  # np.max or np.min (a staticmethod, so it is not bound to the op)

    def forward(self, x, *, axis=None, keepdims=False):
        x = np.asarray(x)
        normalize_axes(axis, x.ndim, self.name)
        self.shape, self.axis, self.keepdims = x.shape, axis, keepdims
        return _extremum(self.reduce, x, axis, keepdims, self.name)

    def jvp(self, tangents, out, x):
        # the tangent of the extremum is the mean tangent over the positions that attain it
        axis, keepdims = self.params.get("axis"), self.params.get("keepdims", False)
        hits = x == expand_reduced(out, x.shape, axis, keepdims)
        return (sum(tangents[0] * hits, axis=axis, keepdims=keepdims)
                / sum(hits, axis=axis, keepdims=keepdims))

    batch_rule = batch_reduction

    def vjp(self, g, out, x):
        share = _extremum_share(x, out, self.shape, self.axis, self.keepdims)
        return (expand_reduced(g, self.shape, self.axis, self.keepdims) * share,)


@register("max", method=True, numpy=(np.max, np.amax),
          sample=lambda st: st.reduction(distinct=True), torch=_torch_extremum("amax"))
class Max(_Extremum):
    """Largest element over ``axis``; tied maxima share the gradient equally."""
    reduce = staticmethod(np.max)


@register("min", method=True, numpy=(np.min, np.amin),
          sample=lambda st: st.reduction(distinct=True), torch=_torch_extremum("amin"))
class Min(_Extremum):
    """Smallest element over ``axis``; tied minima share the gradient equally."""
    reduce = staticmethod(np.min)


@register("prod", method=True, numpy=np.prod,
          sample=lambda st: st.prod_args(),
          torch=lambda torch, x, axis=None, keepdims=False:
              _torch_prod(torch, x, torch_dims(x, axis), keepdims))
class Prod(Op):
    """Product over ``axis``. The gradient of each element is the product of the others
    (not out / x), so it is right where elements are zero."""
    def forward(self, x, *, axis=None, keepdims=False):
        x = np.asarray(x)
        self.axes = normalize_axes(axis, x.ndim, "prod")
        self.shape, self.axis, self.keepdims = x.shape, axis, keepdims
        return np.prod(x, axis=axis, keepdims=keepdims)

    def jvp(self, tangents, out, x):
        # sum over the reduced axes of (product of the other elements) * tangent; the VJP
        # with a cotangent of ones gives those products
        self.axis, self.keepdims = self.params.get("axis"), self.params.get("keepdims", False)
        self.shape, self.axes = x.shape, normalize_axes(self.axis, len(x.shape), "prod")
        (others,) = self.vjp(np.ones(out.shape, dtype=out.dtype), out, x)
        return sum(tangents[0] * others, axis=self.axis, keepdims=self.keepdims)

    batch_rule = batch_reduction

    def vjp(self, g, out, x):
        g = expand_reduced(g, self.shape, self.axis, self.keepdims)
        if not self.axes:
            return (g,)
        # bring the reduced axes last, flattened into one, so prod_others works on it
        kept = [a for a in range(len(self.shape)) if a not in self.axes]
        order = tuple(kept) + self.axes
        moved_shape = tuple(self.shape[a] for a in order)
        reduced_size = int(np.prod(moved_shape[len(kept):]))
        flat = x.transpose(order).reshape(moved_shape[:len(kept)] + (reduced_size,))
        others = prod_others(flat).reshape(moved_shape).transpose(tuple(np.argsort(order)))
        return (g * others,)


def _torch_prod(torch, x, dims, keepdims):
    dims = (dims,) if isinstance(dims, int) else dims
    for d in sorted((d % max(x.ndim, 1) for d in dims), reverse=True):
        x = torch.prod(x, dim=d, keepdim=keepdims)
    return x


def _torch_prod_others(torch, x):
    pieces = [torch.cat([x[..., :i], x[..., i + 1:]], dim=-1).prod(dim=-1)
              for i in range(x.shape[-1])]
    return torch.stack(pieces, dim=-1)


@register("prod_others", public=False, sample=lambda st: st.prod_args(others=True),
          torch=_torch_prod_others)
class ProdOthers(Op):
    """For each element along the last axis, the product of all the other elements.

    When some product along the axis is zero (or not finite) it multiplies exclusive
    cumulative products from both ends, so there is no division by zero; otherwise
    total / x. A dedicated op (the gradient of ``prod``) so that ``prod`` is twice
    differentiable.
    """
    def forward(self, x):
        x = np.asarray(x)
        if x.ndim == 0:
            raise ValueError("prod_others: expected an input with at least one axis, got a 0-d one")
        total = np.prod(x, axis=-1, keepdims=True)
        if np.all(total != 0) and np.all(np.isfinite(total)):
            return total / x  # no zero anywhere, so dividing is exact enough and one pass
        before = np.ones_like(x)
        after = np.ones_like(x)
        if x.shape[-1] > 1:
            np.cumprod(x[..., :-1], axis=-1, out=before[..., 1:])
            after[..., :-1] = np.cumprod(x[..., :0:-1], axis=-1)[..., ::-1]
        return np.multiply(before, after, out=before)

    jvp = symmetric_jvp  # d others_i / d x_j = prod over k not in {i, j}: symmetric

    batch_rule = batch_leading  # works along the last axis

    def vjp(self, g, out, x):
        # d others_i / d x_j = prod of x_k over k not in {i, j}, for j != i. Build the
        # (n, n) matrix whose row i is x with x_i replaced by 1; prod_others of row i then
        # gives those products, and the diagonal (j == i) is masked out.
        size = x.shape[-1]
        eye = np.eye(size, dtype=value_of(x).dtype)
        rows = expand_dims(x, -2) * (1.0 - eye) + eye
        pairs = prod_others(rows) * (1.0 - eye)
        return ((expand_dims(g, -1) * pairs).sum(axis=-2),)


@register("logsumexp", method=True, sample=lambda st: st.reduction(low=-5.0, high=5.0),
          torch=lambda torch, x, axis=None, keepdims=False:
              _torch_logsumexp(torch, x, axis, keepdims))
class LogSumExp(Op):
    """log(sum(exp(x))) over ``axis``, computed as m + log(sum(exp(x - m))) with m the
    maximum, so it neither overflows nor underflows. Its gradient is softmax(x)."""
    def forward(self, x, *, axis=None, keepdims=False):
        x = np.asarray(x)
        axes = normalize_axes(axis, x.ndim, "logsumexp")
        self.shape, self.axis, self.keepdims = x.shape, axis, keepdims
        shift = np.max(x, axis=axes, keepdims=True)
        if np.all(np.isfinite(shift)):
            out = np.log(np.exp(x - shift).sum(axis=axes, keepdims=True)) + shift
        else:
            # a slice of all -inf (or with +inf) is not shifted; log(0) = -inf is its answer
            shift = np.where(np.isfinite(shift), shift, 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                out = np.log(np.exp(x - shift).sum(axis=axes, keepdims=True)) + shift
        return out if keepdims else out.reshape([n for a, n in enumerate(x.shape) if a not in axes])

    def jvp(self, tangents, out, x):
        axis, keepdims = self.params.get("axis"), self.params.get("keepdims", False)
        softmax = exp(x - expand_reduced(out, x.shape, axis, keepdims))
        return sum(tangents[0] * softmax, axis=axis, keepdims=keepdims)

    batch_rule = batch_reduction

    def vjp(self, g, out, x):
        full = expand_reduced(out, self.shape, self.axis, self.keepdims)
        return (expand_reduced(g, self.shape, self.axis, self.keepdims) * exp(x - full),)


def _torch_logsumexp(torch, x, axis, keepdims):
    if axis is None:
        out = torch.logsumexp(x.reshape(-1), dim=0)
        return out.reshape((1,) * x.ndim) if keepdims else out
    return torch.logsumexp(x, dim=axis, keepdim=keepdims)


def _check_arg_axis(axis, ndim, op_name):
    if axis is not None and (not isinstance(axis, (int, np.integer)) or isinstance(axis, bool)):
        raise TypeError(f"{op_name}: axis must be an int or None, got {axis!r}")
    normalize_axes(axis, ndim, op_name)


class _ArgExtremum(Op):
    """argmax and argmin share forward; a subclass names its NumPy function."""
    differentiable = False
    reduce = None  # np.argmax or np.argmin (a staticmethod, so it is not bound to the op)

    def forward(self, x, *, axis=None, keepdims=False):
        x = np.asarray(x)
        _check_arg_axis(axis, x.ndim, self.name)
        return _extremum(self.reduce, x, axis, keepdims, self.name)

    batch_rule = batch_arg_reduction


@register("argmax", method=True, numpy=np.argmax,
          sample=lambda st: st.reduction(distinct=True, allow_tuple=False),
          torch=lambda torch, x, axis=None, keepdims=False:
              torch.argmax(x, dim=axis, keepdim=keepdims))
class ArgMax(_ArgExtremum):
    """Index of the largest element (in the flattened input when ``axis`` is None).
    Integer-valued: it records no gradient."""
    reduce = staticmethod(np.argmax)


@register("argmin", method=True, numpy=np.argmin,
          sample=lambda st: st.reduction(distinct=True, allow_tuple=False),
          torch=lambda torch, x, axis=None, keepdims=False:
              torch.argmin(x, dim=axis, keepdim=keepdims))
class ArgMin(_ArgExtremum):
    """Index of the smallest element (in the flattened input when ``axis`` is None).
    Integer-valued: it records no gradient."""
    reduce = staticmethod(np.argmin)


sum, mean, prod_others = functions("sum", "mean", "prod_others")
