"""Adam (with AMSGrad and L2 weight decay); AdamW decouples the decay."""

import numpy as np

from .optimizer import Optimizer, check_non_negative


class Adam(Optimizer):
    """Adam, PyTorch's update rule (bias-corrected moments)::

        g = grad + weight_decay * p                 (AdamW: p *= 1 - lr * weight_decay)
        m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
        v_hat = max(v_hat, v) with amsgrad, else v
        p -= lr / (1 - beta1**t) * m / (sqrt(v_hat) / sqrt(1 - beta2**t) + eps)

    State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq`` (and ``max_exp_avg_sq``).
    ``foreach=None`` (default) fuses the update of a whole group into one pass over
    flat buffers when it can; ``foreach=False`` updates one tensor at a time (same numbers).

    Raises:
        ValueError: negative lr, eps or weight_decay, or betas outside [0, 1), naming it.
    """

    decoupled_weight_decay = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, *, maximize=False, foreach=None):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach)
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group):
        name = type(self).__name__
        check_non_negative(name, lr=group["lr"], eps=group["eps"],
                           weight_decay=group["weight_decay"])
        betas = group["betas"]
        if len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        for index, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{name}: betas[{index}] must be in [0, 1), got {beta!r}")

    _counts_steps = True

    def _state_names(self, hyper):
        names = ("exp_avg", "exp_avg_sq")
        return names + ("max_exp_avg_sq",) if hyper["amsgrad"] else names

    def _update(self, param, grad, state, *, lr, betas, eps, weight_decay, amsgrad, maximize,
                **_):
        if not state:
            state["step"] = 0
            for name in self._state_names({"amsgrad": amsgrad}):
                state[name] = np.zeros_like(param)
        state["step"] += 1
        if maximize:
            grad = -grad
        if weight_decay and self.decoupled_weight_decay:
            param *= 1.0 - float(lr) * float(weight_decay)
        elif weight_decay:
            grad = grad + float(weight_decay) * param
        param -= self._moments_step(grad, state, np.empty_like(param), state["step"], lr=lr,
                                    betas=betas, eps=eps, amsgrad=amsgrad)

    def _fused_update_leaves_grad(self, hyper):
        return not hyper["maximize"] and (self.decoupled_weight_decay
                                          or not hyper["weight_decay"])

    def _fused_update(self, layout, *, lr, betas, eps, weight_decay, amsgrad, maximize, **_):
        grad = layout.grad
        if maximize:
            np.negative(grad, out=grad)
        decay = None
        if weight_decay and self.decoupled_weight_decay:
            decay = 1.0 - float(lr) * float(weight_decay)
        elif weight_decay:
            grad += float(weight_decay) * layout.params_flat()
        self._moments_step(grad, layout.buffers, layout.delta, layout.step, lr=lr, betas=betas,
                           eps=eps, amsgrad=amsgrad)
        return decay

    @staticmethod
    def _moments_step(grad, state, scratch, step, *, lr, betas, eps, amsgrad):
        """Advance the moments in ``state`` and return the step ``scratch`` (p -= it)."""
        lr, eps = float(lr), float(eps)
        beta1, beta2 = float(betas[0]), float(betas[1])
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        np.subtract(grad, exp_avg, out=scratch)
        scratch *= 1.0 - beta1
        exp_avg += scratch                       # exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq *= beta2
        np.multiply(grad, grad, out=scratch)
        scratch *= 1.0 - beta2
        exp_avg_sq += scratch
        if amsgrad:
            np.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            second = state["max_exp_avg_sq"]
        else:
            second = exp_avg_sq
        # lr/c1 * m / (sqrt(v)/sqrt(c2) + eps) = (lr/c1 * sqrt(c2)) * m / (sqrt(v) + eps*sqrt(c2)):
        # the bias correction folded into two scalars saves a pass and a division (the
        # slowest ufunc) over every parameter; the result differs from the textbook
        # order by rounding only.
        root_correction = (1.0 - beta2 ** step) ** 0.5
        np.sqrt(second, out=scratch)
        scratch += eps * root_correction
        np.divide(exp_avg, scratch, out=scratch)
        scratch *= lr / (1.0 - beta1 ** step) * root_correction
        return scratch


class AdamW(Adam):
    """Adam with decoupled weight decay (``p *= 1 - lr * weight_decay`` before the step).

    Defaults as PyTorch's, weight_decay=1e-2.
    """

    decoupled_weight_decay = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, foreach=foreach)
