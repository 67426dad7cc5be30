"""Linear algebra: matmul (np.matmul rules), dot, tensordot and einsum.

Each VJP contracts the output gradient with the other operands, skipping the inputs
that need no gradient (``self.needs_grad``): a layer's weight gradient then costs one
product, not two. Batch dimensions that broadcast are summed back by the engine.
"""
import functools
import string

import numpy as np

from ..forward_mode import multilinear_jvp
from ..batching import logical_ndim, logical_shape, with_rank
from ..op import Op, apply, functions, register, value_of
from .elementwise import multiply
from .index import scatter_add
from .shape import broadcast_to, expand_dims


def _operand(x):
    """A constant operand given as a list becomes an array, so VJPs can read ``ndim``."""
    return x if hasattr(x, "ndim") else np.asarray(x)


def _matmul_error(a, b):
    a_shape, b_shape = np.shape(a), np.shape(b)
    if not a_shape or not b_shape:
        return ValueError(f"matmul: operands must be at least 1-D, got shapes {a_shape} "
                          f"and {b_shape}")
    inner_b = b_shape[0] if len(b_shape) == 1 else b_shape[-2]
    if a_shape[-1] != inner_b:
        return ValueError(f"matmul: shapes {a_shape} and {b_shape} are not aligned: the last "
                          f"axis of the first ({a_shape[-1]}) must equal the "
                          f"{'only' if len(b_shape) == 1 else 'second-to-last'} axis of the "
                          f"second ({inner_b})")
    return ValueError(f"matmul: the batch dimensions of shapes {a_shape} and {b_shape} "
                      f"do not broadcast together")


def _matmul_sample(strategies):
    """``((a, b), {})`` under np.matmul's rules: 1-D or batched operands whose batch
    dimensions broadcast."""
    st = strategies.st

    @st.composite
    def draw_case(draw):
        m, k, n = (draw(st.integers(1, 4)) for _ in range(3))
        batch_a, batch_b = draw(strategies.broadcastable_shapes(2, max_dims=2))
        a_shape = (k,) if draw(st.integers(0, 3)) == 0 else batch_a + (m, k)
        b_shape = (k,) if draw(st.integers(0, 3)) == 0 else batch_b + (k, n)
        return (draw(strategies.arrays(a_shape)), draw(strategies.arrays(b_shape))), {}
    return draw_case()


@register("matmul", method=("matmul", "mm"), aliases=("mm",), numpy=np.matmul,
          operators=[("__matmul__", "__rmatmul__")],
          sample=_matmul_sample, torch=lambda torch, a, b: torch.matmul(a, b))
class MatMul(Op):
    """Matrix product with np.matmul's rules: 1-D operands are promoted to a row (first)
    or a column (second) and the added axis removed again; leading axes broadcast."""
    def forward(self, a, b):
        try:
            return np.matmul(a, b)
        except ValueError:
            raise _matmul_error(a, b) from None

    jvp = multilinear_jvp

    def batch_rule(op_cls, values, batched, params, size):
        # 1-d operands become matrices first, so that a batch axis is never taken for a
        # matrix axis; then the batched operands get the full rank and broadcast
        (a, b), (batched_a, batched_b) = values, batched
        a_ndim, b_ndim = logical_ndim(a) - batched_a, logical_ndim(b) - batched_b
        if a_ndim == 1:
            a = expand_dims(a, -2)
        if b_ndim == 1:
            b = expand_dims(b, -1)
        rank = max(a_ndim, b_ndim, 2)
        a = with_rank(a, rank) if batched_a else a
        b = with_rank(b, rank) if batched_b else b
        out = apply(op_cls, (a, b))
        promoted = tuple(axis for axis, was_vector in ((-2, a_ndim == 1), (-1, b_ndim == 1))
                         if was_vector)
        return out.squeeze(promoted) if promoted else out

    def vjp(self, g, out, a, b):
        a, b = _operand(a), _operand(b)
        grad_a = grad_b = None
        if a.ndim == 1 and b.ndim == 1:
            return (g * b if self.needs_grad[0] else None), (g * a if self.needs_grad[1] else None)
        if a.ndim == 1:     # out[..., n] = a[k] b[..., k, n]
            if self.needs_grad[0]:
                grad_a = (expand_dims(g, -2) @ b.swapaxes(-1, -2)).squeeze(-2)
            if self.needs_grad[1]:
                grad_b = expand_dims(a, -1) * expand_dims(g, -2)
        elif b.ndim == 1:   # out[..., m] = a[..., m, k] b[k]
            if self.needs_grad[0]:
                grad_a = expand_dims(g, -1) * b
            if self.needs_grad[1]:
                grad_b = (a.swapaxes(-1, -2) @ expand_dims(g, -1)).squeeze(-1)
        else:
            if self.needs_grad[0]:
                grad_a = g @ b.swapaxes(-1, -2)
            if self.needs_grad[1]:
                if b.ndim == 2 and a.ndim > 2:
                    # a shared matrix: fold the batch into the product instead of making a
                    # gradient per batch element and summing them afterwards
                    rows = a.reshape(-1, a.shape[-1])
                    grad_b = rows.swapaxes(-1, -2) @ g.reshape(-1, g.shape[-1])
                elif a.shape[-2] == 1:
                    # outer products (one row per matrix: per-example gradients under
                    # vmap): broadcasting beats a batched matmul with an inner size of 1,
                    # and its innermost loop should run over the longer of the two vectors
                    # (784 pixels, not 32 hidden units); the result is then a transposed
                    # view, which is the layout a Linear weight's gradient (W.T) wants
                    if g.shape[-1] >= a.shape[-1]:
                        grad_b = a.swapaxes(-1, -2) * g
                    else:
                        grad_b = (g.swapaxes(-1, -2) * a).swapaxes(-1, -2)
                else:
                    grad_b = a.swapaxes(-1, -2) @ g
        return grad_a, grad_b


def _dot_sample(strategies):
    """``((a, b), {})`` for np.dot: 0-d with anything, or a's last axis matching b's
    second-to-last (only, when 1-D)."""
    st, arrays, shapes = strategies.st, strategies.arrays, strategies.shapes

    @st.composite
    def draw_case(draw):
        k = draw(st.integers(1, 4))
        a_ndim, b_ndim = draw(st.integers(0, 3)), draw(st.integers(0, 3))
        side = st.integers(1, 3)
        if a_ndim == 0 or b_ndim == 0:
            a_shape = draw(shapes(max_dims=3)) if a_ndim else ()
            b_shape = draw(shapes(max_dims=3)) if b_ndim else ()
        else:
            a_shape = tuple(draw(side) for _ in range(a_ndim - 1)) + (k,)
            b_batch = tuple(draw(side) for _ in range(b_ndim - 2))
            b_shape = (k,) if b_ndim == 1 else b_batch + (k, draw(side))
        return (draw(arrays(a_shape)), draw(arrays(b_shape))), {}
    return draw_case()


@register("dot", method=True, numpy=np.dot, sample=_dot_sample,
          torch=lambda torch, a, b: torch.tensordot(a, b, dims=(
              [a.ndim - 1], [max(b.ndim - 2, 0)])) if a.ndim and b.ndim else a * b)
def dot(a, b):
    """np.dot: a product for 0-d operands, matmul up to 2-D, and for N-D a sum over the
    last axis of ``a`` and the second-to-last of ``b`` (the last when ``b`` is 1-D)."""
    # shapes as the operands show them (a batched tensor under vmap: one element's)
    a_shape, b_shape = tuple(_operand(a).shape), tuple(_operand(b).shape)
    a_ndim, b_ndim = len(a_shape), len(b_shape)
    if a_ndim == 0 or b_ndim == 0:
        return multiply(a, b)
    inner = 0 if b_ndim == 1 else b_ndim - 2
    if a_shape[-1] != b_shape[inner]:
        raise ValueError(f"dot: shapes {a_shape} and {b_shape} are not aligned: axis "
                         f"{a_ndim - 1} of the first ({a_shape[-1]}) must equal axis {inner} "
                         f"of the second ({b_shape[inner]})")
    if a_ndim <= 2 and b_ndim <= 2:
        return matmul(a, b)
    return tensordot(a, b, axes=([a_ndim - 1], [inner]))


def _tensordot_axes(axes, a_shape, b_shape):
    """``axes`` as two equal-length lists of non-negative axes of a and b."""
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, bool):
        if not 0 <= axes <= min(len(a_shape), len(b_shape)):
            raise ValueError(f"tensordot: axes={axes} does not fit shapes {a_shape} and {b_shape}")
        a_axes, b_axes = range(len(a_shape) - axes, len(a_shape)), range(axes)
    else:
        try:
            a_axes, b_axes = axes
        except (TypeError, ValueError):
            raise TypeError(f"tensordot: axes must be an int or a pair of axis sequences, "
                            f"got {axes!r}") from None
    a_axes = [a_axes] if isinstance(a_axes, (int, np.integer)) else list(a_axes)
    b_axes = [b_axes] if isinstance(b_axes, (int, np.integer)) else list(b_axes)
    if len(a_axes) != len(b_axes):
        raise ValueError(f"tensordot: axes {axes!r} pair {len(a_axes)} axes of the first "
                         f"operand with {len(b_axes)} of the second")
    normalized = []
    for which, chosen, shape in (("first", a_axes, a_shape), ("second", b_axes, b_shape)):
        result = []
        for axis in chosen:
            if not isinstance(axis, (int, np.integer)) or not -len(shape) <= axis < len(shape):
                raise ValueError(f"tensordot: axis {axis!r} is out of range for the {which} "
                                 f"operand of shape {shape}")
            result.append(int(axis) % len(shape))
        if len(set(result)) != len(result):
            raise ValueError(f"tensordot: axes {chosen!r} of the {which} operand repeat an axis")
        normalized.append(result)
    for i, j in zip(*normalized):
        if a_shape[i] != b_shape[j]:
            raise ValueError(f"tensordot: shapes {a_shape} and {b_shape} do not match on the "
                             f"summed axes: axis {i} has size {a_shape[i]}, axis {j} has "
                             f"{b_shape[j]}")
    return normalized[0], normalized[1]


def _torch_tensordot(torch, a, b, axes=2):
    a_axes, b_axes = _tensordot_axes(axes, tuple(a.shape), tuple(b.shape))
    return torch.tensordot(a, b, dims=(a_axes, b_axes))


def _tensordot_sample(strategies):
    """``((a, b), {axes})`` with axes an int (a's last N with b's first N) or a pair of
    axis lists in any order (negative axes included)."""
    st, arrays = strategies.st, strategies.arrays

    @st.composite
    def draw_case(draw):
        summed = draw(st.lists(st.integers(1, 3), max_size=2))
        free_a = draw(st.lists(st.integers(1, 3), max_size=2))
        free_b = draw(st.lists(st.integers(1, 3), max_size=2))
        if draw(st.booleans()):
            a_shape, b_shape = tuple(free_a + summed), tuple(summed + free_b)
            axes = len(summed)
        else:
            a_order = draw(st.permutations(range(len(free_a) + len(summed))))
            b_order = draw(st.permutations(range(len(free_b) + len(summed))))
            a_sides, b_sides = free_a + summed, summed + free_b
            a_shape = tuple(a_sides[i] for i in a_order)
            b_shape = tuple(b_sides[i] for i in b_order)
            a_axes = [list(a_order).index(len(free_a) + i) for i in range(len(summed))]
            b_axes = [list(b_order).index(i) for i in range(len(summed))]
            if draw(st.booleans()):
                a_axes = [axis - len(a_shape) for axis in a_axes]
            axes = (a_axes, b_axes)
        return (draw(arrays(a_shape)), draw(arrays(b_shape))), {"axes": axes}
    return draw_case()


@register("tensordot", numpy=np.tensordot, sample=_tensordot_sample,
          torch=_torch_tensordot)
class TensorDot(Op):
    """Sum products over the paired ``axes`` of a and b; the result's axes are a's free
    axes then b's, each in order. ``axes=N`` pairs a's last N with b's first N."""
    def forward(self, a, b, *, axes=2):
        a, b = np.asarray(a), np.asarray(b)
        self.a_axes, self.b_axes = _tensordot_axes(axes, a.shape, b.shape)
        return np.tensordot(a, b, axes=(self.a_axes, self.b_axes))

    jvp = multilinear_jvp

    def batch_rule(op_cls, values, batched, params, size):
        (a, b), (batched_a, batched_b) = values, batched
        a_shape, b_shape = logical_shape(a)[batched_a:], logical_shape(b)[batched_b:]
        a_axes, b_axes = _tensordot_axes(params.get("axes", 2), a_shape, b_shape)
        if batched_a and batched_b:  # one einsum sharing the batch letter
            letters = iter(string.ascii_letters[1:])
            a_term = "a" + "".join(next(letters) for _ in a_shape)
            b_term = ["a"] + [a_term[1 + a_axes[b_axes.index(j)]] if j in b_axes else next(letters)
                              for j in range(len(b_shape))]
            free = ([c for i, c in enumerate(a_term[1:]) if i not in a_axes]
                    + [c for j, c in enumerate(b_term[1:]) if j not in b_axes])
            return einsum(f"{a_term},{''.join(b_term)}->a{''.join(free)}", a, b)
        if batched_a:
            return apply(op_cls, (a, b), {"axes": ([i + 1 for i in a_axes], b_axes)})
        out = apply(op_cls, (a, b), {"axes": (a_axes, [j + 1 for j in b_axes])})
        front = len(a_shape) - len(a_axes)  # b's free axes, the batch first, follow a's
        return out.transpose((front,) + tuple(i for i in range(out.ndim) if i != front))

    def vjp(self, g, out, a, b):
        a, b = _operand(a), _operand(b)
        a_axes, b_axes = self.a_axes, self.b_axes
        a_free = [i for i in range(a.ndim) if i not in a_axes]
        b_free = [j for j in range(b.ndim) if j not in b_axes]
        g_a_part, g_b_part = list(range(len(a_free))), list(range(len(a_free), g.ndim))
        grad_a = grad_b = None
        if self.needs_grad[0]:
            # tensordot leaves a's free axes, then b's summed axes in b's order; map those
            # back to the a axes they were paired with, and undo the permutation.
            summed_b = sorted(b_axes)
            layout = a_free + [a_axes[b_axes.index(j)] for j in summed_b]
            grad_a = tensordot(g, b, axes=(g_b_part, b_free)).transpose(tuple(np.argsort(layout)))
        if self.needs_grad[1]:
            summed_a = sorted(a_axes)
            layout = [b_axes[a_axes.index(i)] for i in summed_a] + b_free
            grad_b = tensordot(a, g, axes=(a_free, g_a_part)).transpose(tuple(np.argsort(layout)))
        return grad_a, grad_b


_LETTERS = set(string.ascii_letters)


@functools.lru_cache(maxsize=256)
def _parse_cached(subscripts, shapes):
    return parse_einsum(subscripts, shapes)


def parse_einsum(subscripts, shapes):
    """Rewrite ``subscripts`` for operands of ``shapes`` without ellipses or implicit output.

    Returns (input terms, output term, size of each letter). Ellipses become fresh
    letters, right-aligned as NumPy broadcasts them; an implicit output is the ellipsis
    letters then the letters used once, in alphabetical order (NumPy's rule).
    """
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: expected a subscripts string as first argument, got "
                        f"{type(subscripts).__name__} (the interleaved operand/sublist form "
                        f"is not supported)")
    spec = subscripts.replace(" ", "")
    if spec.count("->") > 1:
        raise ValueError(f"einsum: subscripts {subscripts!r} have more than one '->'")
    inputs, arrow, output = spec.partition("->")
    explicit_ellipsis = "..." in output
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: subscripts {subscripts!r} name {len(terms)} operand(s), "
                         f"but {len(shapes)} were given")
    for term in terms + [output]:
        letters = term.replace("...", "", 1)
        if any(c not in _LETTERS for c in letters):
            raise ValueError(f"einsum: invalid subscripts {subscripts!r}: only letters, ',', "
                             f"'->' and one '...' per operand are allowed")
    used = set(spec) & _LETTERS
    ellipsis_dims = []
    for term, shape in zip(terms, shapes):
        named = len(term) - (3 if "..." in term else 0)
        if ("..." not in term and named != len(shape)) or named > len(shape):
            raise ValueError(f"einsum: operand term {term!r} names {named} axes, but the "
                             f"operand has shape {shape}")
        ellipsis_dims.append(len(shape) - named if "..." in term else 0)
    fresh = "".join(sorted(_LETTERS - used))[:max(ellipsis_dims, default=0)]
    terms = [term.replace("...", fresh[len(fresh) - n:] if n else "")
             for term, n in zip(terms, ellipsis_dims)]
    if arrow:
        output = output.replace("...", fresh)
    else:
        counts = {c: "".join(terms).count(c) for c in used}
        output = fresh + "".join(sorted(c for c in used if counts[c] == 1))
    if len(set(output)) != len(output):
        raise ValueError(f"einsum: output subscripts of {subscripts!r} repeat a letter")
    if arrow and not explicit_ellipsis and fresh:
        raise ValueError(f"einsum: the output of {subscripts!r} needs '...' for the operands' "
                         f"ellipsis axes")
    sizes = {}
    for term, shape in zip(terms, shapes):
        own = {}
        for c, n in zip(term, shape):
            if own.setdefault(c, n) != n:
                raise ValueError(f"einsum: subscript {c!r} is repeated in one operand with "
                                 f"different sizes {own[c]} and {n} in {subscripts!r}")
            if c in sizes and sizes[c] != n and 1 not in (sizes[c], n):
                raise ValueError(f"einsum: subscript {c!r} has sizes {sizes[c]} and {n} in "
                                 f"{subscripts!r} for shapes {list(shapes)}")
            sizes[c] = max(sizes.get(c, 1), n)
    missing = [c for c in output if c not in sizes]
    if missing:
        raise ValueError(f"einsum: output subscripts {missing} of {subscripts!r} appear in "
                         f"no operand")
    return tuple(terms), output, sizes


def einsum(subscripts, *operands, optimize="auto"):
    """Einstein summation as np.einsum: explicit ('ij,jk->ik') or implicit output,
    '...' broadcasting, and repeated letters within an operand (diagonals).

    ``optimize="auto"`` (the default) lets NumPy search a contraction order where that
    pays: from three operands, or two of at least 64x64 (measured: the search costs about
    0.3 ms; a 64x512 @ 512x512 @ 512x8 chain went from 2.3 s to 10 ms). True/False force it."""
    if not operands:
        raise ValueError("einsum: expected at least one operand")
    return apply(Einsum, operands, {"subscripts": subscripts, "optimize": optimize})


def _unique(term):
    return "".join(dict.fromkeys(term))


def _einsum_sample(strategies, max_operands=3):
    """``((subscripts, *operands), {})``: random terms over a few letters, explicit or
    implicit output, sometimes a repeated letter (a diagonal) or a '...' batch."""
    st, arrays = strategies.st, strategies.arrays

    @st.composite
    def draw_case(draw):
        letters = "abcde"
        sides = {c: draw(st.integers(1, 3)) for c in letters}
        count = draw(st.integers(1, max_operands))
        terms = []
        for _ in range(count):
            term = draw(st.lists(st.sampled_from(letters), max_size=3, unique=True))
            if term and draw(st.integers(0, 5)) == 0:
                term.insert(draw(st.integers(0, len(term))), draw(st.sampled_from(term)))
            terms.append("".join(term))
        with_batch = draw(st.integers(0, 3)) == 0
        batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2))) if with_batch else None
        operands, spelled = [], []
        for term in terms:
            shape = tuple(sides[c] for c in term)
            if batch is not None:
                own = batch[len(batch) - draw(st.integers(0, len(batch))):]
                own = tuple(1 if draw(st.integers(0, 3)) == 0 else side for side in own)
                shape, term = own + shape, "..." + term
            operands.append(draw(arrays(shape)))
            spelled.append(term)
        used = sorted(set("".join(terms)))
        if draw(st.booleans()):
            output = "".join(draw(st.permutations(used))[:draw(st.integers(0, len(used)))])
            subscripts = ",".join(spelled) + "->" + ("..." if batch is not None else "") + output
        else:
            subscripts = ",".join(spelled)
        return (subscripts, *operands), {}

    return draw_case()


@register("einsum", numpy=np.einsum, function=einsum, sample=_einsum_sample,
          torch=lambda torch, subscripts, *operands, optimize=False:
              torch.einsum(subscripts, *operands))
class Einsum(Op):
    """Sum of products over the letters missing from the output. The gradient of an
    operand is the einsum of the output gradient with the other operands, into that
    operand's letters; letters only it has are broadcast back, and repeated letters
    (diagonals) are scattered back onto the diagonal."""
    def forward(self, *operands, subscripts, optimize="auto"):
        operands = [np.asarray(x) for x in operands]
        if not isinstance(subscripts, str):
            parse_einsum(subscripts, ())  # raises the TypeError that names the argument
        # the VJPs call einsum with the same few subscripts and shapes on every step
        self.terms, self.output, _ = _parse_cached(subscripts, tuple(x.shape for x in operands))
        if optimize == "auto":
            optimize = len(operands) >= 3 or max(x.size for x in operands) >= 4096
        self.optimize = optimize
        self.spec = ",".join(self.terms) + "->" + self.output
        return np.einsum(self.spec, *operands, optimize=optimize)

    jvp = multilinear_jvp

    def batch_rule(op_cls, values, batched, params, size):
        shapes = tuple(logical_shape(v)[own:] for v, own in zip(values, batched))
        terms, output, _ = parse_einsum(params["subscripts"], shapes)
        letter = next(c for c in string.ascii_letters if c not in "".join(terms) + output)
        spec = ",".join(letter + term if own else term for term, own in zip(terms, batched))
        return apply(op_cls, values, dict(params, subscripts=f"{spec}->{letter}{output}"))

    def vjp(self, g, out, *operands):
        return tuple(self._operand_grad(k, g, operands) if needs else None
                     for k, needs in enumerate(self.needs_grad))

    def _operand_grad(self, k, g, operands):
        term = self.terms[k]
        others = [j for j in range(len(operands)) if j != k]
        available = set(self.output).union(*(self.terms[j] for j in others))
        letters = _unique(term)
        kept = "".join(c for c in letters if c in available)
        spec = ",".join([self.output] + [self.terms[j] for j in others]) + "->" + kept
        grad = einsum(spec, g, *[operands[j] for j in others], optimize=self.optimize)
        own_shape = value_of(operands[k]).shape
        own_sizes = dict(zip(term, own_shape))
        if len(kept) < len(letters):
            # letters only this operand has were summed away: the gradient is constant along them
            for position, c in enumerate(letters):
                if c not in available:
                    grad = expand_dims(grad, position)
            target = tuple(n if c in available else own_sizes[c]
                           for c, n in zip(letters, grad.shape))
            grad = broadcast_to(grad, target)
        if len(letters) < len(term):
            # a repeated letter reads a diagonal: sum broadcast axes first, then put the
            # gradient back on that diagonal
            stretched = tuple(i for i, c in enumerate(letters)
                              if own_sizes[c] == 1 and grad.shape[i] != 1)
            if stretched:
                grad = grad.sum(axis=stretched, keepdims=True)
            grid = np.ix_(*[np.arange(side) for side in grad.shape])
            index = tuple(grid[letters.index(c)] for c in term)
            grad = scatter_add(grad, shape=own_shape, index=index)
        return grad


matmul, tensordot = functions("matmul", "tensordot")
