"""Learning-rate schedulers: the same sequences as ``torch.optim.lr_scheduler``.

Each scheduler sets ``group["lr"]`` of its optimizer's groups; call ``step()`` once per
epoch (or iteration) after ``optimizer.step()``. The formulas are PyTorch's chainable
ones (each new lr computed from the current one), so that schedulers compose
(``SequentialLR``, ``ChainedScheduler``) exactly as there. ``LinearWarmup`` is
``LinearLR`` ramping up to the base lr; chain it into cosine annealing with::

    warmup = LinearWarmup(opt, warmup_steps=5, start_factor=0.1)
    cosine = CosineAnnealingLR(opt, T_max=95)
    schedule = SequentialLR(opt, [warmup, cosine], milestones=[5])
"""
import math
from bisect import bisect_right

from .optimizer import Optimizer

__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR",
           "LinearWarmup", "SequentialLR", "ChainedScheduler", "ReduceLROnPlateau"]


def _check_optimizer(owner, optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{owner}: expected an nn.optim Optimizer, got {type(optimizer).__name__}")


def _check_positive_int(owner, name, value):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive integer, got {value!r}")


class LRScheduler:
    """Base class. Subclasses define ``get_lr`` (chainable) and ``_closed_form_lr``.

    Args:
        optimizer: the Optimizer whose groups' ``lr`` this scheduler sets.
        last_epoch: index of the last epoch seen; -1 starts a fresh schedule (the
            groups' current lr become ``initial_lr``). Resuming needs ``initial_lr``.
    """

    def __init__(self, optimizer, last_epoch=-1):
        _check_optimizer(type(self).__name__, optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for index, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{type(self).__name__}: param_groups[{index}] has no "
                                   f"'initial_lr', needed to resume with last_epoch={last_epoch}")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self):
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self):
        """The next learning rates, from the current ones (chainable form)."""
        raise NotImplementedError

    def _current_lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def step(self, epoch=None):
        """Advance one epoch (or jump to ``epoch``, using the closed form) and set the lrs."""
        self._step_count += 1
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_closed_form_lr", None)
            values = closed_form() if closed_form else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = self._current_lrs()

    def get_last_lr(self):
        """The learning rates this scheduler set last, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self):
        """Everything but the optimizer (plain values)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` epochs."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        _check_positive_int("StepLR", "step_size", step_size)
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _closed_form_lr(self):
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the lr by ``gamma`` every epoch."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _closed_form_lr(self):
        return [base * self.gamma ** self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine from the base lr down to ``eta_min`` over ``T_max`` epochs (then back up):
    ``eta_min + (base - eta_min) * (1 + cos(pi * t / T_max)) / 2``."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        _check_positive_int("CosineAnnealingLR", "T_max", T_max)
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, t_max, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current_lrs()
        if self._step_count == 1 and t > 0:
            return [eta_min + (base - eta_min) * (1 + math.cos(t * math.pi / t_max)) / 2
                    for base in self.base_lrs]
        if (t - 1 - t_max) % (2 * t_max) == 0:
            return [lr + (base - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
                    for base, lr in zip(self.base_lrs, self._current_lrs())]
        return [(1 + math.cos(math.pi * t / t_max)) / (1 + math.cos(math.pi * (t - 1) / t_max))
                * (lr - eta_min) + eta_min for lr in self._current_lrs()]

    def _closed_form_lr(self):
        return [self.eta_min + (base - self.eta_min)
                * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale the lr linearly from ``start_factor`` to ``end_factor`` times the base lr
    over ``total_iters`` epochs, then keep it."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5,
                 last_epoch=-1):
        owner = type(self).__name__
        if not 0 < start_factor <= 1:
            raise ValueError(f"{owner}: start_factor must be in (0, 1], got {start_factor!r}")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"{owner}: end_factor must be in [0, 1], got {end_factor!r}")
        _check_positive_int(owner, "total_iters", total_iters)
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in self._current_lrs()]
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current_lrs()
        change = self.end_factor - self.start_factor
        ratio = 1.0 + change / (self.total_iters * self.start_factor
                                + (self.last_epoch - 1) * change)
        return [lr * ratio for lr in self._current_lrs()]

    def _closed_form_lr(self):
        progress = min(self.total_iters, self.last_epoch) / self.total_iters
        return [base * (self.start_factor + (self.end_factor - self.start_factor) * progress)
                for base in self.base_lrs]


class LinearWarmup(LinearLR):
    """Warm up linearly from ``start_factor`` times the base lr to the base lr over
    ``warmup_steps`` steps (PyTorch's ``LinearLR`` with ``end_factor=1``)."""

    def __init__(self, optimizer, warmup_steps=5, start_factor=1.0 / 3, last_epoch=-1):
        super().__init__(optimizer, start_factor=start_factor, end_factor=1.0,
                         total_iters=warmup_steps, last_epoch=last_epoch)


class _SchedulerList(LRScheduler):
    """A scheduler made of others; its state dict nests theirs."""

    def state_dict(self):
        state = {key: value for key, value in self.__dict__.items()
                 if key not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [scheduler.state_dict() for scheduler in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        state_dict = dict(state_dict)
        parts = state_dict.pop("_schedulers")
        self.__dict__.update(state_dict)
        for scheduler, part in zip(self._schedulers, parts):
            scheduler.load_state_dict(part)


def _undo_initial_step(scheduler):
    """Take back the step a scheduler made at construction (nested ones included)."""
    if hasattr(scheduler, "_schedulers"):
        for part in scheduler._schedulers:
            _undo_initial_step(part)
    else:
        scheduler.last_epoch -= 1


class SequentialLR(_SchedulerList):
    """Run ``schedulers`` one after another, switching at the epochs in ``milestones``."""

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        _check_optimizer("SequentialLR", optimizer)
        schedulers, milestones = list(schedulers), list(milestones)
        _check_parts("SequentialLR", optimizer, schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR: expected {len(schedulers) - 1} milestones for "
                             f"{len(schedulers)} schedulers, got {len(milestones)}")
        self._schedulers, self._milestones = schedulers, milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for scheduler in schedulers:
            _undo_initial_step(scheduler)
        first = schedulers[bisect_right(milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self):
        self.last_epoch += 1
        index = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_SchedulerList):
    """Step every scheduler in ``schedulers`` at each step (their factors multiply)."""

    def __init__(self, schedulers, optimizer=None):
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError("ChainedScheduler: expected at least one scheduler")
        optimizer = optimizer or schedulers[0].optimizer
        _check_parts("ChainedScheduler", optimizer, schedulers)
        self._schedulers, self.optimizer = schedulers, optimizer
        self._last_lr = self._current_lrs()

    def step(self):
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = self._current_lrs()


def _check_parts(owner, optimizer, schedulers):
    if not schedulers:
        raise ValueError(f"{owner}: expected at least one scheduler")
    for index, scheduler in enumerate(schedulers):
        if isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError(f"{owner}: ReduceLROnPlateau (index {index}) needs a metric at "
                             f"each step, so it cannot be combined")
        if getattr(scheduler, "optimizer", None) is not optimizer:
            raise ValueError(f"{owner}: scheduler {index} ({type(scheduler).__name__}) belongs "
                             f"to a different optimizer")


class ReduceLROnPlateau(LRScheduler):
    """Multiply the lr by ``factor`` once the metric passed to ``step(metric)`` has not
    improved for ``patience`` epochs; then wait ``cooldown`` epochs; never below ``min_lr``.

    ``mode`` "min" (loss) or "max" (accuracy); an improvement must beat the best by
    ``threshold`` (relative in ``threshold_mode`` "rel", absolute in "abs"). Changes
    smaller than ``eps`` are skipped.
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8):
        _check_optimizer("ReduceLROnPlateau", optimizer)
        if not factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1.0, got {factor!r}")
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', "
                             f"got {threshold_mode!r}")
        self.optimizer, self.factor = optimizer, factor
        groups = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != groups:
                raise ValueError(f"ReduceLROnPlateau: expected {groups} min_lr values (one per "
                                 f"parameter group), got {len(min_lr)}")
            self.min_lrs = list(min_lr)
        else:
            self.min_lrs = [min_lr] * groups
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode
        self.patience, self.cooldown, self.eps = patience, cooldown, eps
        self.last_epoch = 0
        self._last_lr = self._current_lrs()
        self.best = math.inf if mode == "min" else -math.inf
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics, epoch=None):
        """Record this epoch's metric (a number) and reduce the lr on a plateau."""
        current = float(metrics)
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self._is_better(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                old = float(group["lr"])
                new = max(old * self.factor, min_lr)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = self._current_lrs()

    def _is_better(self, value):
        if self.mode == "min":
            bound = self.best * (1.0 - self.threshold) if self.threshold_mode == "rel" \
                else self.best - self.threshold
            return value < bound
        bound = self.best * (1.0 + self.threshold) if self.threshold_mode == "rel" \
            else self.best + self.threshold
        return value > bound
