"""The affine map of Linear as one op: x @ weight.T + bias."""
import numpy as np

from autograd.extend import Op, functions, register


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
        if np.ndim(weight) != 2:
            raise ValueError(f"linear: expected a 2-d weight (out_features, in_features), "
                             f"got shape {np.shape(weight)}")
        if np.shape(x)[-1:] != np.shape(weight)[1:]:
            raise ValueError(f"linear: expected x of shape (..., {np.shape(weight)[1]}) for a "
                             f"weight of shape {np.shape(weight)}, got x of shape {np.shape(x)}")
        out = np.matmul(x, weight.T)
        if bias is not None:
            if np.shape(bias) != np.shape(weight)[:1]:
                raise ValueError(f"linear: expected bias of shape {np.shape(weight)[:1]}, "
                                 f"got {np.shape(bias)}")
            out += bias
        return out

    def vjp(self, g, out, x, weight, bias):
        needs_x, needs_weight, needs_bias = self.needs_grad
        grad_x = g @ weight if needs_x else None
        grad_weight = grad_bias = None
        if needs_weight:
            if g.ndim == 2:
                grad_weight = g.T @ x
            else:  # fold the batch dimensions: sum over them of outer(g, x)
                grad_weight = g.reshape(-1, g.shape[-1]).T @ x.reshape(-1, x.shape[-1])
        if needs_bias:
            grad_bias = g.sum(axis=tuple(range(g.ndim - 1))) if g.ndim > 1 else g
        return grad_x, grad_weight, grad_bias


(linear,) = functions("linear")
