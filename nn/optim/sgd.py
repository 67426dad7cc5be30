"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""
import numpy as np

from .optimizer import Optimizer, check_non_negative


class SGD(Optimizer):
    """SGD, PyTorch's update rule::

        g = grad + weight_decay * p
        buf = g (first step), else momentum * buf + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf      (when momentum != 0)
        p -= lr * g

    ``foreach=None`` (default) fuses the update of a whole group into one pass over
    flat buffers when it can; ``foreach=False`` updates one tensor at a time (same numbers).

    Raises:
        ValueError: a negative lr, momentum or weight_decay (naming it), Nesterov
            without momentum or with dampening, or no parameters.
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False, foreach=None):
        check_non_negative("SGD", lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum > 0 and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize, foreach=foreach))

    def _check_group(self, group):
        check_non_negative("SGD", lr=group["lr"], momentum=group["momentum"],
                           weight_decay=group["weight_decay"])

    def _state_names(self, hyper):
        return ("momentum_buffer",) if hyper["momentum"] else ()

    def _update(self, param, grad, state, *, lr, momentum, dampening, weight_decay, nesterov,
                maximize, **_):
        if maximize:
            grad = -grad
        if weight_decay:
            grad = grad + float(weight_decay) * param
        buffer = state.get("momentum_buffer")
        if momentum and buffer is None:
            buffer = state["momentum_buffer"] = np.array(grad, copy=True)
            first = True
        else:
            first = False
        param -= self._direction(grad, buffer, first, lr=lr, momentum=momentum,
                                 dampening=dampening, nesterov=nesterov)

    def _fused_update(self, layout, *, lr, momentum, dampening, weight_decay, nesterov,
                      maximize, **_):
        grad = layout.grad
        if maximize:
            np.negative(grad, out=grad)
        if weight_decay:
            grad += float(weight_decay) * layout.params_flat()
        buffer = layout.buffers.get("momentum_buffer")
        if momentum and layout.fresh:
            np.copyto(buffer, grad)
        np.copyto(layout.delta, self._direction(grad, buffer, layout.fresh, lr=lr,
                                                momentum=momentum, dampening=dampening,
                                                nesterov=nesterov))
        return None

    @staticmethod
    def _direction(grad, buffer, first, *, lr, momentum, dampening, nesterov):
        """``lr`` times the step direction; advances the momentum ``buffer`` unless
        this is its ``first`` step (it was just set to the gradient)."""
        lr, momentum = float(lr), float(momentum)
        if momentum:
            if not first:
                buffer *= momentum
                buffer += (1.0 - float(dampening)) * grad
            grad = grad + momentum * buffer if nesterov else buffer
        return lr * grad
