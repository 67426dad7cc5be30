"""JAX-style transforms of Python functions: grad, value_and_grad, jacrev, jacfwd,
jacobian, hessian, vjp, jvp, hvp, vmap.

The functions transformed take Tensors or arrays and return Tensors. Results are
Tensors. Transforms compose (``grad(grad(f))``, ``jacfwd(jacrev(f))``, ``vmap(grad(f))``):
each call differentiates with respect to fresh stand-ins for its arguments, and when the
function depends on something an enclosing computation tracks (an outer transform's
argument, a parameter that requires grad, a tangent of an enclosing ``jvp``) the
derivative is itself recorded (``create_graph``), so the outer level can differentiate
it again. Otherwise results are plain constants and the graph is freed.

Reverse mode (``grad``, ``vjp``, ``jacrev``) runs backward passes; forward mode (``jvp``,
``jacfwd``) pushes tangents through the ops' ``jvp`` rules in one forward pass
(``autograd.forward_mode``); ``vmap`` runs a function on a whole batch at once through
the ops' batching rules (``autograd.vmap``).
"""
import functools

import numpy as np

from .backward import run_backward
from .batching import quiet_loops
from .dtypes import as_array
from .forward_mode import ForwardLevel, Identity, forward_levels, fresh_leaf_like
from .grad_mode import enable_grad, state
from .op import REGISTRY, apply
from .tensor import Tensor
from .transform_levels import pushed
from .vmap import (BatchedForwardLevel, BatchedTensor, PerElementValueError, batch_levels,
                   batched_everywhere, bottom_of, rewrap_with_tangents, vmap)

__all__ = ["grad", "value_and_grad", "jacrev", "jacfwd", "jacobian", "hessian", "vjp", "jvp",
           "hvp", "vmap"]


def _float_array(value, role):
    """A non-Tensor argument as a floating-point array; the errors name ``role``."""
    try:
        array = as_array(value)
    except TypeError as err:
        raise TypeError(f"{role}: expected a Tensor or array, got {type(value).__name__}") from err
    if array.dtype.kind != "f":
        raise TypeError(f"{role} has dtype {array.dtype}; only floating-point arguments can be "
                        f"differentiated (pass floats, e.g. 2.0 rather than 2)")
    return array


def _stand_in(value, role, outer):
    """A tensor that requires grad, standing for the argument ``value``."""
    if isinstance(value, Tensor):
        if value.data.dtype.kind != "f":
            raise TypeError(f"{role} has dtype {value.dtype}; only floating-point arguments "
                            f"can be differentiated")
        if state.flags.transforms or (outer and value._requires_grad):
            # an identity node at the active levels: tangents and batching pass through
            # it, and gradients taken here stop at it
            return fresh_leaf_like(value)
        return Tensor(value.data, requires_grad=True)
    return Tensor(_float_array(value, role), requires_grad=True)


def _normalize_argnums(argnums, count, name):
    """``argnums`` as a tuple of non-negative positions into ``count`` arguments."""
    single = not isinstance(argnums, (tuple, list))
    positions = (argnums,) if single else tuple(argnums)
    if not positions:
        raise ValueError(f"{name}: argnums is empty; give at least one argument position")
    result = []
    for position in positions:
        if not isinstance(position, (int, np.integer)) or isinstance(position, bool):
            raise TypeError(f"{name}: argnums must be an int or a tuple of ints, got {argnums!r}")
        if not -count <= position < count:
            raise ValueError(f"{name}: argnums {position} is out of range for a function called "
                             f"with {count} positional argument(s)")
        result.append(int(position) % count)
    if len(set(result)) != len(result):
        raise ValueError(f"{name}: argnums {argnums!r} repeats an argument")
    return single, tuple(result)


def _tracks_outer(outputs, own):
    """True when ``outputs`` depend on a tensor requiring grad other than ``own``, or
    an enclosing ``jvp`` is active (its tangents must flow through the backward pass)."""
    if forward_levels():
        return True
    own_ids = {id(bottom_of(t)) for t in own}
    stack = [bottom_of(t) for t in outputs if isinstance(t, Tensor) and t._requires_grad]
    seen = set()
    while stack:
        tensor = stack.pop()
        if tensor._op is None:
            if id(tensor) not in own_ids:
                return True
            continue
        for value in tensor._inputs or ():
            if isinstance(value, Tensor) and value._requires_grad and id(value) not in seen:
                seen.add(id(value))
                stack.append(value)
    return False


def _as_tensor_outputs(result, name):
    """The function's result as a tuple of Tensors, and whether it was a single one."""
    single = not isinstance(result, (tuple, list))
    values = (result,) if single else tuple(result)
    outputs = []
    for position, value in enumerate(values):
        if isinstance(value, Tensor):
            outputs.append(value)
        else:
            try:
                outputs.append(Tensor._constant(as_array(value)))
            except TypeError:
                raise TypeError(f"{name}: the function must return Tensors or arrays; output "
                                f"{position} is a {type(value).__name__}") from None
    return single, tuple(outputs)


def _split_aux(result, has_aux, name):
    if not has_aux:
        return result, None
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError(f"{name}: with has_aux=True the function must return a pair "
                        f"(output, aux), got {type(result).__name__}")
    return result[0], result[1]


def _finish(value, like, nested):
    """A gradient as a result: zeros where there is none, a constant unless nested."""
    if value is None:
        return Tensor._constant(np.zeros(like.shape, dtype=like.dtype))
    if isinstance(value, BatchedTensor):
        return value if nested else value.detach()
    if isinstance(value, Tensor):
        return value if nested else Tensor._constant(value.data)
    return Tensor._constant(np.array(value, copy=True))


def _result(value, nested):
    """The function's output as returned by a transform: detached unless nested."""
    return value if nested or not isinstance(value, Tensor) else value.detach()


def _pack(values, single):
    return values[0] if single else tuple(values)


def _trace(f, args, kwargs, positions, name, has_aux=False):
    """Call ``f`` with stand-ins at ``positions``; returns what the transforms need."""
    outer = state.flags.enabled
    with enable_grad():
        tracked = list(args)
        mapped = bool(batch_levels())
        for position in positions:
            value = args[position]
            if mapped:
                # one copy per batch element, so that each gets its own gradient
                value = batched_everywhere(_stand_in_source(value, f"{name}: argument {position}"))
            tracked[position] = _stand_in(value, f"{name}: argument {position}", outer)
        own = [tracked[position] for position in positions]
        result, aux = _split_aux(f(*tracked, **kwargs), has_aux, name)
    return result, aux, own, outer


def _gradients(outputs, seeds, own, nested, retain=None):
    """Gradients of ``outputs`` (with cotangents ``seeds``) w.r.t. ``own``; None if unused.

    Under ``vmap`` the backward pass runs once on the whole batch, underneath the
    batching wrappers: the stand-ins ``own`` are batched at every vmap level, outputs and
    cotangents are brought to that layout, and the gradients are wrapped back.
    """
    if any(isinstance(t, BatchedTensor) for t in own):
        return _batched_gradients(outputs, seeds, own, nested, retain)
    live = [(o, s) for o, s in zip(outputs, seeds) if o._requires_grad]
    if not live:
        return [None] * len(own)
    return run_backward(tuple(o for o, _ in live), tuple(s for _, s in live),
                        retain_graph=nested if retain is None else retain,
                        create_graph=nested, inputs=own)


def _batched_gradients(outputs, seeds, own, nested, retain):
    with enable_grad():
        outputs = [batched_everywhere(o, o.dtype) for o in outputs]
        bottoms = [bottom_of(o) for o in outputs]
        cotangents = []
        for out, bottom, seed in zip(outputs, bottoms, seeds):
            if seed is None:
                seed = Tensor._constant(np.ones(out.shape, dtype=out.dtype))
            elif not isinstance(seed, Tensor):
                seed = Tensor._constant(np.asarray(seed, dtype=out.dtype))
            seed = bottom_of(batched_everywhere(seed, out.dtype))
            cotangents.append(seed if nested else seed.data)
    live = [(o, s) for o, s in zip(bottoms, cotangents) if o._requires_grad]
    if not live:
        return [None] * len(own)
    grads = run_backward(tuple(o for o, _ in live), tuple(s for _, s in live),
                         retain_graph=nested if retain is None else retain,
                         create_graph=nested, inputs=[bottom_of(t) for t in own])
    return [None if g is None else rewrap_with_tangents(
        g if isinstance(g, Tensor) else Tensor._constant(g), t) for g, t in zip(grads, own)]


def _stand_in_source(value, role):
    """An argument as a Tensor (arrays become constants), its dtype checked."""
    if isinstance(value, Tensor):
        return value
    return Tensor._constant(_float_array(value, role))


def value_and_grad(f, argnums=0, has_aux=False):
    """Transform ``f`` into a function returning ``(f(*args), gradient)``.

    ``f`` must return a one-element Tensor. The gradient is taken with respect to the
    argument at ``argnums`` (a Tensor of its shape), or a tuple of gradients when
    ``argnums`` is a tuple. Arguments the output does not depend on get zeros. With
    ``has_aux=True`` ``f`` returns ``(output, aux)`` and the result is
    ``((output, aux), gradient)``.

    Raises:
        ValueError: argnums out of range or repeated; an output with more than one element.
        TypeError: argnums not ints; a non-floating argument; an output that is neither
            a Tensor nor an array.
    """
    name = getattr(f, "__name__", "function")

    @functools.wraps(f)
    def transformed(*args, **kwargs):
        single, positions = _normalize_argnums(argnums, len(args), "grad")
        result, aux, own, outer = _trace(f, args, kwargs, positions, "grad", has_aux)
        if isinstance(result, (tuple, list)):
            raise ValueError(f"grad: {name} must return a scalar Tensor, but it returned a "
                             f"{type(result).__name__}; use has_aux=True to return "
                             f"(output, aux), or jacobian for several outputs")
        _, (out,) = _as_tensor_outputs(result, "grad")
        if out.size != 1:
            raise ValueError(f"grad: {name} must return a scalar (one-element) Tensor, but it "
                             f"returned shape {out.shape}; use jacobian or vjp for non-scalar "
                             f"outputs")
        nested = outer and _tracks_outer((out,), own)
        grads = _gradients((out,), (None,), own, nested)
        grads = _pack([_finish(g, t, nested) for g, t in zip(grads, own)], single)
        value = _result(out, nested)
        return ((value, aux) if has_aux else value), grads
    return transformed


def grad(f, argnums=0, has_aux=False):
    """Transform scalar-valued ``f`` into a function computing its gradient.

    ``grad(f)(x)`` is ``df/dx`` with the shape of ``x``; ``argnums`` picks the
    argument(s), a tuple giving a tuple of gradients. With ``has_aux=True`` ``f`` returns
    ``(output, aux)`` and the result is ``(gradient, aux)``. Compose freely:
    ``grad(grad(f))`` is the second derivative. See ``value_and_grad`` for errors.
    """
    value_and_grad_f = value_and_grad(f, argnums, has_aux)

    @functools.wraps(f)
    def transformed(*args, **kwargs):
        (value, grads) = value_and_grad_f(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads
    return transformed


def _jacobian_block(rows, shape, like, nested):
    """Rows (one gradient per output element, None for zeros) as one array of ``shape``."""
    if (nested or any(isinstance(r, BatchedTensor) for r in rows)) and rows:
        stack = REGISTRY["stack"].function
        return stack([_finish(r, like, True) for r in rows]).reshape(shape)
    block = np.zeros(shape, dtype=like.dtype)
    flat = block.reshape(len(rows), int(np.prod(like.shape, dtype=int)))  # -1 fails at size 0
    for index, row in enumerate(rows):
        if row is not None:
            flat[index] = np.reshape(row.data if isinstance(row, Tensor) else row, -1)
    return Tensor._constant(block)


def jacrev(f, argnums=0, has_aux=False):
    """Transform ``f`` into a function computing its Jacobian by reverse mode.

    For an output of shape ``O`` and an argument of shape ``I`` the Jacobian has shape
    ``O + I`` (``J[o..., i...] = d out[o...] / d x[i...]``), as in ``jax.jacrev`` and
    ``torch.func.jacrev``. A tuple ``argnums`` gives a tuple over arguments; a tuple
    output gives a tuple over outputs (of those). ``vjp`` mapped by ``vmap`` over the
    basis of the outputs: one batched forward and one batched backward pass, whose
    batch is the number of output elements (the choice for few outputs and many
    inputs). Where that cannot run batched (Python control flow on the argument's
    values, an op whose forward rule cannot run under ``vmap``) it takes one backward
    pass per output element instead, with the same result.
    """
    return _jacobian(f, argnums, has_aux, "jacrev", choose=False)


def jacobian(f, argnums=0, has_aux=False):
    """Transform ``f`` into a function computing its Jacobian (shape ``O + I``, see
    ``jacrev``), choosing the mode by shape: reverse (``jacrev``, batched over the output
    elements) when the outputs have at most as many elements as the differentiated
    arguments, forward (``jacfwd``, batched over the argument elements) otherwise.
    """
    return _jacobian(f, argnums, has_aux, "jacobian", choose=True)


def _jacobian(f, argnums, has_aux, name, choose):
    def transformed(*args, **kwargs):
        single_arg, positions = _normalize_argnums(argnums, len(args), name)
        result, aux, own, outer = _trace(f, args, kwargs, positions, name, has_aux)
        single_out, outputs = _as_tensor_outputs(result, name)
        if choose and sum(o.size for o in outputs) > sum(t.size for t in own):
            return jacfwd(f, argnums, has_aux)(*args, **kwargs)
        per_output = None
        if sum(o.size for o in outputs) and any(o._requires_grad for o in outputs):
            try:
                per_output = _rows_by_vmap(f, args, kwargs, positions, outputs, has_aux, name)
            except (NotImplementedError, PerElementValueError):
                per_output = None  # not batchable: one backward pass per output element
        if per_output is None:
            nested = outer and _tracks_outer(outputs, own)
            per_output = _rows_by_loop(outputs, own, nested)
        jac = _pack([_pack(blocks, single_arg) for blocks in per_output], single_out)
        return (jac, aux) if has_aux else jac
    return functools.wraps(f)(transformed)


def _rows_by_vmap(f, args, kwargs, positions, outputs, has_aux, name):
    """Jacobian blocks ``[output][argument]`` as ``vmap`` of ``vjp`` over the standard
    basis of all outputs together (one batch element per output element)."""
    sizes = [out.size for out in outputs]
    identity = np.eye(sum(sizes))
    ends = np.cumsum(sizes)
    cotangents = [identity[:, end - size:end].reshape((len(identity),) + out.shape)
                  .astype(out.dtype) for out, size, end in zip(outputs, sizes, ends)]

    def of_own(*own):
        call = list(args)
        for position, value in zip(positions, own):
            call[position] = value
        return _split_aux(f(*call, **kwargs), has_aux, name)[0]

    def row(*cotangent):
        _, vjp_fn = vjp(of_own, *[args[position] for position in positions])
        return vjp_fn(cotangent[0] if len(cotangent) == 1 else cotangent)
    with quiet_loops():
        rows = vmap(row)(*cotangents)
    own_shapes = [_shape_and_dtype(args[position], f"{name}: argument {position}")[0]
                  for position in positions]
    return [[rows_of_arg[end - size:end].reshape(out.shape + shape)
             for rows_of_arg, shape in zip(rows, own_shapes)]
            for out, size, end in zip(outputs, sizes, ends)]


def _rows_by_loop(outputs, own, nested):
    """Jacobian blocks ``[output][argument]`` by one backward pass per output element."""
    per_output = []
    for out in outputs:
        rows = [[] for _ in own]
        for index in range(out.size):
            if not out._requires_grad:
                grads = [None] * len(own)
            else:
                seed = np.zeros(out.shape, dtype=out.dtype)
                seed.flat[index] = 1
                grads = _gradients((out,), (seed,), own, nested, retain=True)
            for per_arg, g in zip(rows, grads):
                per_arg.append(g)
        per_output.append([_jacobian_block(r, out.shape + t.shape, t, nested)
                           for r, t in zip(rows, own)])
    return per_output


def jacfwd(f, argnums=0, has_aux=False):
    """Transform ``f`` into a function computing its Jacobian by forward mode.

    Same result as ``jacrev`` (shape ``O + I``, tuples over arguments and outputs), as
    in ``jax.jacfwd`` and ``torch.func.jacfwd``: ``jvp`` mapped by ``vmap`` over the
    standard basis of each differentiated argument (one forward pass, the tangents
    batched): the choice for few inputs and many outputs. Where the tangents cannot be
    batched (an op without a forward rule, whose fallback does not run under ``vmap``)
    it takes one ``jvp`` per argument element instead, with the same result.
    """
    def transformed(*args, **kwargs):
        single_arg, positions = _normalize_argnums(argnums, len(args), "jacfwd")
        per_arg, single_out, aux = [], None, None
        for position in positions:
            primal = args[position]
            shape, dtype = _shape_and_dtype(primal, f"jacfwd: argument {position}")

            def along(x, position=position):
                call = list(args)
                call[position] = x
                return f(*call, **kwargs)
            found = None
            if int(np.prod(shape, dtype=int)):
                try:
                    found = _columns_by_vmap(along, primal, shape, dtype, has_aux)
                except (NotImplementedError, PerElementValueError):
                    found = None  # not batchable: one jvp per argument element
            if found is None:
                found = _columns_by_loop(along, primal, shape, dtype, has_aux)
            single_out, out_tensors, columns, aux = found
            per_arg.append([column.reshape(out.shape + shape)
                            for out, column in zip(out_tensors, columns)])
        per_output = [_pack([blocks[k] for blocks in per_arg], single_arg)
                      for k in range(len(per_arg[0]))]
        jac = _pack(per_output, single_out)
        return (jac, aux) if has_aux else jac
    return functools.wraps(f)(transformed)


def _columns_by_vmap(along, primal, shape, dtype, has_aux):
    """``(single_out, outputs, columns, aux)``: ``jvp`` of ``along`` mapped by ``vmap`` over
    the standard basis of ``primal``; each output's columns have the basis axis last.
    The primal part of the jvp does not depend on the basis, so it runs once, unbatched,
    and its outputs and aux are taken as they are."""
    count = int(np.prod(shape, dtype=int))
    basis = np.eye(count, dtype=dtype).reshape((count,) + tuple(shape))
    unbatched = {}

    def column(direction):
        found = jvp(along, (primal,), (direction,), has_aux=has_aux)
        unbatched["outputs"], unbatched["aux"] = found[0], (found[2] if has_aux else None)
        return found[1]
    with quiet_loops():
        tangents = vmap(column, out_axes=-1)(basis)
    single_out, outputs = _as_tensor_outputs(unbatched["outputs"], "jacfwd")
    columns = (tangents,) if single_out else tuple(tangents)
    return single_out, outputs, columns, unbatched["aux"]


def _columns_by_loop(along, primal, shape, dtype, has_aux):
    """As ``_columns_by_vmap``, by one ``jvp`` per element of ``primal``."""
    stack = REGISTRY["stack"].function
    columns, outputs, aux = [], None, None
    for index in range(int(np.prod(shape, dtype=int))):
        basis = np.zeros(shape, dtype=dtype)
        basis.flat[index] = 1
        found = jvp(along, (primal,), (basis,), has_aux=has_aux)
        outputs, tangents = found[0], found[1]
        aux = found[2] if has_aux else None
        columns.append(tangents if isinstance(tangents, tuple) else (tangents,))
    if outputs is None:  # an empty argument: evaluate once for the output shapes
        outputs, aux = _split_aux(along(primal), has_aux, "jacfwd")
    single_out, out_tensors = _as_tensor_outputs(outputs, "jacfwd")
    blocks = []
    for k, out in enumerate(out_tensors):
        if columns:
            blocks.append(stack([column[k] for column in columns], axis=-1))
        else:
            blocks.append(Tensor._constant(np.zeros(out.shape + (0,), dtype=out.dtype)))
    return single_out, out_tensors, blocks, aux


def _shape_and_dtype(value, role):
    if isinstance(value, Tensor):
        return value.shape, value.dtype
    array = _float_array(value, role)
    return array.shape, array.dtype


def hessian(f, argnums=0):
    """Transform scalar-valued ``f`` into a function computing its Hessian, shape ``I + I``.

    ``jacfwd(jacrev(f))`` (forward over reverse, as in JAX); a tuple ``argnums`` gives
    the nested tuple ``H[i][j]`` of blocks ``d2 f / dx_i dx_j``, as in
    ``torch.autograd.functional.hessian``.
    """
    return jacfwd(jacrev(f, argnums), argnums)


def _tangents(primals, tangents, name, words=("tangent", "primal")):
    """``tangents`` checked to match ``primals`` one to one, shape for shape."""
    tangent_word, primal_word = words
    if len(tangents) != len(primals):
        raise ValueError(f"{name}: got {len(tangents)} {tangent_word}(s) for {len(primals)} "
                         f"{primal_word}(s); give one per {primal_word}")
    checked = []
    for position, (primal, tangent) in enumerate(zip(primals, tangents)):
        data = tangent if isinstance(tangent, Tensor) else np.asarray(tangent)
        shape = primal.shape if isinstance(primal, Tensor) else np.shape(primal)
        if data.shape != shape:
            raise ValueError(f"{name}: {tangent_word} {position} has shape {data.shape}, but "
                             f"{primal_word} {position} has shape {shape}")
        checked.append(tangent if isinstance(tangent, Tensor) else data)
    return tuple(checked)


def _primals(primals, name):
    if not isinstance(primals, (tuple, list)):
        raise TypeError(f"{name}: primals must be a tuple of arguments, got "
                        f"{type(primals).__name__} (write (x,) for one argument)")
    return tuple(primals)


def vjp(f, *primals, has_aux=False):
    """``(f(*primals), vjp_fn)`` where ``vjp_fn(cotangent)`` returns the tuple of
    ``cotangent . J`` with respect to each primal (zeros where ``f`` does not depend on
    it). For a tuple output, pass one cotangent per output. ``vjp_fn`` may be called
    many times. With ``has_aux=True`` returns ``(output, vjp_fn, aux)``.
    """
    positions = tuple(range(len(primals)))
    result, aux, own, outer = _trace(f, primals, {}, positions, "vjp", has_aux)
    single_out, outputs = _as_tensor_outputs(result, "vjp")
    nested = outer and _tracks_outer(outputs, own)

    def vjp_fn(cotangent):
        if single_out:
            cotangents = (cotangent,)
        else:
            cotangents = _primals(cotangent, "vjp: the cotangent of a tuple output")
        cotangents = _tangents(outputs, cotangents, "vjp", ("cotangent", "output"))
        grads = _gradients(outputs, cotangents, own, nested, retain=True)
        return tuple(_finish(g, t, nested) for g, t in zip(grads, own))

    value = _pack([_result(o, nested) for o in outputs], single_out)
    return (value, vjp_fn, aux) if has_aux else (value, vjp_fn)


def jvp(f, primals, tangents, has_aux=False):
    """``(f(*primals), J @ tangents)``: the directional derivative of ``f`` along
    ``tangents`` (one per primal, same shapes), shaped like the output (a tuple for a
    tuple output), computed by true forward mode in ONE forward pass: every op pushes
    its inputs' tangents through its ``jvp`` rule (see ``autograd.forward_mode``). An op
    without a rule falls back to the double-VJP trick (``u -> J^T u`` is linear in
    ``u``, and its VJP with cotangent ``t`` is ``J t``: two reverse passes through that
    op, which need its VJP to be differentiable; not available under ``vmap``).

    Composes with the other transforms: ``jvp(grad(f))`` is a Hessian-vector product
    (forward over reverse), ``jacrev(lambda x: jvp(f, (x,), (v,))[1])`` reverse over
    forward, ``jvp`` inside ``jvp`` or ``vmap`` and ``vmap`` inside ``jvp``. With
    ``has_aux=True`` ``f`` returns ``(output, aux)`` and the result is
    ``(output, tangent, aux)``.

    Raises:
        TypeError: primals or tangents not a tuple; a non-floating primal.
        ValueError: a different number of tangents and primals, or a tangent whose shape
            is not its primal's.
    """
    primals = _primals(primals, "jvp")
    tangents = _tangents(primals, _primals(tangents, "jvp"), "jvp")
    # inside vmap, backward passes run beneath the batching wrappers: the level must
    # keep its tangents there too
    level = BatchedForwardLevel() if batch_levels() else ForwardLevel()
    stand_ins = []
    for position, (primal, tangent) in enumerate(zip(primals, tangents)):
        stand_in = _forward_stand_in(primal, f"jvp: primal {position}")
        level.set_tangent(stand_in, _tangent_like(tangent, stand_in))
        stand_ins.append(stand_in)
    with pushed(level):
        result, aux = _split_aux(f(*stand_ins), has_aux, "jvp")
        single_out, outputs = _as_tensor_outputs(result, "jvp")
        out_tangents = []
        for out in outputs:
            tangent = level.tangent_of(out)
            if tangent is None:
                tangent = np.zeros(out.shape, dtype=out.dtype)
            out_tangents.append(tangent if isinstance(tangent, Tensor)
                                else Tensor._constant(np.asarray(tangent)))
    values = _pack(list(outputs), single_out)
    result = values, _pack(out_tangents, single_out)
    return result + (aux,) if has_aux else result


def _forward_stand_in(primal, role):
    """A new tensor equal to ``primal`` to carry its tangent (an identity op at the
    active levels, so outer transforms and reverse passes still see through it)."""
    if isinstance(primal, Tensor):
        if primal.data.dtype.kind != "f":
            raise TypeError(f"{role} has dtype {primal.dtype}; only floating-point arguments "
                            f"can be differentiated")
        return apply(Identity, (primal,))
    return _stand_in_source(primal, role)


def _tangent_like(tangent, primal):
    """A tangent in its primal's dtype (a Tensor stays a Tensor: it may be tracked)."""
    if isinstance(tangent, Tensor):
        return tangent if tangent.dtype == primal.dtype else tangent.astype(primal.dtype)
    return np.asarray(tangent, dtype=primal.dtype)


def hvp(f, primals, tangents):
    """``(f(*primals), H @ tangents)`` for scalar-valued ``f``: the Hessian-vector
    product, one tuple entry per primal (a single Tensor for one primal), computed
    forward over reverse: the forward-mode derivative of ``grad f`` along ``tangents``
    (one forward pass carrying tangents, one reverse pass; no Hessian formed). Under
    ``vmap`` (over the tangents, the primals or both) it runs once on the whole batch.
    """
    primals = _primals(primals, "hvp")
    tangents = _tangents(primals, _primals(tangents, "hvp"), "hvp")
    positions = tuple(range(len(primals)))

    def value_and_gradients(*args):
        value, grads = value_and_grad(_scalar_output(f, "hvp"), positions)(*args)
        return (value,) + tuple(grads)
    outputs, out_tangents = jvp(value_and_gradients, primals, tangents)
    products = out_tangents[1:]
    return outputs[0], (products[0] if len(products) == 1 else tuple(products))


def _scalar_output(f, name):
    """``f`` checked to return a single one-element Tensor (for hvp's error message)."""
    @functools.wraps(f)
    def checked(*args):
        result = f(*args)
        if isinstance(result, (tuple, list)) or np.size(_shape_only(result)) != 1:
            raise ValueError(f"{name}: the function must return a scalar (one-element) Tensor")
        return result
    return checked


def _shape_only(value):
    return np.empty(value.shape) if hasattr(value, "shape") else np.asarray(value)
