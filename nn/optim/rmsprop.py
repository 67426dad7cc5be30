"""RMSprop: divide the step by a running root-mean-square of the gradients."""
import numpy as np

from .optimizer import Optimizer, check_non_negative


class RMSprop(Optimizer):
    """RMSprop, PyTorch's update rule::

        g = grad + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        centered: a = alpha-average of g, denom = sqrt(v - a * a) + eps; else sqrt(v) + eps
        momentum: buf = momentum * buf + g / denom; p -= lr * buf
        otherwise: p -= lr * g / denom

    State: ``step``, ``square_avg`` (and ``momentum_buffer``, ``grad_avg``).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, *, maximize=False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_non_negative("RMSprop", lr=group["lr"], alpha=group["alpha"], eps=group["eps"],
                           weight_decay=group["weight_decay"], momentum=group["momentum"])

    def _update(self, param, grad, state, *, lr, alpha, eps, weight_decay, momentum, centered,
                maximize, **_):
        lr, alpha, eps = float(lr), float(alpha), float(eps)
        weight_decay, momentum = float(weight_decay), float(momentum)
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            if momentum > 0:
                state["momentum_buffer"] = np.zeros_like(param)
            if centered:
                state["grad_avg"] = np.zeros_like(param)
        state["step"] += 1
        if maximize:
            grad = -grad
        if weight_decay:
            grad = grad + weight_decay * param
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1.0 - alpha) * grad * grad
        if centered:
            grad_avg = state["grad_avg"]
            grad_avg += (1.0 - alpha) * (grad - grad_avg)      # grad_avg.lerp_(grad, 1 - alpha)
            denom = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            denom = np.sqrt(square_avg)
        denom += eps
        if momentum > 0:
            buffer = state["momentum_buffer"]
            buffer *= momentum
            buffer += grad / denom
            param -= lr * buffer
        else:
            param -= lr * (grad / denom)
