"""Recurrent layers: RNN, LSTM, GRU and their single-step cells, PyTorch's way.

Parameter names, shapes, gate order, formulas and initialisation are PyTorch's, so a
``state_dict`` copied from ``torch.nn.LSTM`` gives the same numbers:
``weight_ih_l{k}`` (gates * hidden, input), ``weight_hh_l{k}`` (gates * hidden, hidden),
``bias_ih_l{k}``, ``bias_hh_l{k}``, with ``_reverse`` for the backward direction of a
bidirectional layer; every one drawn from U(-1/sqrt(hidden), 1/sqrt(hidden)).

A sequence of T steps records per layer and direction T slices of the input and T fused
cell ops (``nn.ops.recurrent``), then one stack of the outputs: a graph of about 2T nodes,
which backward walks without recursion. (Each slice's gradient is an input-sized array
the engine adds up, so an input that requires grad costs O(T^2 * batch * input_size) in
backward: negligible for words, about a third of the backward of a 1,000-step LSTM with
batch 8 and 32 inputs. Ops with several outputs would remove it.)
"""
import math

import numpy as np

from autograd import Tensor, get_default_dtype
from autograd.extend import apply, current_scope, functions, name_scope

from .. import functional as F
from .. import init
from ..module import Module
from ..ops.recurrent import GRUCellOp, LSTMCellOp, RNNCellOp
from ..parameter import Parameter
from .linear import input_shape

stack, concatenate = functions("stack", "concatenate")

_MODES = {  # name: (cell op, gates per hidden unit)
    "RNN_TANH": (RNNCellOp, 1), "RNN_RELU": (RNNCellOp, 1),
    "LSTM": (LSTMCellOp, 4), "GRU": (GRUCellOp, 3),
}


def _expand_batch(x):
    """Add a batch axis of size 1 at axis 1 (time-major unbatched input, or a state)."""
    return x[:, None]


class RNNBase(Module):
    """Shared machinery of RNN, LSTM and GRU (see their docstrings)."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, dtype=None):
        super().__init__()
        name = type(self).__name__
        if int(hidden_size) <= 0 or int(num_layers) <= 0 or int(input_size) <= 0:
            raise ValueError(f"{name}: input_size, hidden_size and num_layers must be positive, "
                             f"got {input_size}, {hidden_size}, {num_layers}")
        if not 0.0 <= float(dropout) <= 1.0:
            raise ValueError(f"{name}: dropout must be a probability in [0, 1], got {dropout}")
        self.mode = mode
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.num_layers, self.bias = int(num_layers), bool(bias)
        self.batch_first, self.dropout = bool(batch_first), float(dropout)
        self.bidirectional = bool(bidirectional)
        self._cell_op, gates = _MODES[mode]
        self._op_params = ({"nonlinearity": "relu" if mode == "RNN_RELU" else "tanh"}
                           if self._cell_op is RNNCellOp else {})
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        directions = 2 if self.bidirectional else 1
        rows = gates * self.hidden_size
        self._weight_names = []   # per (layer, direction): the names of its 4 (or 2) tensors
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else self.hidden_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                names = [f"weight_ih{suffix}", f"weight_hh{suffix}"]
                shapes = [(rows, layer_input), (rows, self.hidden_size)]
                if self.bias:
                    names += [f"bias_ih{suffix}", f"bias_hh{suffix}"]
                    shapes += [(rows,), (rows,)]
                for param_name, shape in zip(names, shapes):
                    self.register_parameter(param_name, Parameter(np.empty(shape, dtype=dtype)))
                self._weight_names.append(tuple(names) + ((None, None) if not self.bias else ()))
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: every weight and bias from U(-1/sqrt(hidden), 1/sqrt(hidden))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for parameter in self.parameters():
            init.uniform_(parameter, -bound, bound)

    # --- forward ---------------------------------------------------------------------
    def forward(self, input, hx=None):
        if not isinstance(input, Tensor):
            input = np.asarray(input)
        shape = input_shape(input)
        batched = len(shape) == 3
        self._check_input(shape)
        if not batched:
            input = _expand_batch(input)
        time_axis = 1 if self.batch_first and batched else 0
        batch = input_shape(input)[1 - time_axis]
        initial = self._initial_states(hx, batch, batched)

        parameters, directions = self._parameters, 2 if self.bidirectional else 1
        op, params = self._cell_op, self._op_params
        layer_input, finals = input, []
        steps = shape[time_axis] if batched else shape[0]
        scope = current_scope()
        prefix = f"{scope}." if scope else ""
        for layer in range(self.num_layers):
            sequences = []
            for direction in range(directions):
                index = layer * directions + direction
                weights = [parameters[name] if name else None
                           for name in self._weight_names[index]]
                state = initial[index]
                outputs = [None] * steps
                # Each step's ops get the scope "<layer path>.l{k}[_reverse].t{t}", so a
                # drawing can box them per time step (viz.draw_graph(collapse=...)).
                step_scope = f"{prefix}l{layer}{'_reverse' if direction else ''}.t"
                for t in (reversed(range(steps)) if direction else range(steps)):
                    with name_scope(f"{step_scope}{t}"):
                        x_t = layer_input[:, t] if time_axis else layer_input[t]
                        state = apply(op, (x_t, state, *weights), params)
                    outputs[t] = state
                finals.append(state)
                sequences.append(self._stack_outputs(outputs, time_axis))
            layer_input = sequences[0] if directions == 1 else concatenate(sequences, axis=-1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        output, final = layer_input, self._stack_finals(finals)
        if not batched:
            output = output[:, 0]
            final = tuple(part[:, 0] for part in final) if isinstance(final, tuple) \
                else final[:, 0]
        return output, final

    def _stack_outputs(self, outputs, time_axis):
        """The per-step states as one sequence (time on ``time_axis``)."""
        return stack(outputs, axis=time_axis)

    def _stack_finals(self, finals):
        """h_n of shape (num_layers * directions, batch, hidden)."""
        return stack(finals, axis=0)

    def _initial_states(self, hx, batch, batched):
        """One initial state per (layer, direction), zeros when ``hx`` is None."""
        count = self.num_layers * (2 if self.bidirectional else 1)
        if hx is None:
            dtype = self._parameters[self._weight_names[0][0]].dtype
            zeros = np.zeros((batch, self.hidden_size), dtype=dtype)
            return [zeros] * count
        h0 = self._checked_state(hx, "h0", batch, batched)
        return [h0[index] for index in range(count)]

    def _checked_state(self, state, label, batch, batched):
        """``state`` (h0 or c0) after checking its shape, with a batch axis."""
        if not isinstance(state, Tensor):
            state = np.asarray(state)
        count = self.num_layers * (2 if self.bidirectional else 1)
        expected = (count, batch, self.hidden_size) if batched else (count, self.hidden_size)
        shape = input_shape(state)
        if shape != expected:
            raise ValueError(f"{self._error_name()}: expected {label} of shape {expected} "
                             f"(num_layers * num_directions, batch, hidden_size)"
                             f"{'' if batched else ' without batch for unbatched input'}, "
                             f"got {shape}")
        return state if batched else _expand_batch(state)

    def _check_input(self, shape):
        layout = "(batch, seq_len, input_size)" if self.batch_first else \
            "(seq_len, batch, input_size)"
        if len(shape) not in (2, 3) or shape[-1] != self.input_size:
            raise ValueError(f"{self._error_name()}: expected input of shape {layout} or "
                             f"(seq_len, input_size) with input_size={self.input_size}, "
                             f"got {shape}")
        if (shape[1] if len(shape) == 3 and self.batch_first else shape[0]) == 0:
            raise ValueError(f"{self._error_name()}: expected a sequence of at least one step, "
                             f"got input of shape {shape}")

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            text += ", nonlinearity='relu'"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += ", bidirectional=True"
        return text


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu.

    Args: input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
    batch_first=False, dropout=0.0 (between layers, in training), bidirectional=False.
    ``forward(input, h0=None)`` takes input (seq_len, batch, input_size), or
    (batch, seq_len, input_size) with batch_first, or unbatched (seq_len, input_size), and
    returns ``(output, h_n)``: output (seq_len, batch, directions * hidden_size) (batch
    first with batch_first), h_n (num_layers * directions, batch, hidden_size).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         dtype)
        self.nonlinearity = nonlinearity


class GRU(RNNBase):
    """GRU with PyTorch's formulas (gate order r, z, n):
    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z likewise,
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.
    Arguments, input and outputs as ``RNN`` (no nonlinearity)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, dtype)


class LSTM(RNNBase):
    """LSTM with PyTorch's formulas (gate order i, f, g, o): c' = f * c + i * g,
    h' = o * tanh(c'). Arguments and input as ``RNN`` (no nonlinearity);
    ``forward(input, (h0, c0)=None)`` returns ``(output, (h_n, c_n))``."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, dtype)

    # The step state is stack([h, c]) of shape (2, batch, hidden); see nn.ops.recurrent.
    def _stack_outputs(self, outputs, time_axis):
        return stack(outputs, axis=time_axis + 1)[0]

    def _stack_finals(self, finals):
        both = stack(finals, axis=1)          # (2, layers * directions, batch, hidden)
        return both[0], both[1]

    def _initial_states(self, hx, batch, batched):
        count = self.num_layers * (2 if self.bidirectional else 1)
        if hx is None:
            dtype = self._parameters[self._weight_names[0][0]].dtype
            zeros = np.zeros((2, batch, self.hidden_size), dtype=dtype)
            return [zeros] * count
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError(f"{self._error_name()}: expected hx to be a tuple (h0, c0), "
                            f"got {type(hx).__name__}")
        h0 = self._checked_state(hx[0], "h0", batch, batched)
        c0 = self._checked_state(hx[1], "c0", batch, batched)
        both = stack([h0, c0])
        return [both[:, index] for index in range(count)]


# --- cells ---------------------------------------------------------------------------------
class RNNCellBase(Module):
    """One step of a recurrent layer: parameters ``weight_ih``, ``weight_hh``, ``bias_ih``,
    ``bias_hh`` shaped as the layer's, initialised U(-1/sqrt(hidden), 1/sqrt(hidden))."""

    def __init__(self, input_size, hidden_size, bias, gates, dtype):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = int(input_size), int(hidden_size), bias
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        rows = gates * self.hidden_size
        self.weight_ih = Parameter(np.empty((rows, self.input_size), dtype=dtype))
        self.weight_hh = Parameter(np.empty((rows, self.hidden_size), dtype=dtype))
        if bias:
            self.bias_ih = Parameter(np.empty((rows,), dtype=dtype))
            self.bias_hh = Parameter(np.empty((rows,), dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size)
        for parameter in self.parameters():
            init.uniform_(parameter, -bound, bound)

    def _batched(self, input, states, labels):
        """Check the input and states; return them with a batch axis, and whether the
        input had one (a 1-d input is one unbatched sample, as in PyTorch)."""
        shape = input_shape(input)
        if len(shape) not in (1, 2) or shape[-1] != self.input_size:
            raise ValueError(f"{self._error_name()}: expected input of shape (batch, "
                             f"{self.input_size}) or ({self.input_size},), got {shape}")
        batched = len(shape) == 2
        expected = (shape[0], self.hidden_size) if batched else (self.hidden_size,)
        for state, label in zip(states, labels):
            if state is not None and input_shape(state) != expected:
                raise ValueError(f"{self._error_name()}: expected {label} of shape {expected} "
                                 f"for input of shape {shape}, got {input_shape(state)}")
        if batched:
            return input, states, True
        return input[None], [None if s is None else s[None] for s in states], False

    def _zeros(self, batch):
        return np.zeros((batch, self.hidden_size), dtype=self.weight_ih.dtype)

    def _weights(self):
        p = self._parameters
        return p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"]

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            text += f", nonlinearity={self.nonlinearity!r}"
        return text


class RNNCell(RNNCellBase):
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh); ``forward(input, hx=None)`` -> h'."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', "
                             f"got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, 1, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        input, (hx,), batched = self._batched(input, [hx], ["hx"])
        hx = self._zeros(input_shape(input)[0]) if hx is None else hx
        h = apply(RNNCellOp, (input, hx, *self._weights()), {"nonlinearity": self.nonlinearity})
        return h if batched else h[0]


class GRUCell(RNNCellBase):
    """One GRU step (see ``GRU``); ``forward(input, hx=None)`` -> h'."""

    def __init__(self, input_size, hidden_size, bias=True, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, dtype)

    def forward(self, input, hx=None):
        input, (hx,), batched = self._batched(input, [hx], ["hx"])
        hx = self._zeros(input_shape(input)[0]) if hx is None else hx
        h = apply(GRUCellOp, (input, hx, *self._weights()))
        return h if batched else h[0]


class LSTMCell(RNNCellBase):
    """One LSTM step (see ``LSTM``); ``forward(input, (h, c)=None)`` -> (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, dtype)

    def forward(self, input, hx=None):
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"{self._error_name()}: expected hx to be a tuple (h, c), "
                            f"got {type(hx).__name__}")
        h, c = (None, None) if hx is None else hx
        input, (h, c), batched = self._batched(input, [h, c], ["h", "c"])
        batch = input_shape(input)[0]
        state = (np.zeros((2, batch, self.hidden_size), dtype=self.weight_ih.dtype)
                 if h is None and c is None else
                 stack([self._zeros(batch) if h is None else h,
                        self._zeros(batch) if c is None else c]))
        out = apply(LSTMCellOp, (input, state, *self._weights()))
        return (out[0], out[1]) if batched else (out[0, 0], out[1, 0])
