"""Call a module with parameters and buffers given for the call, as ``torch.func``.

    params = {name: p.detach() for name, p in model.named_parameters()}
    logits = nn.functional_call(model, params, (x,))

The module computes with the given tensors in place of its own (looked up by dotted
name, ``"0.weight"``), so the output is a function of them: ``grad``, ``jvp`` and ``vmap``
of a function that calls ``functional_call`` differentiate or batch over the
parameters, e.g. per-example gradients of a model::

    names = [name for name, _ in model.named_parameters()]

    def loss(*values, x, y):
        logits = nn.functional_call(model, dict(zip(names, values)), (x,))
        ...

The module's own parameters are put back afterwards, also when the call raises.
"""
from contextlib import contextmanager

from autograd import Tensor


def functional_call(module, parameters_and_buffers, args=(), kwargs=None, *, strict=False):
    """``module(*args, **kwargs)`` computed with ``parameters_and_buffers`` (a dict from
    dotted names to Tensors or arrays, or a tuple of such dicts) in place of the
    module's own parameters and buffers; names not given keep the module's own.

    Args:
        module: an ``nn.Module``.
        parameters_and_buffers: ``{"0.weight": tensor, ...}`` or a tuple of dicts.
        args: the positional arguments (a tuple; a single non-tuple value is one argument).
        kwargs: keyword arguments for the call.
        strict: require every parameter and buffer of the module to be given.

    Raises:
        ValueError: a name that is not a parameter or buffer of the module (the message
            lists the module's names), a name given twice, or with ``strict`` a missing one.
        TypeError: a value that is neither a Tensor nor an array.
    """
    values = _merged(parameters_and_buffers)
    slots = _slots(module)
    unknown = sorted(set(values) - set(slots))
    if unknown:
        raise ValueError(f"functional_call: {unknown} are not parameters or buffers of "
                         f"{type(module).__name__}; it has {sorted(slots)}")
    if strict:
        missing = sorted(set(slots) - set(values))
        if missing:
            raise ValueError(f"functional_call: strict=True but {missing} were not given")
    args = args if isinstance(args, tuple) else (args,)
    with _substituted(slots, values):
        return module(*args, **(kwargs or {}))


def _merged(parameters_and_buffers):
    dicts = (parameters_and_buffers if isinstance(parameters_and_buffers, (tuple, list))
             else (parameters_and_buffers,))
    merged = {}
    for mapping in dicts:
        if not isinstance(mapping, dict):
            raise TypeError(f"functional_call: expected a dict from names to tensors (or a "
                            f"tuple of dicts), got {type(mapping).__name__}")
        for name, value in mapping.items():
            if name in merged:
                raise ValueError(f"functional_call: {name!r} is given twice")
            if not isinstance(value, Tensor):
                try:
                    value = Tensor(value)
                except TypeError:
                    raise TypeError(f"functional_call: the value for {name!r} is a "
                                    f"{type(value).__name__}, not a Tensor or array") from None
            merged[name] = value
    return merged


def _slots(module):
    """Dotted name -> (registry dict, key) for every parameter and buffer."""
    slots = {}
    for prefix, owner in module.named_modules():
        for registry in (owner._parameters, owner._buffers):
            for key in registry:
                slots[f"{prefix}.{key}" if prefix else key] = (registry, key)
    return slots


@contextmanager
def _substituted(slots, values):
    saved = []
    try:
        for name, value in values.items():
            registry, key = slots[name]
            saved.append((registry, key, registry[key]))
            registry[key] = value  # the registry itself: a plain Tensor is not a Parameter
        yield
    finally:
        for registry, key, original in reversed(saved):
            registry[key] = original
