"""Reverse-mode sweep over the recorded graph, without recursion."""
import gc
import sys

import numpy as np

from . import op as op_module
from .broadcast import unbroadcast
from .grad_mode import set_grad_enabled, state
from .inplace import check_versions
from .tensor import Tensor

FREED_GRAPH_MESSAGE = (
    "Trying to backward through the graph a second time (op '{op}'), but its saved values "
    "were freed after the first backward. Pass retain_graph=True to the first backward() "
    "if you need to backward through the graph again.")


def topological_order(roots):
    """Non-leaf nodes reachable from ``roots``, each after all of its inputs.

    Iterative depth-first search, so graph depth is limited by memory, not the
    interpreter's recursion limit. Raises RuntimeError on a node whose graph was freed.
    """
    order, visited = [], set()
    stack = [(root, False) for root in roots if root._op is not None]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        if node._inputs is None:
            raise RuntimeError(FREED_GRAPH_MESSAGE.format(op=node._op.name))
        stack.append((node, True))
        for value in node._inputs:
            if isinstance(value, Tensor) and value._op is not None and id(value) not in visited:
                stack.append((value, False))
    return order


def _seed(output, grad, create_graph):
    if grad is None:
        if output.data.size != 1:
            raise RuntimeError(
                f"backward: grad can be implicitly created only for one-element outputs, "
                f"but the output has shape {output.shape}; pass grad= of that shape")
        seed = np.ones_like(output.data)
    else:
        seed = grad.data if isinstance(grad, Tensor) else np.asarray(grad, dtype=output.dtype)
        if seed.shape != output.shape:
            raise ValueError(f"backward: grad has shape {seed.shape} but the output has shape "
                             f"{output.shape}; they must match")
        if create_graph and isinstance(grad, Tensor):
            return grad
    return Tensor._constant(seed) if create_graph else seed


def run_backward(outputs, grad_outputs, retain_graph=False, create_graph=False, inputs=None):
    """Propagate gradients from ``outputs`` back through the graph; see ``_sweep``.

    Python's cyclic garbage collector is paused meanwhile: the sweep frees what it
    drops by reference counting alone, but the tuples it allocates would trigger
    collections that each traverse the whole live graph (on a 100,000-node graph
    that took 30% of the backward time).
    """
    collecting = gc.isenabled()
    if collecting:
        gc.disable()
    try:
        return _sweep(outputs, grad_outputs, retain_graph, create_graph, inputs)
    finally:
        if collecting:
            gc.enable()


def _sweep(outputs, grad_outputs, retain_graph=False, create_graph=False, inputs=None):
    """Propagate gradients from ``outputs`` back through the graph.

    With ``inputs=None`` the gradients of all leaves that require grad are accumulated
    into their ``.grad``. Otherwise the gradients of ``inputs`` are returned (a list,
    ``None`` where an input is unreachable), no ``.grad`` is touched, and only the ops
    on a path to some input are run.

    Raises RuntimeError when a value an op's VJP reads was changed in place after the
    op was recorded (see ``autograd.inplace``).
    """
    for output in outputs:
        if not output._requires_grad:
            raise RuntimeError("backward: this tensor does not require grad and has no graph "
                               "(no input had requires_grad=True, or it was made under no_grad)")
    anomaly = state.anomaly
    grads = {}
    for output, grad in zip(outputs, grad_outputs):
        seed = _seed(output, grad, create_graph)
        key = id(output)
        grads[key] = grads[key] + seed if key in grads else seed
    if anomaly:
        from .anomaly import check_backward, check_seeds
        check_seeds(outputs, grads)
    order = topological_order(outputs)
    wanted = None
    if inputs is not None:
        wanted = {id(t): t for t in inputs}
        order = _leading_to(order, wanted)
    captured, leaves = {}, {id(o): o for o in outputs if o._op is None}
    clock = op_module.mutation_clock

    with set_grad_enabled(create_graph):
        for node in reversed(order):
            grad = grads.pop(id(node), None)
            if grad is None:
                continue
            if node._hooks:
                grad = node._run_hooks(grad)
            if wanted is not None:
                if id(node) in wanted:
                    captured[id(node)] = grad
            elif node._retains_grad:
                _accumulate(node, grad, create_graph)
            op = node._op
            if op.recorded_at != clock:
                check_versions(node)
            try:
                if create_graph:
                    input_grads = op.vjp(grad, node, *node._inputs)
                else:
                    input_grads = op.vjp(grad, node.data, *op.arrays)
                if anomaly:
                    check_backward(node, grad, input_grads)
            except Exception as err:
                err.add_note(f"(raised in the backward of op '{op.name}')")
                raise
            for value, needs, input_grad in zip(node._inputs, op.needs_grad, input_grads):
                if not needs or input_grad is None:
                    continue
                if input_grad.shape != value.data.shape:
                    input_grad = unbroadcast(input_grad, value.data.shape)
                if input_grad.dtype != value.data.dtype:
                    input_grad = input_grad.astype(value.data.dtype)
                key = id(value)
                if key in grads:
                    grads[key] = grads[key] + input_grad
                else:
                    grads[key] = input_grad
                    if value._op is None:
                        leaves[key] = value
            if not retain_graph:
                node._inputs = None
                op.release()

        input_grads = input_grad = grad = None  # drop the loop's references (see _sole_owner)
        if wanted is not None:
            # Inputs that are recorded results but lie on no path to another input
            # were not visited above; their gradient is waiting in ``grads``.
            leaves.update((key, t) for key, t in wanted.items()
                          if t._op is not None and key not in captured)
        for key, leaf in leaves.items():
            grad = grads.get(key)
            if grad is None or (wanted is not None and key not in wanted):
                continue
            if leaf._hooks:
                grad = leaf._run_hooks(grad)
            if wanted is not None:
                captured[key] = grad
            elif leaf.grad is None and not create_graph and _sole_owner(grad):
                leaf.grad = Tensor._constant(grad)
            else:
                _accumulate(leaf, grad, create_graph)
    if wanted is not None:
        return [captured.get(id(t)) for t in inputs]
    return None


def _leading_to(order, wanted):
    """The nodes of ``order`` from which some tensor in ``wanted`` can be reached."""
    reaching, kept = set(wanted), []
    for node in order:
        for value in node._inputs:
            if isinstance(value, Tensor) and id(value) in reaching:
                reaching.add(id(node))
                kept.append(node)
                break
    return kept


def _sole_owner(grad):
    """True when nothing but this sweep can see ``grad``, so it may become a ``.grad``
    without a copy. A VJP may pass its incoming gradient on to several inputs
    (``add`` does), or return a view of it; then two ``.grad``s would share memory and
    an in-place update of one (``clip_grad_norm_``) would change the other. Four
    references are ours: the ``grads`` dict, the caller's local, this function's
    parameter and getrefcount's argument; any other holder makes it a copy.
    """
    return type(grad) is np.ndarray and grad.base is None and sys.getrefcount(grad) <= 4


def _accumulate(tensor, grad, create_graph):
    """Add ``grad`` to ``tensor.grad``; the first one is copied so no two grads share memory."""
    if create_graph:
        tensor.grad = grad if tensor.grad is None else tensor.grad + grad
    elif tensor.grad is None:
        tensor.grad = Tensor._constant(np.array(grad, dtype=tensor.data.dtype, copy=True))
    else:
        tensor.grad = Tensor._constant(tensor.grad.data + grad)
