"""``autograd.grad``: gradients of outputs with respect to chosen inputs, as values."""
import numpy as np

from .backward import run_backward
from .tensor import Tensor


def _as_tuple(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, without touching ``.grad``.

    PyTorch's ``torch.autograd.grad``: the result is ``sum_k grad_outputs[k] *
    d outputs[k] / d input`` for each input.

    Args:
        outputs: a Tensor or a sequence of Tensors.
        inputs: a Tensor or a sequence of Tensors that require grad (leaves or
            recorded results).
        grad_outputs: the cotangent of each output (Tensor or array of the output's
            shape); may be None for one-element outputs (taken as 1).
        retain_graph: keep the graph for another backward; defaults to ``create_graph``.
        create_graph: record the computation of the gradients so they can be
            differentiated again.
        allow_unused: return None for an input the outputs do not depend on, instead
            of raising.

    Returns:
        A tuple with one Tensor (or None, see ``allow_unused``) per input.

    Raises:
        TypeError: an output or input that is not a Tensor.
        ValueError: an input that does not require grad, an input not used to compute
            the outputs (unless ``allow_unused``), or grad_outputs of the wrong number
            or shape.
        RuntimeError: an output that does not require grad, or a graph already freed.
    """
    outputs, inputs = _as_tuple(outputs), _as_tuple(inputs)
    for role, tensors in (("output", outputs), ("input", inputs)):
        for position, tensor in enumerate(tensors):
            if not isinstance(tensor, Tensor):
                raise TypeError(f"grad: {role} {position} must be a Tensor, got "
                                f"{type(tensor).__name__}")
    for position, tensor in enumerate(inputs):
        if not tensor._requires_grad:
            raise ValueError(f"grad: input {position} (shape {tensor.shape}) does not require "
                             f"grad, so no gradient can be taken with respect to it")
    for position, tensor in enumerate(outputs):
        if not tensor._requires_grad:
            raise RuntimeError(f"grad: output {position} (shape {tensor.shape}) does not require "
                               f"grad: it does not depend on any tensor that requires grad")
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    else:
        grad_outputs = _as_tuple(grad_outputs)
        if len(grad_outputs) != len(outputs):
            raise ValueError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} "
                             f"outputs; give one per output")
    if retain_graph is None:
        retain_graph = create_graph
    grads = run_backward(outputs, grad_outputs, retain_graph=retain_graph or create_graph,
                         create_graph=create_graph, inputs=inputs)
    result = []
    for position, (tensor, value) in enumerate(zip(inputs, grads)):
        if value is None:
            if not allow_unused:
                raise ValueError(f"grad: input {position} (shape {tensor.shape}) was not used to "
                                 f"compute the outputs; pass allow_unused=True to get None for "
                                 f"it")
            result.append(None)
        elif isinstance(value, Tensor):
            result.append(value)
        else:
            # Engine gradients may share memory with each other or with grad_outputs.
            result.append(Tensor._constant(np.array(value, copy=True)))
    return tuple(result)
