"""Adagrad: per-coordinate steps shrinking with the accumulated squared gradients."""
import numpy as np

from .optimizer import Optimizer, check_non_negative


class Adagrad(Optimizer):
    """Adagrad, PyTorch's update rule::

        g = grad + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        sum += g * g;  p -= clr * g / (sqrt(sum) + eps)

    State (created for every parameter at construction, as in PyTorch): ``step``, ``sum``.
    ``foreach=None`` (default) fuses the update of a whole group into one pass over
    flat buffers when it can; ``foreach=False`` updates one tensor at a time (same numbers).
    """

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, *, maximize=False, foreach=None):
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize,
                        foreach=foreach)
        self._check_group(defaults)
        super().__init__(params, defaults)

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for param in group["params"]:
            self._init_state(self.state[param], param.data, group["initial_accumulator_value"])

    @staticmethod
    def _init_state(state, param, initial_accumulator_value):
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(param, float(initial_accumulator_value))

    def _check_group(self, group):
        check_non_negative("Adagrad", lr=group["lr"], lr_decay=group["lr_decay"],
                           weight_decay=group["weight_decay"], eps=group["eps"],
                           initial_accumulator_value=group["initial_accumulator_value"])

    _counts_steps = True

    def _state_names(self, hyper):
        return ("sum",)

    def _update(self, param, grad, state, *, lr, lr_decay, eps, weight_decay,
                initial_accumulator_value, maximize, **_):
        self._init_state(state, param, initial_accumulator_value)
        state["step"] += 1
        if maximize:
            grad = -grad
        if weight_decay:
            grad = grad + float(weight_decay) * param
        param -= self._direction(grad, state["sum"], state["step"], lr=lr, lr_decay=lr_decay,
                                 eps=eps)

    def _fused_update(self, layout, *, lr, lr_decay, eps, weight_decay, maximize, **_):
        grad = layout.grad
        if maximize:
            np.negative(grad, out=grad)
        if weight_decay:
            grad += float(weight_decay) * layout.params_flat()
        np.copyto(layout.delta, self._direction(grad, layout.buffers["sum"], layout.step, lr=lr,
                                                lr_decay=lr_decay, eps=eps))
        return None

    @staticmethod
    def _direction(grad, accumulated, step, *, lr, lr_decay, eps):
        """Add ``grad**2`` to ``accumulated``; return the step (``p -= it``)."""
        step_lr = float(lr) / (1.0 + (step - 1) * float(lr_decay))
        accumulated += grad * grad
        return step_lr * (grad / (np.sqrt(accumulated) + float(eps)))
