"""Reverse-mode sweep over the recorded graph, without recursion.

The loop reads like HIPS autograd's: take each node after everything that uses it, pass
its gradient through its op's VJP, add what comes out to the gradients of its inputs,
and free the node. Each other duty (hooks, ``retain_grad``, ``inputs=``, version
checks, anomaly checks, delivering to leaves) is a named helper.
"""
import gc
import sys

import numpy as np

from . import versions
from .anomaly import check_backward, check_seeds
from .broadcast import unbroadcast
from .collector import watch
from .grad_mode import set_grad_enabled, state
from .hooks import run_hooks
from .inplace import check_versions
from .tensor import Tensor

FREED_GRAPH_MESSAGE = (
    "Trying to backward through the graph a second time (op '{op}'), but its saved values "
    "were freed after the first backward. Pass retain_graph=True to the first backward() "
    "if you need to backward through the graph again.")


def topological_order(roots):
    """Non-leaf nodes reachable from ``roots``, each after all of its inputs.

    Every recorded op carries a sequence number drawn when it was recorded, after its
    inputs existed, so ascending sequence is a topological order: one iterative walk
    collects the nodes (no recursion, so graph depth is limited by memory only) and a
    sort of integers orders them. Raises RuntimeError on a node whose graph was freed.
    """
    found = {}
    stack = [root for root in roots if root._op is not None]
    while stack:
        node = stack.pop()
        inputs = node._inputs
        if inputs is None:
            raise RuntimeError(FREED_GRAPH_MESSAGE.format(op=node._op.name))
        found[node._op.sequence] = node
        for value in inputs:
            if isinstance(value, Tensor):
                op = value._op
                if op is not None and op.sequence not in found:
                    stack.append(value)
    return list(map(found.__getitem__, sorted(found)))


def run_backward(outputs, grad_outputs, retain_graph=False, create_graph=False, inputs=None):
    """Propagate gradients from ``outputs`` back through the graph.

    With ``inputs=None`` the gradients of all leaves that require grad are accumulated
    into their ``.grad``. Otherwise the gradients of ``inputs`` are returned (a list,
    ``None`` where an input is unreachable), no ``.grad`` is touched, and only the ops
    on a path to some input are run.

    Raises RuntimeError when a value an op's VJP reads was changed in place after the
    op was recorded (see ``autograd.inplace``).
    """
    grads = _seed_all(outputs, grad_outputs, create_graph)
    order = topological_order(outputs)
    wanted = None if inputs is None else {id(t): t for t in inputs}
    if wanted is not None:
        order = _leading_to(order, wanted)
    captured = {}
    leaves = {id(o): o for o in outputs if o._op is None}
    with _gc_paused(), set_grad_enabled(create_graph):
        _sweep(order, grads, leaves, wanted, captured, create_graph, retain_graph)
        order = None  # else it keeps every node alive through the next collection
        if wanted is not None:
            return _captured_inputs(inputs, wanted, grads, captured)
        _deliver_to_leaves(leaves, grads, create_graph)
    return None


def _sweep(order, grads, leaves, wanted, captured, create_graph, retain_graph):
    """Each node of ``order``, last first: its VJP, the results added to its inputs' totals
    in ``grads`` (leaves reached noted in ``leaves``), the node freed unless retained.
    One loop, no call per node: a call costs ~0.3 us of a small op's ~6 us backward."""
    clock, anomaly = versions.clock.now, state.flags.anomaly
    for node in reversed(order):
        grad = grads.pop(id(node), None)
        if grad is None:
            continue
        if node._hooks or node._retains_grad or wanted is not None:
            grad = _arrive(node, grad, wanted, captured, create_graph)
        op, node_inputs = node._op, node._inputs
        if op.recorded_at != clock:
            check_versions(node)
        try:
            input_grads = (op.vjp(grad, node, *node_inputs) if create_graph
                           else op.vjp(grad, node.data, *op.arrays))
            if anomaly:
                check_backward(node, grad, input_grads)
        except Exception as err:
            err.add_note(f"(raised in the backward of op '{op.name}')")
            raise
        for position, needs in enumerate(op.needs_grad):  # constants skipped first
            input_grad = input_grads[position] if needs else None
            if input_grad is None:
                continue
            value = node_inputs[position]
            data = value.data
            if input_grad.shape != data.shape or input_grad.dtype is not data.dtype:
                input_grad = _fitted(input_grad, data)  # dtypes: identity first, cheap
            key = id(value)
            if key in grads:
                grads[key] = grads[key] + input_grad
            else:
                grads[key] = input_grad
                if value._op is None:
                    leaves[key] = value
        if not retain_graph:
            node._inputs = None
            op.__dict__.clear()  # what forward saved and the recorded arrays


def _fitted(grad, data):
    """An input's gradient in the input's shape (broadcast axes summed) and dtype."""
    if grad.shape != data.shape:
        grad = unbroadcast(grad, data.shape)
    if grad.dtype != data.dtype:
        grad = grad.astype(data.dtype)
    return grad


def _seed_all(outputs, grad_outputs, create_graph):
    """The starting gradient of each output (summed when an output appears twice)."""
    for output in outputs:
        if not output._requires_grad:
            raise RuntimeError("backward: this tensor does not require grad and has no graph "
                               "(no input had requires_grad=True, or it was made under no_grad)")
    grads = {}
    for output, grad in zip(outputs, grad_outputs):
        seed = _seed(output, grad, create_graph)
        key = id(output)
        grads[key] = grads[key] + seed if key in grads else seed
    if state.flags.anomaly:
        check_seeds(outputs, grads)
    return grads


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


class _gc_paused:
    """Pause Python's cyclic collector during the sweep: the sweep frees what it drops by
    reference counting alone, but the tuples it allocates would trigger collections that
    each traverse the whole live graph (30% of the time on a 100,000-node graph). A pause
    that recording began (``autograd.collector``) ends here too. A class rather than a
    generator: it runs once per backward, and small models call backward thousands of
    times a second."""

    __slots__ = ("collecting",)

    def __enter__(self):
        self.collecting = gc.isenabled()
        if self.collecting:
            gc.disable()

    def __exit__(self, *exc_info):
        watch.resume()  # the graph is consumed: restart the collector if recording paused it
        if self.collecting:
            gc.enable()
        return False


def _arrive(node, grad, wanted, captured, create_graph):
    """A node's total gradient is known: run its hooks, then keep it where asked."""
    if node._hooks:
        grad = run_hooks(node, grad)
    if wanted is not None:
        if id(node) in wanted:
            captured[id(node)] = grad
    elif node._retains_grad:
        _accumulate(node, grad, create_graph)
    return grad


def _captured_inputs(inputs, wanted, grads, captured):
    """The gradients of ``inputs`` (``autograd.grad``), None where none arrived.

    An input that is a recorded result on no path to another input was never visited
    by the sweep; its gradient is still waiting in ``grads``.
    """
    for key, tensor in wanted.items():
        if key not in captured and key in grads:
            grad = grads[key]
            captured[key] = run_hooks(tensor, grad) if tensor._hooks else grad
    return [captured.get(id(t)) for t in inputs]


def _deliver_to_leaves(leaves, grads, create_graph):
    """Run each leaf's hooks and add its gradient to ``.grad``."""
    for key, leaf in leaves.items():
        grad = grads.pop(key, None)
        if grad is None:
            continue
        if leaf._hooks:
            grad = run_hooks(leaf, grad)
        if leaf.grad is None and not create_graph and _sole_owner(grad):
            leaf.grad = Tensor._constant(grad)
        else:
            _accumulate(leaf, grad, create_graph)


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
    without a copy. A VJP may pass its incoming gradient on to several inputs (``add``
    does) or return a view of it, and a user's seed may pass straight through; then two
    ``.grad``s (or the user and a ``.grad``) would share memory and an in-place update of
    one (``clip_grad_norm_``) would change the other. Three references are ours (the
    caller's local, this parameter and getrefcount's argument, the ``grads`` entry having
    been popped); any other holder makes it a copy. ``tests/test_engine.py`` checks that no
    two gradients ever share memory, so a change in CPython's counting shows up there.
    """
    return type(grad) is np.ndarray and grad.base is None and sys.getrefcount(grad) <= 3


def _accumulate(tensor, grad, create_graph):
    """Add ``grad`` to ``tensor.grad``; the first one is copied so no two grads share memory."""
    if create_graph:
        tensor.grad = grad if tensor.grad is None else tensor.grad + grad
    elif tensor.grad is None:
        tensor.grad = Tensor._constant(np.array(grad, dtype=tensor.data.dtype, copy=True))
    else:
        tensor.grad = Tensor._constant(tensor.grad.data + grad)


def backward(self, grad=None, retain_graph=False, create_graph=False):
    """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf that requires grad.

    Args:
        grad: gradient of some scalar w.r.t. this tensor; may be omitted for a
            one-element tensor (taken as 1).
        retain_graph: keep the graph so backward can run through it again.
        create_graph: record the backward pass itself, so ``.grad`` can be
            differentiated again (implies ``retain_graph``).
    """
    run_backward((self,), (grad,), retain_graph=retain_graph or create_graph,
                 create_graph=create_graph)


Tensor.backward = backward
