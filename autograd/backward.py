"""Reverse-mode sweep over the recorded graph, without recursion."""
import numpy as np

from .broadcast import unbroadcast
from .grad_mode import set_grad_enabled
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
    """Propagate gradients from ``outputs`` back through the graph.

    With ``inputs=None`` the gradients of all leaves that require grad are accumulated
    into their ``.grad``. Otherwise the gradients of ``inputs`` are returned (a list,
    ``None`` where an input is unreachable) and no ``.grad`` is touched.
    """
    for output in outputs:
        if not output._requires_grad:
            raise RuntimeError("backward: this tensor does not require grad and has no graph "
                               "(no input had requires_grad=True, or it was made under no_grad)")
    grads = {}
    for output, grad in zip(outputs, grad_outputs):
        seed = _seed(output, grad, create_graph)
        key = id(output)
        grads[key] = grads[key] + seed if key in grads else seed
    order = topological_order(outputs)
    wanted = None if inputs is None else {id(t): t for t in inputs}
    captured, leaves = {}, {id(o): o for o in outputs if o._op is None}

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
            if create_graph:
                input_grads = op.vjp(grad, node, *node._inputs)
            else:
                input_grads = op.vjp(grad, node.data, *[
                    value.data if isinstance(value, Tensor) else value for value in node._inputs])
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

        for key, leaf in leaves.items():
            grad = grads.get(key)
            if grad is None:
                continue
            if leaf._hooks:
                grad = leaf._run_hooks(grad)
            if wanted is not None:
                if key in wanted:
                    captured[key] = grad
            else:
                _accumulate(leaf, grad, create_graph)
    if wanted is not None:
        return [captured.get(id(t)) for t in inputs]
    return None


def _accumulate(tensor, grad, create_graph):
    """Add ``grad`` to ``tensor.grad``; the first one is copied so no two grads share memory."""
    if create_graph:
        tensor.grad = grad if tensor.grad is None else tensor.grad + grad
    elif tensor.grad is None:
        tensor.grad = Tensor._constant(np.array(grad, dtype=tensor.data.dtype, copy=True))
    else:
        tensor.grad = Tensor._constant(tensor.grad.data + grad)
