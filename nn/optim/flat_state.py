"""One parameter group's optimizer state in flat buffers: the fused (``foreach``) path.

Per-tensor updates run a dozen NumPy calls per parameter tensor; for a model with
18 small tensors that fixed cost is most of an Adam step. The fused path keeps each
state buffer (``exp_avg``, ``momentum_buffer``, ...) of a whole group in one flat array,
gathers the gradients into one flat array with a single ``np.concatenate``, runs the
update formula once over the flat arrays, and subtracts each tensor's slice of the
result from its parameter. The arithmetic is the per-tensor path's, element by
element, so both give the same bits.

Parameters are *not* moved into a flat buffer: ``param.data`` stays the user's array,
so ``p.data = ...``, ``model.to(dtype)``, ``load_state_dict`` and checkpoints work as
before. ``optimizer.state[p][name]`` is a view into the flat buffer; whenever that is
no longer so (``load_state_dict`` put new arrays there, a dtype changed, the per-tensor
path ran for some parameters), the layout is rebuilt from the per-parameter state, or
the group takes the per-tensor path when the state cannot be flattened.

A large gradient is not copied: gathering it would be one more pass over memory than
the update itself needs (the notes' Fashion-MNIST MLP has 82% of its parameters in its
first weight), while updating it on its own costs only a dozen more NumPy calls. So the flat buffers
are updated in segments, one ``_fused_update`` call each: a single large parameter
whose gradient is read where the backward left it, or a run of small ones whose
gradients are gathered. Updates are elementwise, so segments give the same bits.
"""
import numpy as np

# Gradients of at least this many elements are read in place rather than gathered.
DIRECT_GRAD_ELEMENTS = 1 << 16


class FlatLayout:
    """Flat state buffers of one group, their per-parameter views, and scratch arrays.

    Attributes:
        ids: ``id`` of each parameter, in group order (the layout fits only that list).
        dtype: the one floating dtype of every parameter, gradient and state buffer.
        buffers: state name -> flat array; ``views[name][i]`` is parameter i's view,
            and ``param_views[i]`` parameter i's views in ``names`` order.
        grad: the gathered gradients of the step being taken (the update may overwrite it).
        delta: the update's result; ``deltas[i]`` is what parameter i subtracts.
        step: the step count shared by every parameter (counting optimizers).
        fresh: no step has been taken yet (SGD starts its momentum from the gradient).
    """

    def __init__(self, params, names, dtype):
        self.params = tuple(params)
        self.ids = tuple(map(id, params))
        self.shapes = tuple(param.data.shape for param in params)
        self.dtype = dtype
        self.names = tuple(names)
        sizes = [param.data.size for param in params]
        total = sum(sizes)
        bounds = np.cumsum([0] + sizes).tolist()
        self.buffers = {name: np.zeros(total, dtype) for name in self.names}
        self.views = {name: self._split(flat, bounds) for name, flat in self.buffers.items()}
        self.param_views = tuple(zip(*(self.views[name] for name in self.names))) or (
            ((),) * len(params))
        self.grad = np.empty(total, dtype)
        self.delta = np.empty(total, dtype)
        self.deltas = self._split(self.delta, bounds)
        self._params_flat = np.empty(total, dtype)
        self.step = 0
        self.fresh = True
        self.segments = tuple(FlatSegment(self, positions, bounds[positions[0]],
                                          bounds[positions[-1] + 1])
                              for positions in _segment_positions(sizes))

    def _split(self, flat, bounds):
        return tuple(flat[start:stop].reshape(shape)
                     for start, stop, shape in zip(bounds[:-1], bounds[1:], self.shapes))


def _segment_positions(sizes):
    """Parameter positions in runs: each large parameter alone, the small ones between
    them together."""
    runs, small = [], []
    for position, size in enumerate(sizes):
        if size >= DIRECT_GRAD_ELEMENTS:
            if small:
                runs.append(small)
                small = []
            runs.append([position])
        else:
            small.append(position)
    return runs + [small] if small else runs


class FlatSegment:
    """What one ``_fused_update`` call sees: the layout's attributes (``grad``,
    ``buffers``, ``delta``, ``step``, ``fresh``, ``params_flat()``) restricted to a run
    of parameters. ``direct``: a single large parameter whose gradient is used in place
    (read-only) when the update does not write to ``grad``."""

    def __init__(self, layout, positions, start, stop):
        self.layout = layout
        self.positions = tuple(positions)
        self.direct = len(positions) == 1 and stop - start >= DIRECT_GRAD_ELEMENTS
        self.gathered = layout.grad[start:stop]
        self.grad = self.gathered
        self.buffers = {name: flat[start:stop] for name, flat in layout.buffers.items()}
        self.delta = layout.delta[start:stop]
        self.deltas = tuple(layout.deltas[position] for position in positions)
        self._params = tuple(layout.params[position] for position in positions)
        self._params_flat = layout._params_flat[start:stop]

    @property
    def step(self):
        return self.layout.step

    @property
    def fresh(self):
        return self.layout.fresh

    def take_grads(self, grads, in_place):
        """Point ``grad`` at this step's gradients (``grads``: every parameter's, in
        layout order, any shape): the parameter's own array, flat and read-only, when
        ``in_place`` allows and the segment is direct, else a gathered copy."""
        if in_place and self.direct:
            grad = grads[self.positions[0]].reshape(-1)  # a new array object: view or copy
            grad.flags.writeable = False
            self.grad = grad
        else:
            np.concatenate([grads[position] for position in self.positions], axis=None,
                           out=self.gathered)
            self.grad = self.gathered

    def params_flat(self):
        """The segment's parameters gathered into one flat array (a copy)."""
        np.concatenate([param.data.reshape(-1) for param in self._params],
                       out=self._params_flat)
        return self._params_flat


def build_layout(params, entries, names, counts_steps):
    """A FlatLayout holding the given per-parameter state, or None when it can't.

    ``entries`` are the parameters' state dicts. They must be all empty (a fresh
    start) or all hold exactly ``names`` (plus ``step`` when ``counts_steps``) as
    arrays of their parameter's shape and dtype, with one common step count.
    On success every entry's arrays are replaced by views into the flat buffers.
    """
    dtype = params[0].data.dtype
    if dtype.kind != "f" or any(param.data.dtype != dtype for param in params):
        return None
    keys = set(names) | ({"step"} if counts_steps else set())
    fresh = not any(entries)
    if not fresh:
        if any(set(entry) != keys for entry in entries):
            return None
        if counts_steps and len({entry["step"] for entry in entries}) != 1:
            return None
        for param, entry in zip(params, entries):
            for name in names:
                value = entry[name]
                if (not isinstance(value, np.ndarray) or value.dtype != dtype
                        or value.shape != param.data.shape):
                    return None
    layout = FlatLayout(params, names, dtype)
    for index, entry in enumerate(entries):
        for name in names:
            view = layout.views[name][index]
            if not fresh:
                np.copyto(view, entry[name])
            entry[name] = view
    if not fresh:
        layout.fresh = False
        if counts_steps:
            layout.step = entries[0]["step"]
    return layout
