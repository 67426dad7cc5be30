"""Module: the base class of layers and models, with PyTorch's API.

Assigning a ``Parameter`` or a ``Module`` as an attribute registers it; ``register_buffer``
registers state that is saved but not trained (BatchNorm's running statistics).
``state_dict`` is a flat dict of dotted names, as in PyTorch.

While a module's ``forward`` runs, ``autograd.extend.current_scope()`` is its dotted
path ("0", "encoder.fc1"; "" for the model itself), so every recorded op knows which
module made it and graph drawings can group ops by module. Paths are assigned from the
outermost module called, once after each change of any module tree; a submodule called
on its own keeps its path in the model that contains it.
"""
from collections import OrderedDict, namedtuple

import numpy as np

from autograd import Tensor
from autograd import no_grad
from autograd.extend import current_scope, name_scope

from .parameter import Parameter

# Bumped on every change of any module tree. A module whose paths were assigned at an
# older version gets them again when it is next called from outside any module.
_tree_version = 0


def _tree_changed():
    global _tree_version
    _tree_version += 1


class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict(strict=False)`` skipped: keys missing from / unknown to the model."""


class StateDictError(ValueError, RuntimeError):
    """A state dict does not fit the model. Both a ValueError (bad input) and a
    RuntimeError (what PyTorch raises), so either ``except`` catches it."""


class RemovableHandle:
    """Returned by ``register_forward_hook``; ``remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks):
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self):
        self._hooks.pop(self.id, None)


class Module:
    """Base class for all layers and models.

    Subclasses call ``super().__init__()`` first, assign parameters and submodules as
    attributes, and define ``forward``. Call the module (``model(x)``), not ``forward``,
    so that hooks run and recorded ops are tagged with the module's path.
    """

    def __init__(self):
        set_attribute = object.__setattr__
        set_attribute(self, "training", True)
        set_attribute(self, "_parameters", OrderedDict())
        set_attribute(self, "_buffers", OrderedDict())
        set_attribute(self, "_non_persistent_buffers", set())
        set_attribute(self, "_modules", OrderedDict())
        set_attribute(self, "_forward_hooks", OrderedDict())
        set_attribute(self, "_path", "")
        set_attribute(self, "_path_version", -1)
        _tree_changed()

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing the required "
                                  f"\"forward\" function")

    # --- calling ---------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if self._path_version != _tree_version and current_scope() is None:
            self._assign_paths()
        with name_scope(self._path):
            result = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                replaced = hook(self, args, result)
                if replaced is not None:
                    result = replaced
        return result

    def _assign_paths(self):
        """Give every module in this tree its dotted path relative to ``self``."""
        for path, module in self.named_modules():
            object.__setattr__(module, "_path", path)
            object.__setattr__(module, "_path_version", _tree_version)

    def _error_name(self):
        """How errors name this module: its type and, inside a model, its path."""
        name = type(self).__name__
        return f"{name} '{self._path}'" if self._path else name

    def register_forward_hook(self, hook):
        """Call ``hook(module, args, output)`` after each forward; a non-None result
        replaces the output. Returns a handle whose ``remove()`` unregisters it."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    # --- registration ----------------------------------------------------------------
    def __setattr__(self, name, value):
        parameters = self.__dict__.get("_parameters")
        if parameters is None and isinstance(value, (Parameter, Module)):
            raise AttributeError(f"cannot assign {type(value).__name__} '{name}' before "
                                 f"Module.__init__() call; call super().__init__() first")
        if isinstance(value, Parameter):
            self._forget(name)
            parameters[name] = value
        elif parameters is not None and name in parameters:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter '{name}' "
                                f"(nn.Parameter or None expected)")
            parameters[name] = None
        elif isinstance(value, Module):
            self._forget(name)
            self._modules[name] = value
            _tree_changed()
        elif parameters is not None and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as child module "
                                f"'{name}' (nn.Module or None expected)")
            self._modules[name] = None
            _tree_changed()
        elif parameters is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer '{name}' "
                                f"(Tensor or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name):
        """Drop ``name`` from every registry, before it is registered anew."""
        self.__dict__.pop(name, None)
        self._parameters.pop(name, None)
        self._buffers.pop(name, None)
        self._non_persistent_buffers.discard(name)
        if self._modules.pop(name, None) is not None:
            _tree_changed()

    def __getattr__(self, name):
        # Only reached when normal lookup fails: parameters, buffers and submodules.
        namespace = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = namespace.get(registry)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers.discard(name)
                _tree_changed()
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, parameter):
        """Register ``parameter`` (a Parameter or None) under ``name``."""
        self._make_room("register_parameter", "parameter", name, parameter, Parameter,
                        "an nn.Parameter")
        self._parameters[name] = parameter

    def register_buffer(self, name, tensor, persistent=True):
        """Register ``tensor`` (a Tensor or None) as state saved in ``state_dict``
        (unless ``persistent=False``) but not returned by ``parameters()``."""
        self._make_room("register_buffer", "buffer", name, tensor, Tensor, "a Tensor")
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers.add(name)

    def add_module(self, name, module):
        """Register ``module`` (a Module or None) as a child under ``name``."""
        self._make_room("add_module", "module", name, module, Module, "an nn.Module")
        self._modules[name] = module
        _tree_changed()

    register_module = add_module

    def _make_room(self, caller, kind, name, value, expected, expected_text):
        """Check ``name`` and ``value`` (an ``expected`` or None) for ``caller``, then drop
        whatever ``name`` held before, so it can be registered anew."""
        self._check_name(name, kind)
        if value is not None and not isinstance(value, expected):
            raise TypeError(f"{caller}: '{name}' must be {expected_text} or None, "
                            f"got {type(value).__name__}")
        self._forget(name)

    def _check_name(self, name, kind):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot register a {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name must be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f"{kind} name must be non-empty and contain no '.', got {name!r}")
        if hasattr(type(self), name):
            raise KeyError(f"{kind} name {name!r} clashes with an attribute of "
                           f"{type(self).__name__}")

    # --- traversal -------------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(dotted path, module) for this module and every descendant, parents first;
        a module reachable twice is listed once (under its first path)."""
        memo = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:
            path, module = stack.pop()
            if remove_duplicate:
                if id(module) in memo:
                    continue
                memo.add(id(module))
            yield path, module
            children = [(f"{path}.{name}" if path else name, child)
                        for name, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))

    def modules(self):
        """This module and every descendant."""
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        """(name, module) for each direct child."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        """The direct child modules."""
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry, prefix, recurse):
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for path, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{path}.{name}" if path else name), value

    def named_parameters(self, prefix="", recurse=True):
        """(dotted name, Parameter) for every parameter, e.g. ``("0.weight", ...)``;
        a parameter shared by two modules is listed once."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse=True):
        """Every parameter (once each), in registration order."""
        for _, parameter in self.named_parameters(recurse=recurse):
            yield parameter

    def named_buffers(self, prefix="", recurse=True):
        """(dotted name, Tensor) for every buffer."""
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse=True):
        """Every buffer (once each)."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def get_submodule(self, target):
        """The descendant at dotted path ``target`` ("" is this module)."""
        module = self
        if target == "":
            return module
        for name in target.split("."):
            child = module._modules.get(name)
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no submodule '{name}' "
                                     f"(looking up '{target}')")
            module = child
        return module

    def apply(self, fn):
        """Call ``fn(module)`` on every descendant (children first) and on self; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # --- modes and gradients ---------------------------------------------------------
    def train(self, mode=True):
        """Set training mode (BatchNorm uses batch statistics, Dropout drops) on the
        whole tree; returns self."""
        if not isinstance(mode, bool):
            raise ValueError(f"train(): mode must be a bool, got {type(mode).__name__}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        """Set evaluation mode on the whole tree (``train(False)``); returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` on every parameter (freeze with False); returns self."""
        for parameter in self.parameters():
            parameter.requires_grad = requires_grad
        return self

    def zero_grad(self, set_to_none=True):
        """Forget the gradients of every parameter (or fill them with zeros)."""
        for parameter in self.parameters():
            if set_to_none or parameter.grad is None:
                parameter.grad = None
            else:
                parameter.grad = Tensor(np.zeros_like(parameter.grad.data))

    def to(self, dtype=None, *, device=None):
        """Convert floating parameters and buffers (and gradients) to ``dtype`` in place,
        keeping the Parameter objects (optimizers hold them); returns self.

        ``"cpu"`` (as a dtype or ``device=``) is accepted and changes nothing, so that
        device-agnostic PyTorch code runs.
        """
        if device is not None and not (isinstance(device, str) and device == "cpu"):
            raise ValueError(f"to(): only the 'cpu' device exists here, got {device!r}")
        if dtype is None or (isinstance(dtype, str) and dtype == "cpu"):
            return self
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"to(): expected a NumPy floating dtype or 'cpu', "
                            f"got {dtype!r}") from None
        if dtype.kind != "f":
            raise TypeError(f"to(): only floating dtypes are supported, got {dtype}")
        for tensor in list(self.parameters()) + list(self.buffers()):
            if tensor.data.dtype.kind == "f" and tensor.data.dtype != dtype:
                tensor.data = tensor.data.astype(dtype)
                if tensor.grad is not None:
                    tensor.grad = Tensor(tensor.grad.data.astype(dtype))
        return self

    def double(self):
        """``to(float64)``."""
        return self.to(np.float64)

    def float(self):
        """``to(float32)``."""
        return self.to(np.float32)

    # --- state -----------------------------------------------------------------------
    def _state_entries(self):
        """(dotted key, Tensor) of everything state_dict saves, in PyTorch's order:
        each module's parameters, then its persistent buffers, then its children."""
        for path, module in self.named_modules():
            prefix = f"{path}." if path else ""
            for name, parameter in module._parameters.items():
                if parameter is not None:
                    yield prefix + name, parameter
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent_buffers:
                    yield prefix + name, buffer

    def state_dict(self, prefix="", keep_vars=False):
        """An ordered dict of dotted names (``"0.weight"``, ``"1.running_mean"``) to detached
        Tensors sharing the model's arrays, as in PyTorch: copy it (``copy.deepcopy``) to
        keep a snapshot. ``keep_vars=True`` gives the Parameters and buffers themselves."""
        return OrderedDict((prefix + key, tensor if keep_vars else tensor.detach())
                           for key, tensor in self._state_entries())

    def load_state_dict(self, state_dict, strict=True):
        """Copy ``state_dict`` (values: Tensors or arrays) into the model's parameters and buffers.

        Every key, shape and dtype is checked before anything is copied, so on error the
        model is left unchanged. With ``strict`` missing and unexpected keys are errors;
        without, they are returned. A shape or dtype mismatch is always an error.

        Returns:
            IncompatibleKeys(missing_keys, unexpected_keys).
        Raises:
            StateDictError (a ValueError and RuntimeError) listing every problem at once.
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"load_state_dict: expected a dict of name -> array, "
                            f"got {type(state_dict).__name__}")
        targets = OrderedDict(self._state_entries())
        missing = [key for key in targets if key not in state_dict]
        unexpected = [key for key in state_dict if key not in targets]
        mismatched, updates = [], []
        for key, target in targets.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = value.data if isinstance(value, Tensor) else np.asarray(value)
            if array.shape != target.data.shape:
                mismatched.append(f"size mismatch for {key}: copying a value with shape "
                                  f"{array.shape} from the checkpoint, the shape in the "
                                  f"current model is {target.data.shape}")
            elif array.dtype != target.data.dtype:
                mismatched.append(f"dtype mismatch for {key}: the checkpoint has {array.dtype}, "
                                  f"the current model has {target.data.dtype} (convert the "
                                  f"model with .to(dtype) first)")
            else:
                updates.append((target, array))
        problems = []
        if strict and missing:
            problems.append("Missing key(s) in state_dict: "
                            + ", ".join(f'"{k}"' for k in missing) + ".")
        if strict and unexpected:
            problems.append("Unexpected key(s) in state_dict: "
                            + ", ".join(f'"{k}"' for k in unexpected) + ".")
        problems.extend(mismatched)
        if problems:
            raise StateDictError(f"Error(s) in loading state_dict for {type(self).__name__} "
                                 f"(nothing was loaded):\n\t" + "\n\t".join(problems))
        with no_grad():
            for target, array in updates:
                if target.data is not array:
                    target.data[...] = array
        return IncompatibleKeys(missing, unexpected)

    # --- description -----------------------------------------------------------------
    def extra_repr(self):
        """The module's own settings for ``repr`` (override in layers)."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _indent(repr(module), 2)
                       for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        text = type(self).__name__ + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"

    def __getstate__(self):
        # A copy or unpickled module is a new tree: it gets its paths on its first call.
        state = self.__dict__.copy()
        state["_path_version"] = -1
        return state

    def __dir__(self):
        names = set(super().__dir__())
        names.update(self._parameters, self._buffers, self._modules)
        return sorted(names)

    def summary(self, input_shape=None, dtype=None, batch_size=2):
        """A Keras-style table of the modules' output shapes and parameter counts.

        Runs one forward pass on zeros of shape ``(batch_size, *input_shape)`` (a list
        of shapes for several inputs) in eval mode under ``no_grad``; the training
        flags are restored afterwards and nothing else changes. ``print`` the result.
        Without ``input_shape``, the first layer tells it when it can (a ``Linear``
        first, alone or in ``Sequential``s, takes ``(in_features,)``).
        """
        from .summary import summarize
        return summarize(self, input_shape, dtype=dtype, batch_size=batch_size)


def _indent(text, spaces):
    lines = text.split("\n")
    return lines[0] + "".join("\n" + " " * spaces + line for line in lines[1:])
