"""Elementwise ops with NumPy broadcasting.

Each VJP returns gradients in the output's (broadcast) shape; the engine reduces
them to each input's shape. Conventions at kinks follow PyTorch:
relu'(0) = 0, abs'(0) = 0, and where maximum/minimum tie, each input gets half.
"""
import numpy as np

from ..batching import batch_elementwise
from ..forward_mode import linear_jvp, multilinear_jvp, tangent_sum
from ..op import Op, apply, functions, register, value_of


def _unary(low=-3.0, high=3.0, avoid=()):
    return lambda st: st.elementwise(1, low=low, high=high, avoid=avoid)


def _binary(low=-3.0, high=3.0, avoid=(), low2=None, high2=None):
    return lambda st: st.elementwise(2, low=low, high=high, avoid=avoid, low2=low2, high2=high2)


@register("add", method=True, numpy=np.add, operators=[("__add__", "__radd__")],
          sample=_binary(), torch=lambda torch, x, y: torch.add(x, y))
class Add(Op):
    """x + y."""
    scalar_operand_as_array = True
    vjp_uses_values = False

    def forward(self, x, y):
        return x + y

    jvp = linear_jvp

    batch_rule = batch_elementwise

    def vjp(self, g, out, x, y):
        return g, g


@register("subtract", method=("subtract", "sub"), aliases=("sub",),
          numpy=np.subtract, operators=[("__sub__", "__rsub__")],
          sample=_binary(), torch=lambda torch, x, y: torch.sub(x, y))
class Subtract(Op):
    """x - y."""
    scalar_operand_as_array = True
    vjp_uses_values = False

    def forward(self, x, y):
        return x - y

    jvp = linear_jvp

    batch_rule = batch_elementwise

    def vjp(self, g, out, x, y):
        needs_x, needs_y = self.needs_grad
        return (g if needs_x else None), (-g if needs_y else None)


@register("multiply", method=("multiply", "mul"), aliases=("mul",),
          numpy=np.multiply, operators=[("__mul__", "__rmul__")],
          sample=_binary(), torch=lambda torch, x, y: torch.mul(x, y))
class Multiply(Op):
    """x * y."""
    scalar_operand_as_array = True

    def forward(self, x, y):
        return x * y

    jvp = multilinear_jvp

    batch_rule = batch_elementwise

    def vjp(self, g, out, x, y):
        needs_x, needs_y = self.needs_grad
        return (g * y if needs_x else None), (g * x if needs_y else None)


@register("divide", method=("divide", "div"), aliases=("div",), numpy=(np.divide, np.true_divide),
          operators=[("__truediv__", "__rtruediv__")],
          sample=_binary(low2=0.5, high2=3.0), torch=lambda torch, x, y: torch.div(x, y))
class Divide(Op):
    """x / y."""
    scalar_operand_as_array = True

    def forward(self, x, y):
        return x / y

    def jvp(self, tangents, out, x, y):
        t_x, t_y = tangents
        return tangent_sum(t_x, -t_y * out if t_y is not None else None) / y

    batch_rule = batch_elementwise

    def vjp(self, g, out, x, y):
        needs_x, needs_y = self.needs_grad
        grad_x = g / y  # also a factor of y's gradient
        return (grad_x if needs_x else None), (-grad_x * out if needs_y else None)


@register("power", method=("power", "pow"), aliases=("pow",),
          numpy=np.power, operators=[("__pow__", "__rpow__")],
          sample=_binary(low=0.5, high=2.0, low2=-2.0, high2=2.0),
          torch=lambda torch, x, y: torch.pow(x, y))
class Power(Op):
    """x ** y. d/dy uses log(x); as in PyTorch it is 0 where x == 0 and y >= 0."""
    def forward(self, x, y):
        return x ** y

    def jvp(self, tangents, out, x, y):
        t_x, t_y = tangents
        # the conventions of the VJP: d/dx is 0 where y == 0 (0 ** 0 included), d/dy is 0
        # where x == 0
        by_x = t_x * y * where(y == 0, 1.0, x) ** (y - 1) if t_x is not None else None
        by_y = None
        if t_y is not None:
            zero_base = x == 0
            by_y = t_y * where(zero_base, 0.0, out * log(where(zero_base, 1.0, x)))
        return tangent_sum(by_x, by_y)

    batch_rule = batch_elementwise

    def vjp(self, g, out, x, y):
        grad_x = None
        if self.needs_grad[0]:
            # d(x ** 0)/dx is 0 everywhere (PyTorch), but y * x ** (y - 1) is 0 * inf = NaN
            # at x == 0 and for subnormal x; there a base of 1 gives that 0 (elsewhere x
            # stays, so that d/dy of this gradient is right too).
            x_value = value_of(x)
            degenerate = (value_of(y) == 0) & (np.abs(x_value) < np.finfo(x_value.dtype).tiny)
            base = where(degenerate, 1.0, x) if np.any(degenerate) else x
            grad_x = g * y * base ** (y - 1)
        grad_y = None
        if self.needs_grad[1]:
            zero_base = (value_of(x) == 0) & (value_of(y) >= 0)
            safe_x = where(zero_base, 1.0, x)
            grad_y = g * where(zero_base, 0.0, out * log(safe_x))
        return grad_x, grad_y


@register("negative", method=True, numpy=np.negative, operators=["__neg__"],
          sample=_unary(), torch=lambda torch, x: torch.neg(x))
class Negative(Op):
    """-x."""
    vjp_uses_values = False

    def forward(self, x):
        return -x

    jvp = linear_jvp

    batch_rule = batch_elementwise

    def vjp(self, g, out, x):
        return (-g,)


@register("exp", method=True, numpy=np.exp, sample=_unary(),
          torch=lambda torch, x: torch.exp(x))
class Exp(Op):
    """e ** x."""
    def forward(self, x):
        return np.exp(x)

    def jvp(self, tangents, out, x):
        return tangents[0] * out

    batch_rule = batch_elementwise

    def vjp(self, g, out, x):
        return (g * out,)


@register("log", method=True, numpy=np.log, sample=_unary(low=0.1, high=5.0),
          torch=lambda torch, x: torch.log(x))
class Log(Op):
    """Natural logarithm."""
    def forward(self, x):
        return np.log(x)

    def jvp(self, tangents, out, x):
        return tangents[0] / x

    batch_rule = batch_elementwise

    def vjp(self, g, out, x):
        return (g / x,)


@register("log1p", method=True, numpy=np.log1p, sample=_unary(low=-0.9, high=5.0),
          torch=lambda torch, x: torch.log1p(x))
class Log1p(Op):
    """log(1 + x), accurate for small x."""
    def forward(self, x):
        return np.log1p(x)

    def jvp(self, tangents, out, x):
        return tangents[0] / (x + 1.0)

    batch_rule = batch_elementwise

    def vjp(self, g, out, x):
        return (g / (x + 1.0),)


@register("sqrt", method=True, numpy=np.sqrt, sample=_unary(low=0.1, high=5.0),
          torch=lambda torch, x: torch.sqrt(x))
class Sqrt(Op):
    """Square root; its gradient at 0 is inf, as in PyTorch."""
    def forward(self, x):
        return np.sqrt(x)

    def jvp(self, tangents, out, x):
        return tangents[0] * 0.5 / out

    batch_rule = batch_elementwise

    def vjp(self, g, out, x):
        return (g * 0.5 / out,)


@register("abs", method=True, numpy=(np.abs, np.absolute), operators=["__abs__"],
          sample=_unary(avoid=(0.0,)), torch=lambda torch, x: torch.abs(x))
class Abs(Op):
    """|x|; abs'(0) = 0 (PyTorch's convention)."""
    def forward(self, x):
        return np.abs(x)

    def jvp(self, tangents, out, x):
        return tangents[0] * sign(x)

    batch_rule = batch_elementwise

    def vjp(self, g, out, x):
        return (g * sign(x),)


@register("sin", method=True, numpy=np.sin, sample=_unary(), torch=lambda torch, x: torch.sin(x))
class Sin(Op):
    """Sine."""
    def forward(self, x):
        return np.sin(x)

    def jvp(self, tangents, out, x):
        return tangents[0] * cos(x)

    batch_rule = batch_elementwise

    def vjp(self, g, out, x):
        return (g * cos(x),)


@register("cos", method=True, numpy=np.cos, sample=_unary(), torch=lambda torch, x: torch.cos(x))
class Cos(Op):
    """Cosine."""
    def forward(self, x):
        return np.cos(x)

    def jvp(self, tangents, out, x):
        return -tangents[0] * sin(x)

    batch_rule = batch_elementwise

    def vjp(self, g, out, x):
        return (-g * sin(x),)


@register("tanh", method=True, numpy=np.tanh, sample=_unary(),
          torch=lambda torch, x: torch.tanh(x))
class Tanh(Op):
    """Hyperbolic tangent."""
    def forward(self, x):
        return np.tanh(x)

    def jvp(self, tangents, out, x):
        return tangents[0] * (1.0 - out * out)

    batch_rule = batch_elementwise

    def vjp(self, g, out, x):
        # g (1 - out^2) as g - (g out) out: no Python-scalar operand (NumPy's slow path)
        return (g - g * out * out,)


@register("sigmoid", method=True, sample=_unary(low=-8.0, high=8.0),
          torch=lambda torch, x: torch.sigmoid(x))
class Sigmoid(Op):
    """1 / (1 + e**-x), computed from e**-|x| so it never overflows."""
    def forward(self, x):
        z = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z)).astype(z.dtype, copy=False)

    def jvp(self, tangents, out, x):
        return tangents[0] * out * (1.0 - out)

    batch_rule = batch_elementwise

    def vjp(self, g, out, x):
        return (g * out * (1.0 - out),)


@register("relu", method=True, sample=_unary(avoid=(0.0,)),
          torch=lambda torch, x: torch.relu(x))
class Relu(Op):
    """max(x, 0); relu'(0) = 0 (PyTorch's convention)."""
    def forward(self, x):
        return np.maximum(x, 0)

    def jvp(self, tangents, out, x):
        return tangents[0] * (out > 0)

    batch_rule = batch_elementwise

    def vjp(self, g, out, x):
        return (g * (out > 0),)


@register("softplus", method=True, sample=_unary(low=-10.0, high=10.0),
          torch=lambda torch, x: torch.nn.functional.softplus(x))
class Softplus(Op):
    """log(1 + e**x), computed as max(x, 0) + log1p(e**-|x|) so it never overflows.

    PyTorch switches to the identity above x = 20; the two differ by less than 3e-9.
    """
    def forward(self, x):
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))

    def jvp(self, tangents, out, x):
        return tangents[0] * sigmoid(x)

    batch_rule = batch_elementwise

    def vjp(self, g, out, x):
        return (g * sigmoid(x),)


@register("clip", method=True, numpy=np.clip,
          sample=lambda st: st.elementwise(1, low=-3.0, high=3.0, avoid=(-1.0, 1.5),
                                           params=dict(a_min=-1.0, a_max=1.5)),
          torch=lambda torch, x, a_min=None, a_max=None: torch.clamp(x, a_min, a_max))
class Clip(Op):
    """Limit x to [a_min, a_max] (either may be None). The gradient passes where
    a_min <= x <= a_max, bounds included, as in PyTorch's clamp."""
    def forward(self, x, *, a_min=None, a_max=None):
        if a_min is None and a_max is None:
            raise ValueError("clip: at least one of a_min and a_max must be given")
        mask = np.ones(np.shape(x), dtype=bool)
        if a_min is not None:
            mask &= x >= a_min
        if a_max is not None:
            mask &= x <= a_max
        self.mask = mask
        return np.clip(x, a_min, a_max)

    def jvp(self, tangents, out, x):
        a_min, a_max = self.params.get("a_min"), self.params.get("a_max")
        inside = tangents[0]
        if a_min is not None:
            inside = inside * (x >= a_min)
        if a_max is not None:
            inside = inside * (x <= a_max)
        return inside

    batch_rule = batch_elementwise

    def vjp(self, g, out, x):
        return (g * self.mask,)


@register("clamp", method=True,
          sample=lambda st: st.elementwise(1, low=-3.0, high=3.0, avoid=(-1.0, 1.5),
                                           params=dict(min=-1.0, max=1.5)),
          torch=lambda torch, x, min=None, max=None: torch.clamp(x, min, max))
def clamp(x, min=None, max=None):
    """PyTorch's spelling of ``clip``: limit x to [min, max] (the same op, recorded as clip)."""
    return apply(Clip, (x,), {"a_min": min, "a_max": max})


def _tie_share(x, y, wins, dtype):
    """1 where x wins, 0 where it loses, 1/2 on ties: PyTorch's maximum/minimum split."""
    return np.where(x == y, 0.5, wins).astype(dtype, copy=False)


def _tie_tangent(tangents, x, y, wins):
    """The tangent of maximum/minimum: each input's share (ties split equally)."""
    share = where(x == y, 0.5, wins)
    t_x, t_y = tangents
    return tangent_sum(t_x * share if t_x is not None else None,
                       t_y * (1.0 - share) if t_y is not None else None)


def _shared_grads(op, g):
    """maximum/minimum: each input's share of g, computed only for inputs that need it."""
    needs_x, needs_y = op.needs_grad
    return (g * op.share if needs_x else None), (g * (1.0 - op.share) if needs_y else None)


@register("maximum", method=True, numpy=np.maximum, sample=lambda st: st.untied_pair(),
          torch=lambda torch, x, y: torch.maximum(x, y))
class Maximum(Op):
    """Elementwise max of x and y; on ties the gradient is split equally."""
    def forward(self, x, y):
        out = np.maximum(x, y)
        self.share = _tie_share(x, y, x > y, out.dtype)
        return out

    def jvp(self, tangents, out, x, y):
        return _tie_tangent(tangents, x, y, x > y)

    batch_rule = batch_elementwise

    def vjp(self, g, out, x, y):
        return _shared_grads(self, g)


@register("minimum", method=True, numpy=np.minimum, sample=lambda st: st.untied_pair(),
          torch=lambda torch, x, y: torch.minimum(x, y))
class Minimum(Op):
    """Elementwise min of x and y; on ties the gradient is split equally."""
    def forward(self, x, y):
        out = np.minimum(x, y)
        self.share = _tie_share(x, y, x < y, out.dtype)
        return out

    def jvp(self, tangents, out, x, y):
        return _tie_tangent(tangents, x, y, x < y)

    batch_rule = batch_elementwise

    def vjp(self, g, out, x, y):
        return _shared_grads(self, g)


def _where_sample(strategies):
    """``(condition, x, y)`` with condition a boolean array, all broadcastable."""
    st = strategies.st

    @st.composite
    def draw_case(draw):
        cond_shape, x_shape, y_shape = draw(strategies.broadcastable_shapes(3))
        condition = draw(strategies.hnp.arrays(np.bool_, cond_shape))
        return (condition, draw(strategies.arrays(x_shape)), draw(strategies.arrays(y_shape))), {}
    return draw_case()


@register("where", numpy=np.where,
          sample=_where_sample,
          torch=lambda torch, condition, x, y: torch.where(condition, x, y))
class Where(Op):
    """Choose x where condition holds, else y (condition gets no gradient)."""
    def forward(self, condition, x, y):
        return np.where(condition, x, y)

    def jvp(self, tangents, out, condition, x, y):
        _, t_x, t_y = tangents
        if t_x is None and t_y is None:
            return None
        zero = np.zeros((), dtype=out.dtype)
        return where(condition, zero if t_x is None else t_x, zero if t_y is None else t_y)

    batch_rule = batch_elementwise

    def vjp(self, g, out, condition, x, y):
        zero = np.zeros((), dtype=out.dtype)
        return (None,
                where(condition, g, zero) if self.needs_grad[1] else None,
                where(condition, zero, g) if self.needs_grad[2] else None)


@register("sign", method=True, numpy=np.sign)
class Sign(Op):
    """-1, 0 or 1 by the sign of x. Piecewise constant: it records no gradient."""
    differentiable = False

    def forward(self, x):
        return np.sign(x)

    batch_rule = batch_elementwise


@register("astype", method=True,
          sample=lambda st: st.elementwise(1, params=dict(dtype=np.float64)),
          torch=lambda torch, x, dtype: x.to(getattr(torch, np.dtype(dtype).name)))
class AsType(Op):
    """Cast to ``dtype``; the gradient is cast back to the input's dtype."""
    def forward(self, x, *, dtype):
        self.input_dtype = np.asarray(x).dtype
        return np.asarray(x).astype(dtype)

    jvp = linear_jvp

    batch_rule = batch_elementwise

    def vjp(self, g, out, x):
        return (g.astype(self.input_dtype),)


(add, subtract, multiply, divide, power, negative, exp, log, log1p, sqrt, absolute, sin, cos,
 tanh, sigmoid, relu, softplus, clip, maximum, minimum, where, sign, astype) = functions(
    "add", "subtract", "multiply", "divide", "power", "negative", "exp", "log", "log1p", "sqrt",
    "abs", "sin", "cos", "tanh", "sigmoid", "relu", "softplus", "clip", "maximum", "minimum",
    "where", "sign", "astype")
