"""The affine map of Linear as one op: x @ weight.T + bias."""
import numpy as np

from autograd.extend import Op, apply, functions, materialized, register, tangent_sum, with_rank

from ..threads import LARGE_GEMM_MACS, gemm_threads


def _linear_sample(strategies):
    st = strategies.st

    @st.composite
    def draw(draw):
        batch = draw(st.lists(st.integers(1, 3), max_size=2).map(tuple))
        n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
        x = draw(strategies.arrays(batch + (n_in,)))
        weight = draw(strategies.arrays((n_out, n_in)))
        bias = draw(st.one_of(st.none(), strategies.arrays((n_out,))))
        return (x, weight, bias), {}
    return draw()


@register("linear", sample=_linear_sample,
          torch=lambda torch, x, weight, bias: torch.nn.functional.linear(x, weight, bias))
class Linear(Op):
    """``x @ weight.T + bias`` for x of shape (..., in), weight (out, in), bias (out,) or None.

    One op instead of matmul + transpose + add keeps the graph at one node per layer, and
    the VJP computes only the products whose inputs need a gradient.
    """

    def forward(self, x, weight, bias=None):
        # Arrays from here on: np.shape/np.ndim on them would cost a Python call each,
        # several per layer and step.
        if type(x) is not np.ndarray:
            x = np.asarray(x)
        if type(weight) is not np.ndarray:
            weight = np.asarray(weight)
        if weight.ndim != 2:
            raise ValueError(f"linear: expected a 2-d weight (out_features, in_features), "
                             f"got shape {weight.shape}")
        if x.shape[-1:] != weight.shape[1:]:
            raise ValueError(f"linear: expected x of shape (..., {weight.shape[1]}) for a "
                             f"weight of shape {weight.shape}, got x of shape {x.shape}")
        out = _product(x, weight.T, x.size * weight.shape[0])
        if bias is not None:
            if (bias.shape if type(bias) is np.ndarray else np.shape(bias)) != weight.shape[:1]:
                raise ValueError(f"linear: expected bias of shape {weight.shape[:1]}, "
                                 f"got {np.shape(bias)}")
            out += bias
        return out

    def jvp(self, tangents, out, x, weight, bias):
        t_x, t_weight, t_bias = tangents
        return tangent_sum(linear(t_x, weight, None) if t_x is not None else None,
                           linear(x, t_weight, None) if t_weight is not None else None, t_bias)

    def batch_rule(op_cls, values, batched, params, size):
        (x, weight, bias), (batched_x, batched_weight, batched_bias) = values, batched
        if batched_weight:  # one weight per element (per-example gradients): out[b] = x[b] W[b]^T
            # x (B, ..., in) as (B, rows, in) @ weight^T (B, in, out): one batched product
            x = x if batched_x else materialized(x, size)
            rows = x.reshape((size, -1, x.shape[-1]))
            out = (rows @ weight.swapaxes(-1, -2)).reshape(x.shape[:-1] + (weight.shape[1],))
        else:
            out = apply(op_cls, (x, weight, None))
        if bias is None:
            return out
        if batched_bias:
            rank = out.ndim - (batched_x or batched_weight)
            return out + with_rank(bias, rank)
        return out + bias

    def vjp(self, g, out, x, weight, bias):
        needs_x, needs_weight, needs_bias = self.needs_grad
        macs = g.size * weight.shape[-1]
        grad_x = _product(g, weight, macs) if needs_x else None
        grad_weight = grad_bias = None
        # The batch dimensions (none for a single sample) folded into rows: the weight
        # gradient sums outer(g, x) over them.
        rows, inputs = (g, x) if g.ndim == 2 else (g.reshape(-1, g.shape[-1]),
                                                   x.reshape(-1, x.shape[-1]))
        if needs_weight:
            grad_weight = _product(rows.T, inputs, macs)
        if needs_bias:
            grad_bias = rows.sum(axis=0)
        return grad_x, grad_weight, grad_bias


def _product(a, b, macs):
    """a @ b, on the free cores when large. Small products (every one of an MLP step)
    skip the ``with``: about 1 us each, a third of a (10, 32) @ (32, 10) product."""
    if macs < LARGE_GEMM_MACS:
        return a @ b
    with gemm_threads(macs):
        return a @ b


(linear,) = functions("linear")
