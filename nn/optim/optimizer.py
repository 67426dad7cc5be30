"""Optimizer base: parameter groups, per-parameter state, state_dict, zero_grad.

The shape of PyTorch's ``torch.optim.Optimizer``: ``param_groups`` is a list of dicts
(``"params"`` plus hyperparameters, defaults filled in), ``state`` maps each parameter
to a dict of its buffers (ndarrays) and counters, and ``state_dict()`` refers to
parameters by their position across the groups. Subclasses implement ``_update``
(one tensor) and, for the fused path that updates a whole group in one pass over flat
buffers (``flat_state``), ``_state_names``, ``_counts_steps`` and ``_fused_update``.

Updates write into ``param.data`` in place, under ``no_grad``: they never build graph,
and arrays keep their dtype (float32 stays float32, hyperparameters are Python floats).
"""
import copy
from collections import defaultdict

import numpy as np

from autograd import Tensor, enable_grad, no_grad
from autograd.extend import bump_version, bump_versions

from .flat_state import build_layout


def check_non_negative(owner, **values):
    """ValueError naming the argument when a hyperparameter is negative (or not a number)."""
    for name, value in values.items():
        if not (isinstance(value, (int, float, np.integer, np.floating)) and value >= 0):
            raise ValueError(f"{owner}: {name} must be a non-negative number, got {value!r}")


class Optimizer:
    """Base class: holds ``param_groups`` and ``state``; ``step()`` updates parameters.

    Args:
        params: an iterable of Tensors, or of dicts with ``"params"`` and per-group
            hyperparameters overriding ``defaults``.
        defaults: the hyperparameters every group gets unless it says otherwise.

    Raises:
        TypeError: a single Tensor instead of an iterable, or a non-Tensor parameter.
        ValueError: no parameters, a non-leaf tensor, or a parameter in two groups.
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        self._layouts = {}   # group index -> FlatLayout (or None) for the fused path
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of Tensors or "
                            f"dicts (e.g. model.parameters()), got a single Tensor")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list; pass "
                             f"model.parameters() of a model that has parameters")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Add a group of parameters (a dict with ``"params"``) with its own hyperparameters."""
        owner = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{owner}: a parameter group must be a dict, got "
                            f"{type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if params is None:
            raise ValueError(f"{owner}: a parameter group needs a 'params' entry")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{owner}: parameters must come in an ordered collection (a list), "
                            f"not a set, so that state_dict indices are reproducible")
        group["params"] = list(params)
        for param in group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError(f"{owner}: can only optimize Tensors, but one of the params is "
                                f"{type(param).__name__}")
            if not param.is_leaf:
                raise ValueError(f"{owner}: can't optimize a non-leaf Tensor (one computed from "
                                 f"others); optimize the leaves it was computed from")
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._check_group(group)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]):
            raise ValueError(f"{owner}: some parameters appear in more than one parameter group")
        if len({id(p) for p in group["params"]}) != len(group["params"]):
            raise ValueError(f"{owner}: a parameter group lists the same parameter twice")
        self.param_groups.append(group)

    def _check_group(self, group):
        """Validate a group's hyperparameters (subclasses check theirs)."""

    def zero_grad(self, set_to_none=True):
        """Forget the gradients: set ``.grad`` to None (default) or fill it with zeros."""
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                if set_to_none:
                    param.grad = None
                elif param.grad.data.flags.writeable:
                    param.grad.data[...] = 0
                else:
                    param.grad = Tensor(np.zeros_like(param.grad.data))

    def step(self, closure=None):
        """Update every parameter that has a gradient; ``closure`` re-evaluates the loss.

        The parameters of a group that have gradients, all of one floating dtype,
        take the fused path (one pass over flat buffers, see ``flat_state``) unless
        the group's ``foreach`` is False; otherwise each parameter is updated on its
        own. Both give the same numbers.

        Returns the closure's loss, or None.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for index, group in enumerate(self.param_groups):
                hyper = {key: value for key, value in group.items() if key != "params"}
                if hyper.get("foreach") is not False and self._fused_step(index, group, hyper):
                    continue
                self._step_each(group["params"], hyper)
        return loss

    def _step_each(self, params, hyper):
        """The per-tensor path: ``_update`` once per parameter that has a gradient."""
        step_name = f"{type(self).__name__}.step"
        state = self.state
        for param in params:
            grad = param.grad
            if grad is None:
                continue
            if grad.shape != param.shape:
                raise ValueError(f"{type(self).__name__}: a parameter of shape "
                                 f"{param.shape} has a gradient of shape {grad.shape}")
            self._update(_writable_data(param), grad.data, state[param], **hyper)
            bump_version(param, step_name)

    def _fused_step(self, index, group, hyper):
        """Update the whole group through its flat layout; False if it can't be fused.

        The layout is checked every step (cheap identity tests) and rebuilt when the
        parameters, their dtype, or the state arrays behind it have changed.
        """
        if not _fuses(type(self)):
            return False
        # Parameters without a gradient are skipped, as on the per-tensor path; a
        # group with frozen parameters still fuses the others.
        params = [param for param in group["params"] if param.grad is not None]
        if not params:
            return True
        names = self._state_names(hyper)
        counts_steps = self._counts_steps
        layout = self._layouts.get(index)
        valid = (layout is not None and layout.names == names
                 and layout.ids == tuple(map(id, params)))
        if valid:
            dtype, step, shapes, param_views = (layout.dtype, layout.step, layout.shapes,
                                                layout.param_views)
        state, grads = self.state, []
        for position, param in enumerate(params):
            grad, data = param.grad.data, param.data
            if grad.dtype is not data.dtype and grad.dtype != data.dtype \
                    or grad.shape != data.shape:
                return False
            if valid:
                entry = state[param]
                if (data.dtype != dtype or data.shape != shapes[position]
                        or (counts_steps and entry.get("step") != step)):
                    valid = False
                else:
                    for name, view in zip(names, param_views[position]):
                        if entry.get(name) is not view:
                            valid = False
            grads.append(grad)
        if not valid:
            layout = build_layout(params, [state[param] for param in params], names,
                                  counts_steps)
            self._layouts[index] = layout
            if layout is None:
                return False
        layout.step += 1
        in_place = self._fused_update_leaves_grad(hyper)
        for segment in layout.segments:
            segment.take_grads(grads, in_place)
            decay = self._fused_update(segment, **hyper)
            # Subtracted segment by segment, while its deltas are still in cache.
            for position, delta in zip(segment.positions, segment.deltas):
                _subtract_in_place(params[position], delta, decay)
        bump_versions(params, f"{type(self).__name__}.step")
        layout.fresh = False
        if counts_steps:
            for param in params:
                state[param]["step"] = layout.step
        return True

    # What a subclass provides for the fused path: the names of its state buffers for
    # a group's hyperparameters, whether it keeps a ``step`` count, and the update.
    _counts_steps = False

    def _fused_update_leaves_grad(self, hyper):
        """Whether ``_fused_update`` with these hyperparameters only reads ``grad``, so
        that a large gradient can be passed in place instead of copied (it is passed
        read-only: a write raises rather than changing the parameter's ``.grad``)."""
        return not (hyper.get("maximize") or hyper.get("weight_decay"))

    def _state_names(self, hyper):
        """The names of the per-parameter state arrays this group's update keeps."""
        return ()

    def _fused_update(self, layout, **hyper):
        """Fill ``layout.delta`` (``p -= delta``) from ``layout.grad`` and the flat state.

        ``layout`` is one segment of the group's flat buffers (``flat_state.FlatSegment``);
        ``grad`` may be written only where ``_fused_update_leaves_grad`` says False.
        Returns a factor every parameter is multiplied by first (decoupled weight
        decay), or None. Must compute exactly what ``_update`` computes per tensor.
        """
        raise NotImplementedError

    def _update(self, param, grad, state, **hyper):
        """Update the ndarray ``param`` in place from ``grad``; ``state`` is its dict."""
        raise NotImplementedError

    # --- state_dict -------------------------------------------------------------------------
    def state_dict(self):
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``.

        Parameters are numbered by position across the groups, as in PyTorch; arrays
        are copies, so later steps do not change a saved state dict.
        """
        index_of, groups, start = {}, [], 0
        for group in self.param_groups:
            packed = {key: copy.deepcopy(value) for key, value in group.items() if key != "params"}
            for position, param in enumerate(group["params"], start):
                index_of.setdefault(id(param), position)
            packed["params"] = [index_of[id(param)] for param in group["params"]]
            start += len(packed["params"])
            groups.append(packed)
        state = {index_of[id(param)]: {key: _copy_value(value) for key, value in entry.items()}
                 for param, entry in self.state.items() if id(param) in index_of and entry}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load a ``state_dict()``; validated first, so on error nothing changes.

        Floating buffers are cast to their parameter's dtype; hyperparameters come from
        the saved groups, parameters stay this optimizer's own.

        Raises:
            ValueError: different group count or sizes, unknown parameter indices, or a
                buffer whose shape differs from its parameter's.
        """
        owner = type(self).__name__
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            keys = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(f"{owner}.load_state_dict: expected a dict with keys 'state' and "
                             f"'param_groups', got {keys}")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{owner}.load_state_dict: the state dict has {len(saved_groups)} "
                             f"parameter groups, this optimizer has {len(self.param_groups)}")
        for number, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{owner}.load_state_dict: parameter group {number} has "
                                 f"{len(saved['params'])} parameters in the state dict but "
                                 f"{len(group['params'])} in this optimizer")
        param_of = {}
        for saved, group in zip(saved_groups, self.param_groups):
            param_of.update(zip(saved["params"], group["params"]))
        new_state = defaultdict(dict)
        for index, entry in state_dict["state"].items():
            key = int(index)
            if key not in param_of:
                raise ValueError(f"{owner}.load_state_dict: state for parameter {index!r}, which "
                                 f"no parameter group lists")
            param = param_of[key]
            new_state[param] = {name: _cast_state(owner, key, name, value, param)
                                for name, value in entry.items()}
        new_groups = []
        for saved, group in zip(saved_groups, self.param_groups):
            merged = {name: copy.deepcopy(value) for name, value in saved.items()
                      if name != "params"}
            merged["params"] = group["params"]
            for name, value in group.items():
                merged.setdefault(name, value)
            self._check_group(merged)
            new_groups.append(merged)
        self.state, self.param_groups = new_state, new_groups

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for number, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {number}")
            lines.extend(f"    {key}: {value}" for key, value in sorted(group.items())
                         if key != "params")
        return "\n".join(lines + [")"])


_FUSES = {}


def _fuses(cls):
    """Whether ``cls`` has a fused update that matches its ``_update``: a subclass
    that overrides ``_update`` alone (a custom rule) must not be bypassed."""
    fuses = _FUSES.get(cls)
    if fuses is None:
        def owner(name):
            return next(klass for klass in cls.__mro__ if name in vars(klass))
        fuses = _FUSES[cls] = (owner("_fused_update") is not Optimizer
                               and owner("_fused_update") is owner("_update"))
    return fuses


def _subtract_in_place(param, delta, decay):
    """param.data = param.data * decay - delta, in place (decay None: no factor)."""
    data = param.data
    try:
        if decay is not None:
            data *= decay
        data -= delta
    except ValueError:  # a read-only array (a broadcast or memory-mapped one): own a copy
        if data.flags.writeable:
            raise
        data = _writable_data(param)
        if decay is not None:
            data *= decay
        data -= delta


def _writable_data(param):
    if not param.data.flags.writeable:
        param.data = param.data.copy()
    return param.data


def _copy_value(value):
    if isinstance(value, Tensor):
        value = value.data
    return value.copy() if isinstance(value, np.ndarray) else copy.deepcopy(value)


def _cast_state(owner, index, name, value, param):
    """A loaded state entry: arrays copied in the parameter's dtype, counters as numbers."""
    if isinstance(value, Tensor):
        value = value.data
    if name == "step":
        # A Python int, whatever it was saved as (PyTorch saves a float tensor): a NumPy
        # scalar would turn float32 updates into float64 ones.
        step = float(np.asarray(value))
        return int(step) if step.is_integer() else step
    if isinstance(value, np.generic):
        value = np.asarray(value)
    if isinstance(value, np.ndarray) and value.ndim == 0 and param.ndim != 0:
        return value.item()
    if not isinstance(value, np.ndarray):
        return copy.deepcopy(value)
    if value.shape != param.shape:
        raise ValueError(f"{owner}.load_state_dict: state {name!r} of parameter {index} has "
                         f"shape {value.shape}, but the parameter has shape {param.shape}")
    if value.dtype.kind == "f" and param.dtype.kind == "f":
        return value.astype(param.dtype, copy=True)
    return value.copy()
