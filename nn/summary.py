"""Module.summary: a Keras-style table of layers, output shapes and parameter counts."""
from dataclasses import dataclass

import numpy as np

from autograd import Tensor, get_default_dtype
from autograd import no_grad


@dataclass
class SummaryRow:
    """One table row: a module's dotted path, type, output shape(s) and own parameter count."""

    path: str
    type: str
    output_shape: str
    params: int


@dataclass
class ModelSummary:
    """The result of ``Module.summary``: ``rows`` and totals; ``str()`` is the table."""

    model_type: str
    rows: list
    total_params: int
    trainable_params: int
    buffer_elements: int

    @property
    def non_trainable_params(self):
        return self.total_params - self.trainable_params

    def __str__(self):
        header = ("Layer (path)", "Type", "Output shape", "Param #")
        body = [(row.path, row.type, row.output_shape, f"{row.params:,}") for row in self.rows]
        widths = [max(len(line[i]) for line in [header] + body) for i in range(4)]

        def format_line(line):
            cells = [line[i].ljust(widths[i]) for i in range(3)] + [line[3].rjust(widths[3])]
            return "  ".join(cells)
        rule_width = sum(widths) + 2 * 3
        lines = [f"Model: {self.model_type}", "=" * rule_width, format_line(header),
                 "-" * rule_width]
        lines += [format_line(line) for line in body]
        lines += ["=" * rule_width,
                  f"Total params: {self.total_params:,}",
                  f"Trainable params: {self.trainable_params:,}",
                  f"Non-trainable params: {self.non_trainable_params:,}",
                  f"Buffer elements (not trained): {self.buffer_elements:,}"]
        return "\n".join(lines)

    __repr__ = __str__


def _describe(output, batch_size):
    """Output shape(s) with the batch dimension shown as None."""
    if isinstance(output, (tuple, list)):
        return ", ".join(_describe(item, batch_size) for item in output)
    shape = getattr(output, "shape", None)
    if shape is None:
        return type(output).__name__
    shape = tuple(shape)
    if shape and shape[0] == batch_size:
        shape = ("None",) + shape[1:]
    return "(" + ", ".join(str(side) for side in shape) + ("," if len(shape) == 1 else "") + ")"


def _input_dtype(model, dtype):
    if dtype is not None:
        return np.dtype(dtype)
    for parameter in model.parameters():
        if parameter.dtype.kind == "f":
            return parameter.dtype
    return get_default_dtype()


def first_layer(model):
    """The module that sees the input first, when the structure says so: the first leaf
    of nested ``Sequential``s (a custom ``forward`` may call its children in any order)."""
    from .containers import Sequential
    while isinstance(model, Sequential) and len(model):
        model = model[0]
    return model


def infer_input_shape(model):
    """``(in_features,)`` of a leading Linear, else a ValueError asking for the shape."""
    layer = first_layer(model)
    in_features = getattr(layer, "in_features", None)
    if isinstance(in_features, int) and type(layer).__name__ == "Linear":
        return (in_features,)
    raise ValueError(f"summary: the input shape cannot be read from the first layer "
                     f"({type(layer).__name__}); pass it without the batch dimension, "
                     f"e.g. model.summary((1, 28, 28)) for 28x28 grey images")


def summarize(model, input_shape, dtype=None, batch_size=2):
    """Run one forward on zeros and tabulate every leaf module (and any module that owns
    parameters directly). See ``Module.summary``."""
    if input_shape is None:
        input_shape = infer_input_shape(model)
    several = bool(input_shape) and isinstance(input_shape[0], (tuple, list))
    shapes = list(input_shape) if several else [input_shape]
    input_dtype = _input_dtype(model, dtype)
    inputs = [Tensor(np.zeros((batch_size,) + tuple(shape), dtype=input_dtype)) for shape in shapes]

    listed = [(path or "(root)", module) for path, module in model.named_modules()
              if not module._modules or module._parameters]
    outputs, handles = {}, []
    for path, module in listed:
        def record(module, args, output, path=path):
            outputs[path] = _describe(output, batch_size)
        handles.append(module.register_forward_hook(record))
    modes = [(module, module.training) for module in model.modules()]
    try:
        model.eval()
        with no_grad(), np.errstate(all="ignore"):
            model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
        for module, mode in modes:
            object.__setattr__(module, "training", mode)

    rows = [SummaryRow(path, type(module).__name__, outputs.get(path, "(not called)"),
                       sum(p.size for p in module.parameters(recurse=False)))
            for path, module in listed]
    parameters = list(model.parameters())
    return ModelSummary(
        model_type=type(model).__name__, rows=rows,
        total_params=sum(p.size for p in parameters),
        trainable_params=sum(p.size for p in parameters if p.requires_grad),
        buffer_elements=sum(b.size for b in model.buffers()))
