"""Forward-mode automatic differentiation: tangents pushed through ops in one forward pass.

A ``ForwardLevel`` (one per ``jvp`` call) maps tensors to their tangents. When an op runs
on a tensor that has a tangent at the level, the level runs the op (at the outer
levels) and then the op's rule ``jvp(self, tangents, out, *inputs)``, which returns the
output's tangent: ``sum_i d out / d input_i . tangents[i]``. ``tangents[i]`` is None
where input ``i`` has no tangent (a constant); ``self.params`` holds the op's keyword
parameters (``axis``, ``keepdims``, ...); ``out`` is the op's output. Like a VJP, a rule
uses only operations that work on both ndarrays and Tensors: with no other transform
active and nothing requiring grad it runs on plain ndarrays at NumPy speed; otherwise on
Tensors, so that the tangent is itself differentiable (``hvp``, ``jacrev(jvp)``,
``jacfwd(jacfwd)``) and batched under ``vmap``.

An op without a rule falls back to the double-VJP trick: with ``u`` a dummy cotangent,
``g(u) = J^T u`` is recorded by a reverse pass with ``create_graph``, and the VJP of
``g`` with cotangent ``t`` is ``J t``. It costs two reverse passes through that op, needs
the op's VJP to be differentiable, and is not available under ``vmap``.

The rules' shared shapes live here: ``linear_jvp`` (the op applied to the tangent,
for ops linear in their input), ``multilinear_jvp`` (one term per input, for products),
and ``tangent_sum``.
"""
import weakref

import numpy as np

from .batching import batch_elementwise
from .grad_mode import enable_grad, state
from .op import Op, apply, functions, value_of
from .tensor import Tensor
from .transform_levels import Level


class Identity(Op):
    """x itself, as a new node: the stand-in for a transformed function's argument
    (gradients taken inside the transform stop at it; tangents and batching pass)."""

    name = "argument"
    vjp_uses_values = False

    def forward(self, x):
        return x

    batch_rule = batch_elementwise

    def vjp(self, g, out, x):
        return (g,)

    def jvp(self, tangents, out, x):
        return tangents[0]


class ForwardLevel(Level):
    """The tangents of one ``jvp`` call, keyed by the tensors they belong to.

    Entries hold the tensor weakly and go away with it, so a long forward pass keeps
    only the tangents of live tensors (forward mode needs no tape).
    """

    def __init__(self):
        self.tangents = {}

    def _forget(self, ref):
        self.tangents.pop(ref.key, None)

    def set_tangent(self, tensor, tangent):
        key = id(tensor)
        self.tangents[key] = (weakref.KeyedRef(tensor, self._forget, key), tangent)

    def tangent_of(self, value):
        entry = self.tangents.get(id(value))
        if entry is None or entry[0]() is not value:
            return None
        return entry[1]

    def owns(self, value):
        entry = self.tangents.get(id(value))
        return entry is not None and entry[0]() is value

    def process(self, op_cls, inputs, params):
        out = apply(op_cls, inputs, params)
        if not op_cls.differentiable or not isinstance(out, Tensor):
            return out
        tangents = [self.tangent_of(value) for value in inputs]
        if _plain(inputs, tangents):
            # nothing outside this level needs the tangent as a function of the inputs:
            # compute it on ndarrays, at NumPy speed
            inputs = tuple(value.data if isinstance(value, Tensor) else value
                           for value in inputs)
            tangents = [value_of(t) if t is not None else None for t in tangents]
            result = out.data
        else:
            result = out
        op = op_cls()
        op.params = params
        rule = getattr(op_cls, "jvp", None)
        if rule is None:
            tangent = double_vjp_tangent(op_cls, params, inputs, tangents)
        else:
            tangent = rule(op, tangents, result, *inputs)
        if tangent is not None:
            self.set_tangent(out, _fitted(tangent, out))
        return out


def _plain(inputs, tangents):
    """True when the tangent may be computed on plain arrays: no other transform is
    active and, if grad mode is on, nothing involved requires grad."""
    if state.flags.transforms:
        return False
    if not state.flags.enabled:
        return True
    for value in inputs:
        if isinstance(value, Tensor) and value._requires_grad:
            return False
    for value in tangents:
        if isinstance(value, Tensor) and value._requires_grad:
            return False
    return True


def _fitted(tangent, out):
    """The tangent in the output's shape and dtype (rules may leave broadcasting to us)."""
    shape = tangent.shape if hasattr(tangent, "shape") else np.shape(tangent)
    if shape != out.shape:
        (broadcast_to,) = functions("broadcast_to")
        tangent = broadcast_to(tangent, out.shape)
    dtype = tangent.dtype if hasattr(tangent, "dtype") else np.asarray(tangent).dtype
    if dtype != out.dtype:
        (astype,) = functions("astype")
        tangent = astype(tangent, dtype=out.dtype)
    return tangent


def tangent_sum(*terms):
    """The sum of the terms that are not None (None when all are)."""
    total = None
    for term in terms:
        if term is not None:
            total = term if total is None else total + term
    return total


def linear_jvp(self, tangents, out, *inputs):
    """Rule for ops linear in their inputs jointly (sum, reshape, getitem, concatenate):
    the op itself applied to the tangents, zeros standing in for missing ones."""
    if all(t is None for t in tangents):
        return None
    filled = tuple(t if t is not None else np.zeros(np.shape(value_of_shape(x)), _dtype_of(out))
                   for t, x in zip(tangents, inputs))
    return apply(type(self), filled, self.params)


def multilinear_jvp(self, tangents, out, *inputs):
    """Rule for ops linear in each input separately (multiply, matmul, einsum): one term
    per input with a tangent, that input replaced by its tangent."""
    terms = []
    for position, tangent in enumerate(tangents):
        if tangent is not None:
            replaced = inputs[:position] + (tangent,) + inputs[position + 1:]
            terms.append(apply(type(self), replaced, self.params))
    return tangent_sum(*terms)


def elementwise_jvp(self, tangents, out, *inputs):
    """Rule for elementwise ops (Jacobian diagonal per input): each input's term is the
    op's own VJP applied to that input's tangent, which broadcasts to the output's shape."""
    terms = []
    for position, tangent in enumerate(tangents):
        if tangent is not None:
            self.needs_grad = tuple(i == position for i in range(len(inputs)))
            terms.append(self.vjp(tangent, out, *inputs)[position])
    return tangent_sum(*terms)


def symmetric_jvp(self, tangents, out, x):
    """Rule for one-input ops whose Jacobian is symmetric: the JVP is the VJP."""
    if tangents[0] is None:
        return None
    self.needs_grad = (True,)
    return self.vjp(tangents[0], out, x)[0]


def value_of_shape(x):
    """Something with the logical shape of ``x`` (a Tensor's own ``shape`` under vmap)."""
    return np.empty(x.shape) if hasattr(x, "shape") else np.asarray(x)


def _dtype_of(out):
    return out.dtype if hasattr(out, "dtype") else np.asarray(out).dtype


def double_vjp_tangent(op_cls, params, inputs, tangents):
    """``J t`` for an op without a forward rule, by two reverse passes (see the module doc).

    Runs at the levels outside the current one, so an outer ``jvp`` or reverse pass still
    sees how the result depends on the inputs. Under ``vmap`` it raises: the reverse
    passes would run on the whole batch.
    """
    from .backward import run_backward  # backward sits above the op families
    if any(not isinstance(level, ForwardLevel) for level in state.flags.transforms):
        raise NotImplementedError(
            f"jvp: op '{op_cls.name}' has no forward-mode rule (jvp method), and its "
            f"double-VJP fallback does not run under vmap; give the op a jvp rule")
    if all(t is None for t in tangents):
        return None
    with enable_grad():
        stand_ins = []
        for value, tangent in zip(inputs, tangents):
            if tangent is None:
                stand_ins.append(value)
            else:
                stand_ins.append(fresh_leaf_like(value))
        out = apply(op_cls, tuple(stand_ins), params)
        if not isinstance(out, Tensor) or not out._requires_grad:
            return None
        dummy = Tensor(np.zeros(out.shape, dtype=out.dtype), requires_grad=True)
        live = [(s, t) for s, t in zip(stand_ins, tangents) if t is not None]
        first = run_backward((out,), (dummy,), retain_graph=True, create_graph=True,
                             inputs=[s for s, _ in live])
        pairs = [(g, t) for g, (_, t) in zip(first, live)
                 if isinstance(g, Tensor) and g._requires_grad]
        if not pairs:
            return None
        keep = not _plain(inputs, tangents)
        (second,) = run_backward(tuple(g for g, _ in pairs), tuple(t for _, t in pairs),
                                 retain_graph=keep, create_graph=keep, inputs=[dummy])
    return second


def fresh_leaf_like(value):
    """A tensor equal to ``value`` that requires grad and stops gradients at itself, made
    by an identity op at the active levels (so outer jvp and vmap levels still see it)."""
    if not isinstance(value, Tensor):
        return Tensor(np.array(value, dtype=float if np.asarray(value).dtype.kind != "f"
                               else np.asarray(value).dtype), requires_grad=True)
    stand_in = apply(Identity, (value,))
    bottom = stand_in
    while hasattr(bottom, "batched_value"):
        bottom = bottom.batched_value
    if not bottom._requires_grad:
        bottom.requires_grad = True  # a fresh constant made just above: ours to turn on
    return stand_in


def forward_levels():
    return [level for level in state.flags.transforms if isinstance(level, ForwardLevel)]


