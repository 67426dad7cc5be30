"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""
import numpy as np

from .optimizer import Optimizer, check_non_negative


class SGD(Optimizer):
    """SGD, PyTorch's update rule::

        g = grad + weight_decay * p
        buf = g (first step), else momentum * buf + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf      (when momentum != 0)
        p -= lr * g

    Raises:
        ValueError: a negative lr, momentum or weight_decay (naming it), Nesterov
            without momentum or with dampening, or no parameters.
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False):
        check_non_negative("SGD", lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum > 0 and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _check_group(self, group):
        check_non_negative("SGD", lr=group["lr"], momentum=group["momentum"],
                           weight_decay=group["weight_decay"])

    def _update(self, param, grad, state, *, lr, momentum, dampening, weight_decay, nesterov,
                maximize, **_):
        lr, momentum, weight_decay = float(lr), float(momentum), float(weight_decay)
        if maximize:
            grad = -grad
        if weight_decay:
            grad = grad + weight_decay * param
        if momentum:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = np.array(grad, copy=True)
            else:
                buffer *= momentum
                buffer += (1.0 - float(dampening)) * grad
            grad = grad + momentum * buffer if nesterov else buffer
        param -= lr * grad
