"""Containers: Sequential (a pipeline) and ModuleList (a list that registers its modules)."""
import operator
from collections import OrderedDict

from .module import Module, _tree_changed


def _index(container, index):
    """``index`` as a non-negative int within the container; IndexError otherwise."""
    try:
        index = operator.index(index)
    except TypeError:
        raise TypeError(f"{type(container).__name__} indices must be integers or slices, "
                        f"not {type(index).__name__}") from None
    size = len(container)
    if not -size <= index < size:
        raise IndexError(f"index {index} is out of range for a {type(container).__name__} "
                         f"of {size} modules")
    return index % size


def _renumber(container, modules):
    """Store ``modules`` under "0", "1", ...: PyTorch keeps the numbering contiguous
    after deletions and insertions."""
    container._modules.clear()
    container._modules.update((str(position), module) for position, module in enumerate(modules))
    _tree_changed()


class _ModuleSequence(Module):
    """What Sequential and ModuleList share: children kept in order, counted, iterated,
    deleted (the rest renumbered) and appended under the next number."""

    def __delitem__(self, index):
        keys = list(self._modules)
        doomed = keys[index] if isinstance(index, slice) else [keys[_index(self, index)]]
        for key in doomed:
            del self._modules[key]
        _renumber(self, list(self._modules.values()))

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self


class Sequential(_ModuleSequence):
    """Modules applied in order: ``Sequential(m0, m1, ...)`` or ``Sequential(OrderedDict)``.

    Children are named "0", "1", ... (or by the dict's keys). Indexing gives a module;
    slicing gives a new Sequential of the same module objects under their original names.
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for position, module in enumerate(modules):
                if not isinstance(module, Module):
                    raise TypeError(f"Sequential: argument {position} must be an nn.Module, "
                                    f"got {type(module).__name__}")
                self.add_module(str(position), module)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return list(self._modules.values())[_index(self, index)]

    def __setitem__(self, index, module):
        key = list(self._modules)[_index(self, index)]
        setattr(self, key, module)

    def insert(self, index, module):
        """Insert ``module`` before position ``index``; returns self."""
        if not isinstance(module, Module):
            raise TypeError(f"Sequential.insert: expected an nn.Module, "
                            f"got {type(module).__name__}")
        size = len(self)
        index = operator.index(index)
        if not -size <= index <= size:
            raise IndexError(f"Sequential.insert: index {index} is out of range for {size} modules")
        modules = list(self._modules.values())
        modules.insert(index, module)
        _renumber(self, modules)
        return self

    def extend(self, modules):
        """Append every module of an iterable; returns self."""
        for module in modules:
            self.append(module)
        return self


class ModuleList(_ModuleSequence):
    """A list of modules that registers them (so their parameters are found), named "0", "1", ...

    It has no ``forward``: iterate over it in the owner's forward.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return self._modules[str(_index(self, index))]

    def __setitem__(self, index, module):
        setattr(self, str(_index(self, index)), module)

    def __iadd__(self, modules):
        return self.extend(modules)

    def extend(self, modules):
        """Append every module of an iterable; returns self."""
        for module in modules:
            if not isinstance(module, Module):
                raise TypeError(f"ModuleList: expected nn.Module items, "
                                f"got {type(module).__name__}")
            self.append(module)
        return self

    def insert(self, index, module):
        """Insert ``module`` before position ``index``."""
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList.insert: expected an nn.Module, "
                            f"got {type(module).__name__}")
        modules = list(self._modules.values())
        modules.insert(index, module)
        _renumber(self, modules)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward: iterate over it and call "
                                  "each module in the owner's forward")
