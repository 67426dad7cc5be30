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
    ``foreach=None`` (default) fuses the update of a whole group into one pass over
    flat buffers when it can; ``foreach=False`` updates one tensor at a time (same numbers).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, *, maximize=False, foreach=None):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize,
                        foreach=foreach)
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_non_negative("RMSprop", lr=group["lr"], alpha=group["alpha"], eps=group["eps"],
                           weight_decay=group["weight_decay"], momentum=group["momentum"])

    _counts_steps = True

    def _state_names(self, hyper):
        return (("square_avg",) + (("momentum_buffer",) if hyper["momentum"] > 0 else ())
                + (("grad_avg",) if hyper["centered"] else ()))

    def _update(self, param, grad, state, *, lr, alpha, eps, weight_decay, momentum, centered,
                maximize, **_):
        if not state:
            state["step"] = 0
            for name in self._state_names({"momentum": momentum, "centered": centered}):
                state[name] = np.zeros_like(param)
        state["step"] += 1
        if maximize:
            grad = -grad
        if weight_decay:
            grad = grad + float(weight_decay) * param
        param -= self._direction(grad, state, lr=lr, alpha=alpha, eps=eps, momentum=momentum,
                                 centered=centered)

    def _fused_update(self, layout, *, lr, alpha, eps, weight_decay, momentum, centered,
                      maximize, **_):
        grad = layout.grad
        if maximize:
            np.negative(grad, out=grad)
        if weight_decay:
            grad += float(weight_decay) * layout.params_flat()
        np.copyto(layout.delta, self._direction(grad, layout.buffers, lr=lr, alpha=alpha,
                                                eps=eps, momentum=momentum, centered=centered))
        return None

    @staticmethod
    def _direction(grad, state, *, lr, alpha, eps, momentum, centered):
        """Advance the averages in ``state``; return ``lr`` times the step direction."""
        lr, alpha, eps, momentum = float(lr), float(alpha), float(eps), float(momentum)
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
            return lr * buffer
        return lr * (grad / denom)
