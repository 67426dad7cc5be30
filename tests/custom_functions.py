"""autograd.Function subclasses that more than one test file uses (pytest puts tests/ on
the import path, so test files import them as ``from custom_functions import Cube``)."""
import autograd as ag


class Cube(ag.Function):
    """x ** 3, with a backward written in operators (so twice differentiable)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x ** 2
