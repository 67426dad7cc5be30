"""One time step of RNN, LSTM and GRU as fused ops: one graph node per step.

Each cell takes PyTorch's arguments ``(input, state, w_ih, w_hh, b_ih, b_hh)`` with input
(batch, input_size), weights (gates * hidden, input_size / hidden) and biases (gates *
hidden,) or None, and follows PyTorch's formulas and gate order. A 1,000-step sequence
is then a chain of 1,000 such nodes (plus one slice each for the input), which backward
walks iteratively, and each VJP is a handful of matrix products.

The gate arithmetic is written once (``_lstm_gates``, ``_gru_gates``) against a ``math``
namespace: NumPy itself (``_ArrayMath``) in forward, which keeps the activations for a
plain backward, or the registered ops (``_TensorMath``) when the VJP runs under
``create_graph=True``: then it recomputes the gates from the input Tensors, so the
gradient it returns is itself differentiable (second order).

The LSTM's state is the pair (h, c) stacked into one array of shape (2, batch, hidden):
an op has one output, and a stacked pair lets the next step take the whole state as one
input (no slicing per step).
"""
import numpy as np

from autograd import Tensor
from autograd.extend import Op, functions, register, value_of



class _ArrayMath:
    """Forward and a plain backward: NumPy straight on ndarrays (no registry dispatch)."""
    tanh, stack, concatenate = np.tanh, np.stack, np.concatenate

    @staticmethod
    def sigmoid(x):
        # logistic(x) = (1 + tanh(x / 2)) / 2: one transcendental pass, never overflows.
        return 0.5 + 0.5 * np.tanh(0.5 * x)


class _TensorMath:
    """Under create_graph: registered ops, so the same lines record a differentiable graph."""
    sigmoid, tanh, stack, concatenate = functions("sigmoid", "tanh", "stack", "concatenate")


def _math(value):
    return _TensorMath if isinstance(value, Tensor) else _ArrayMath

GATES = {"rnn_cell": 1, "lstm_cell": 4, "gru_cell": 3}


def _affine(x, weight, bias):
    """x @ weight.T (+ bias) on ndarrays or Tensors."""
    out = x @ weight.T
    return out if bias is None else out + bias


def _check_cell(name, x, state, w_ih, w_hh, b_ih, b_hh, state_shape):
    """ValueError naming the op and the offending argument's shape and the expected one."""
    gates = GATES[name]
    x_shape, ih_shape, hh_shape = np.shape(x), np.shape(w_ih), np.shape(w_hh)
    if len(ih_shape) != 2 or len(hh_shape) != 2 or hh_shape[0] != gates * hh_shape[1] \
            or ih_shape[0] != hh_shape[0]:
        raise ValueError(f"{name}: expected w_ih of shape ({gates} * hidden, input_size) and "
                         f"w_hh ({gates} * hidden, hidden), got w_ih {ih_shape} and "
                         f"w_hh {hh_shape}")
    rows, hidden = hh_shape
    if len(x_shape) != 2 or x_shape[1] != ih_shape[1]:
        raise ValueError(f"{name}: expected input of shape (batch, {ih_shape[1]}), "
                         f"got {x_shape}")
    expected = state_shape(x_shape[0], hidden)
    if np.shape(state) != expected:
        raise ValueError(f"{name}: expected state of shape {expected}, got {np.shape(state)}")
    for label, bias in (("b_ih", b_ih), ("b_hh", b_hh)):
        if bias is not None and np.shape(bias) != (rows,):
            raise ValueError(f"{name}: expected {label} of shape ({rows},), got {np.shape(bias)}")


def _input_grads(needs, d_in, d_hidden, x, h, w_ih, w_hh, d_state_extra=None):
    """Gradients of (x, state, w_ih, w_hh, b_ih, b_hh) from the gradients of the two
    affine maps' outputs: d_in of ``x w_ih^T + b_ih`` and d_hidden of ``h w_hh^T + b_hh``."""
    needs_x, needs_state, needs_w_ih, needs_w_hh, needs_b_ih, needs_b_hh = needs
    grad_state = None
    if needs_state:
        grad_state = d_hidden @ w_hh
        if d_state_extra is not None:
            grad_state = grad_state + d_state_extra
    return (d_in @ w_ih if needs_x else None,
            grad_state,
            d_in.T @ x if needs_w_ih else None,
            d_hidden.T @ h if needs_w_hh else None,
            d_in.sum(axis=0) if needs_b_ih else None,
            d_hidden.sum(axis=0) if needs_b_hh else None)


def _cell_sample(name, state_count=1):
    def sample(strategies):
        st = strategies.st

        @st.composite
        def draw(draw):
            # LSTM samples stay smaller: gradgradcheck's cost grows with 4 * hidden rows.
            most = 2 if name == "lstm_cell" else 3
            batch, n_in, hidden = (draw(st.integers(1, most)) for _ in range(3))
            rows = GATES[name] * hidden
            state_shape = (batch, hidden) if state_count == 1 else (2, batch, hidden)
            weights = dict(low=-1.0, high=1.0)
            x = draw(strategies.arrays((batch, n_in)))
            state = draw(strategies.arrays(state_shape))
            w_ih = draw(strategies.arrays((rows, n_in), **weights))
            w_hh = draw(strategies.arrays((rows, hidden), **weights))
            b_ih = draw(st.one_of(st.none(), strategies.arrays((rows,), **weights)))
            b_hh = draw(st.one_of(st.none(), strategies.arrays((rows,), **weights)))
            params = {}
            if name == "rnn_cell":
                params["nonlinearity"] = draw(st.sampled_from(["tanh", "relu"]))
            if params.get("nonlinearity") == "relu":
                # Keep every pre-activation 0.1 away from relu's kink: one row, and b_hh
                # moved so that no entry of x w_ih^T + b_ih + h w_hh^T + b_hh is near 0.
                x, state = x[:1], state[:1]
                pre = (_affine(x, w_ih, b_ih) + state @ w_hh.T)[0]
                b_hh = np.zeros(rows) if b_hh is None else b_hh
                close = np.abs(pre + b_hh) < 0.1
                b_hh = np.where(close, b_hh + np.where(pre + b_hh >= 0, 0.2, -0.2), b_hh)
            return (x, state, w_ih, w_hh, b_ih, b_hh), params
        return draw()
    return sample


def _torch_rnn_cell(torch, x, h, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    cell = torch.rnn_tanh_cell if nonlinearity == "tanh" else torch.rnn_relu_cell
    return cell(x, h, w_ih, w_hh, b_ih, b_hh)


@register("rnn_cell", sample=_cell_sample("rnn_cell"), torch=_torch_rnn_cell)
class RNNCellOp(Op):
    """Elman step ``h' = act(x w_ih^T + b_ih + h w_hh^T + b_hh)``, act tanh or relu."""

    def forward(self, x, h, w_ih, w_hh, b_ih=None, b_hh=None, *, nonlinearity="tanh"):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"rnn_cell: nonlinearity must be 'tanh' or 'relu', "
                             f"got {nonlinearity!r}")
        _check_cell("rnn_cell", x, h, w_ih, w_hh, b_ih, b_hh, lambda b, n: (b, n))
        self.nonlinearity = nonlinearity
        pre = _affine(x, w_ih, b_ih) + _affine(h, w_hh, b_hh)
        return np.tanh(pre) if nonlinearity == "tanh" else np.maximum(pre, 0.0)

    def vjp(self, g, out, x, h, w_ih, w_hh, b_ih, b_hh):
        if self.nonlinearity == "tanh":
            d_pre = g * (1.0 - out * out)   # `out` is a Tensor under create_graph
        else:
            d_pre = g * (value_of(out) > 0)
        return _input_grads(self.needs_grad, d_pre, d_pre, x, h, w_ih, w_hh)


def _lstm_gates(math, x, h, c, w_ih, w_hh, b_ih, b_hh):
    """PyTorch's LSTM step: gates (i, f, g, o) from one affine map each side; returns the
    activations and the new (h, c)."""
    gates = _affine(x, w_ih, b_ih) + _affine(h, w_hh, b_hh)
    hidden = gates.shape[-1] // 4
    squashed = math.sigmoid(gates)          # the g quarter is not used: it takes tanh
    i, f = squashed[:, :hidden], squashed[:, hidden:2 * hidden]
    o = squashed[:, 3 * hidden:]
    g = math.tanh(gates[:, 2 * hidden:3 * hidden])
    c_new = f * c + i * g
    tanh_c = math.tanh(c_new)
    return (i, f, g, o, tanh_c), (o * tanh_c, c_new)


def _torch_lstm_cell(torch, x, state, w_ih, w_hh, b_ih, b_hh):
    return torch.stack(torch.lstm_cell(x, (state[0], state[1]), w_ih, w_hh, b_ih, b_hh))


@register("lstm_cell", sample=_cell_sample("lstm_cell", state_count=2), torch=_torch_lstm_cell)
class LSTMCellOp(Op):
    """LSTM step on ``state = stack([h, c])`` (2, batch, hidden); returns the new
    ``stack([h', c'])``. i, f, o = sigmoid, g = tanh of (x w_ih^T + b_ih + h w_hh^T + b_hh)
    in that gate order; c' = f c + i g; h' = o tanh(c')."""

    def forward(self, x, state, w_ih, w_hh, b_ih=None, b_hh=None):
        _check_cell("lstm_cell", x, state, w_ih, w_hh, b_ih, b_hh, lambda b, n: (2, b, n))
        self.activations, (h_new, c_new) = _lstm_gates(_ArrayMath, x, state[0], state[1],
                                                       w_ih, w_hh, b_ih, b_hh)
        return np.stack([h_new, c_new])

    def vjp(self, grad, out, x, state, w_ih, w_hh, b_ih, b_hh):
        h, c = state[0], state[1]
        math = _math(grad)
        if math is _TensorMath:
            (i, f, g, o, tanh_c), _ = _lstm_gates(math, x, h, c, w_ih, w_hh, b_ih, b_hh)
        else:
            i, f, g, o, tanh_c = self.activations
        grad_h, grad_c = grad[0], grad[1]
        d_o = grad_h * tanh_c
        d_c = grad_c + grad_h * o * (1.0 - tanh_c * tanh_c)
        d_gates = math.concatenate([d_c * g * i * (1.0 - i), d_c * c * f * (1.0 - f),
                               d_c * i * (1.0 - g * g), d_o * o * (1.0 - o)], axis=-1)
        grads = _input_grads(self.needs_grad, d_gates, d_gates, x, h, w_ih, w_hh)
        if grads[1] is not None:   # the state's gradient: (dh, dc) stacked like the state
            grads = (grads[0], math.stack([grads[1], d_c * f]), *grads[2:])
        return grads


def _gru_gates(math, x, h, w_ih, w_hh, b_ih, b_hh):
    """PyTorch's GRU step: r, z from both sides, n = tanh(n_i + r * (h w_hn^T + b_hn));
    h' = (1 - z) n + z h. Returns (r, z, n, hidden side of n) and h'."""
    from_input = _affine(x, w_ih, b_ih)
    from_hidden = _affine(h, w_hh, b_hh)
    size = from_hidden.shape[-1] // 3
    reset_update = math.sigmoid(from_input[:, :2 * size] + from_hidden[:, :2 * size])
    r, z = reset_update[:, :size], reset_update[:, size:]
    hidden_n = from_hidden[:, 2 * size:]
    n = math.tanh(from_input[:, 2 * size:] + r * hidden_n)
    return (r, z, n, hidden_n), (1.0 - z) * n + z * h


@register("gru_cell", sample=_cell_sample("gru_cell"),
          torch=lambda torch, x, h, w_ih, w_hh, b_ih, b_hh:
              torch.gru_cell(x, h, w_ih, w_hh, b_ih, b_hh))
class GRUCellOp(Op):
    """GRU step, PyTorch's formulas and gate order (r, z, n): the reset gate multiplies
    ``h w_hn^T + b_hn`` (not h itself), and h' = (1 - z) n + z h."""

    def forward(self, x, h, w_ih, w_hh, b_ih=None, b_hh=None):
        _check_cell("gru_cell", x, h, w_ih, w_hh, b_ih, b_hh, lambda b, n: (b, n))
        self.activations, h_new = _gru_gates(_ArrayMath, x, h, w_ih, w_hh, b_ih, b_hh)
        return h_new

    def vjp(self, grad, out, x, h, w_ih, w_hh, b_ih, b_hh):
        math = _math(grad)
        if math is _TensorMath:
            (r, z, n, hidden_n), _ = _gru_gates(math, x, h, w_ih, w_hh, b_ih, b_hh)
        else:
            r, z, n, hidden_n = self.activations
        d_n = grad * (1.0 - z) * (1.0 - n * n)
        d_r = d_n * hidden_n * r * (1.0 - r)
        d_z = grad * (h - n) * z * (1.0 - z)
        d_in = math.concatenate([d_r, d_z, d_n], axis=-1)
        d_hidden = math.concatenate([d_r, d_z, d_n * r], axis=-1)
        return _input_grads(self.needs_grad, d_in, d_hidden, x, h, w_ih, w_hh,
                            d_state_extra=grad * z)


rnn_cell, lstm_cell, gru_cell = functions("rnn_cell", "lstm_cell", "gru_cell")
