"""Callbacks that ``fit`` calls around epochs and batches, Keras-style.

Epochs are numbered from 0 in callbacks and ``History.epoch`` (as in Keras); progress
lines print them from 1. Epoch logs hold ``loss``, each metric, their ``val_`` versions
when there is validation data, and ``lr``.
"""
import csv
import math
import os
import string
import warnings

import numpy as np

from autograd import Tensor

from ..checkpoint import save  # the safe .npz format of nn, never pickle
from .metrics import default_mode


class TrainingContext:
    """What callbacks may read or set while ``fit`` runs.

    Attributes: ``model``, ``optimizer``, ``epochs``, ``steps_per_epoch``, ``log_keys``
    (the names every epoch's logs will hold, known before training starts),
    ``stop_training`` (set it to True to end training after the current epoch) and
    ``verbose`` (fit's).
    """

    def __init__(self, model, optimizer, epochs, steps_per_epoch, log_keys, verbose=0):
        self.model = model
        self.optimizer = optimizer
        self.epochs = epochs
        self.steps_per_epoch = steps_per_epoch
        self.log_keys = tuple(log_keys)
        self.stop_training = False
        self.verbose = verbose


class Callback:
    """Base class: override any of the ``on_*`` hooks; ``self.context`` is set by ``fit``."""

    context = None
    verbose = 0

    def set_context(self, context):
        self.context = context

    @property
    def model(self):
        return self.context.model

    def say(self, message):
        """Print ``message`` when this callback's ``verbose`` (None: fit's) asks for it."""
        verbose = self.context.verbose if self.verbose is None and self.context else self.verbose
        if verbose:
            print(message, flush=True)

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass


class History(Callback):
    """Per-epoch logs: ``history.history["val_loss"]`` is a list with one value per epoch.

    ``fit`` returns one. ``history["loss"]`` is short for ``history.history["loss"]``;
    ``epoch`` lists the epoch numbers (from 0).
    """

    def __init__(self):
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def __getitem__(self, key):
        return self.history[key]

    def __len__(self):
        return len(self.epoch)

    def __repr__(self):
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items() if v)
        return f"History({len(self.epoch)} epochs; last: {last})"


class _Monitored(Callback):
    """Shared by callbacks that watch one logged value for improvement."""

    def __init__(self, monitor, mode, min_delta):
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{type(self).__name__}: mode must be 'auto', 'min' or 'max', "
                             f"got {mode!r}")
        self.monitor = monitor
        self.mode = default_mode(monitor) if mode == "auto" else mode
        self.min_delta = abs(float(min_delta))
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = None

    def on_train_begin(self, logs=None):
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = None
        check_monitor(type(self).__name__, self.monitor, self.context.log_keys)

    def improved(self, value):
        if value is None or math.isnan(value):
            return False
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


def check_monitor(owner, monitor, log_keys):
    """Raise a ValueError naming ``monitor`` when the epoch logs will not contain it."""
    if monitor in log_keys:
        return
    hint = ""
    if monitor.startswith("val_") and not any(k.startswith("val_") for k in log_keys):
        hint = " (val_ values need validation_data= or validation_split= in fit)"
    raise ValueError(f"{owner}: monitor={monitor!r} is not logged{hint}; the logs hold: "
                     f"{', '.join(log_keys)}")


class EarlyStopping(_Monitored):
    """Stop training after ``patience`` epochs in a row without improvement of ``monitor``.

    Args:
        monitor: logged value to watch, e.g. ``"val_loss"`` or ``"val_accuracy"``.
        patience: epochs without improvement after which training stops (0 and 1 both
            stop at the first epoch that does not improve, as in Keras).
        min_delta: smallest change that counts as an improvement.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracy-like names).
        restore_best_weights: when training ends, load the weights of the best epoch.
        verbose: say when and why training stopped and which epoch's weights were
            restored (None: when ``fit`` is verbose; 0 never; 1 always).

    Attributes: ``best`` (value), ``best_epoch``, ``stopped_epoch`` (None if it never
    stopped training).

    Raises (when training starts):
        ValueError: ``monitor`` is not among the logged values.
    """

    def __init__(self, monitor="val_loss", patience=0, min_delta=0.0, mode="auto",
                 restore_best_weights=False, verbose=None):
        super().__init__(monitor, mode, min_delta)
        self.verbose = verbose
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        self.patience = int(patience)
        self.restore_best_weights = bool(restore_best_weights)
        self.best_weights = None
        self.stopped_epoch = None
        self.wait = 0

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self.best_weights, self.stopped_epoch, self.wait = None, None, 0

    def on_epoch_end(self, epoch, logs=None):
        value = logs.get(self.monitor)
        if self.improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = copy_state(self.model.state_dict())
            return
        self.wait += 1
        if self.wait >= max(self.patience, 1):
            self.stopped_epoch = epoch
            self.context.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch is not None:
            self.say(f"EarlyStopping: stopped after epoch {self.stopped_epoch + 1}: "
                     f"{self.monitor} did not improve for {self.wait} epoch(s) "
                     f"(best {self.best:.4f} at epoch {self.best_epoch + 1})"
                     if self.best_epoch is not None else
                     f"EarlyStopping: stopped after epoch {self.stopped_epoch + 1}: "
                     f"{self.monitor} was never finite")
        if self.restore_best_weights and self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)
            self.say(f"EarlyStopping: restored the weights of epoch {self.best_epoch + 1}, the "
                     f"best {self.monitor} ({self.best:.4f})")


def path_template_fields(path):
    """The field names of a ``str.format`` path template such as ``"ckpt-{epoch:02d}.npz"``.

    Raises ValueError (naming the path) for a template ``str.format`` cannot fill from
    keyword arguments: unbalanced braces, positional (``{}``, ``{0}``) or compound
    (``{a.b}``, ``{a[0]}``) fields, or a format spec that a number does not accept.
    Literal braces are written doubled: ``{{`` and ``}}``.
    """
    try:
        parts = list(string.Formatter().parse(path))
    except ValueError as err:
        raise ValueError(f"ModelCheckpoint: path {path!r} is not a valid template ({err}); "
                         f"write literal braces as {{{{ and }}}}") from None
    fields = []
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if not name.isidentifier():
            raise ValueError(f"ModelCheckpoint: path {path!r} has the field {{{name}}}; fields "
                             f"must name a logged value, e.g. {{epoch}} or {{val_loss:.3f}} "
                             f"(write literal braces as {{{{ and }}}})")
        if spec and "{" not in spec and not _accepts_a_number(spec):
            raise ValueError(f"ModelCheckpoint: path {path!r} has the field {{{name}:{spec}}}, "
                             f"whose format spec {spec!r} fits neither an int nor a float")
        fields.append(name)
    return tuple(dict.fromkeys(fields))


def _accepts_a_number(spec):
    """Whether ``format(value, spec)`` works for an int or a float (logged values are numbers)."""
    for value in (1, 0.5):
        try:
            format(value, spec)
            return True
        except (ValueError, TypeError):
            pass
    return False


class ModelCheckpoint(_Monitored):
    """Save the model's ``state_dict`` with ``nn.save`` (a ``.npz``) after epochs.

    Args:
        path: file to write; may hold fields filled from the epoch logs, e.g.
            ``"ckpt-{epoch:02d}-{val_loss:.3f}.npz"`` (``epoch`` counts from 1 here).
        monitor: logged value that decides what is best.
        save_best_only: save only when ``monitor`` improves, so the file always holds
            the best weights so far; otherwise save every epoch.
        mode: ``"min"``, ``"max"`` or ``"auto"``.
        save_optimizer: also save the optimizer's state, to resume training
            (``nn.load(path, with_optimizer=True)``).
        verbose: say what was saved and why (None: when ``fit`` is verbose; 0 never;
            1 always).

    ``nn.save`` writes a temporary file and renames it over ``path``, so an interrupted
    save never replaces the previous best file with a partial one. Attributes: ``best``,
    ``best_epoch``, ``last_saved`` (the path of the latest save).
    """

    def __init__(self, path, monitor="val_loss", save_best_only=False, mode="auto",
                 save_optimizer=False, verbose=None):
        super().__init__(monitor, mode, 0.0)
        self.verbose = verbose
        self.path = os.fspath(path)
        self.fields = path_template_fields(self.path)
        self.save_best_only = bool(save_best_only)
        self.save_optimizer = bool(save_optimizer)
        self.last_saved = None

    def on_train_begin(self, logs=None):
        if self.save_best_only:
            super().on_train_begin(logs)

    def on_epoch_end(self, epoch, logs=None):
        reason = ""
        if self.save_best_only:
            value = logs.get(self.monitor)
            if not self.improved(value):
                self.say(f"ModelCheckpoint: epoch {epoch + 1}: {self.monitor} did not improve "
                         f"from {self.best:.4f}; not saved")
                return
            reason = f"{self.monitor} improved from {self.best:.4f} to {value:.4f}, "
            self.best, self.best_epoch = value, epoch
        values = {**logs, "epoch": epoch + 1}
        missing = [name for name in self.fields if name not in values]
        if missing:
            raise KeyError(f"ModelCheckpoint: path {self.path!r} names {', '.join(missing)}, "
                           f"which the logs of epoch {epoch + 1} do not hold (they hold "
                           f"{', '.join(sorted(values))})")
        path = self.path.format(**values)
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        optimizer = self.context.optimizer if self.save_optimizer else None
        save(self.model.state_dict(), path, optimizer=optimizer)
        self.last_saved = path
        self.say(f"ModelCheckpoint: epoch {epoch + 1}: {reason}saved the model to {path}")


class TerminateOnNaN(Callback):
    """Stop training at the first batch whose loss is NaN or infinite, with a warning
    that names the epoch and batch and suggests ``detect_anomaly``.

    ``fit`` adds one unless ``terminate_on_nan=False`` (or you pass your own). The
    step of that batch has already updated the weights, so they may hold NaN/Inf.
    Attributes: ``stopped_epoch``, ``stopped_batch`` (from 0; None if it never stopped).
    """

    def __init__(self):
        self.stopped_epoch = self.stopped_batch = None
        self.epoch = 0

    def on_train_begin(self, logs=None):
        self.stopped_epoch = self.stopped_batch = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        loss = logs.get("loss") if logs else None
        if loss is None or math.isfinite(loss):
            return
        self.stopped_epoch, self.stopped_batch = self.epoch, batch
        self.context.stop_training = True
        warnings.warn(
            f"fit: the loss is {loss} at epoch {self.epoch + 1}/{self.context.epochs}, batch "
            f"{batch + 1}/{self.context.steps_per_epoch}; training stopped "
            f"(terminate_on_nan=True). "
            f"To find the op that made it, run one step by hand under "
            f"`with autograd.detect_anomaly():` (loss = loss_fn(model(x), y); loss.backward()); "
            f"a smaller learning rate, normalised inputs or gradient clipping often cure it. "
            f"Pass terminate_on_nan=False to train on anyway.",
            RuntimeWarning, stacklevel=2)




class LRSchedulerCallback(Callback):
    """Step a learning-rate scheduler after every epoch (or batch).

    ``ReduceLROnPlateau`` is stepped with the logged ``monitor`` value (default
    ``val_loss`` when there is validation data, else ``loss``); other schedulers with
    ``step()``. ``fit(scheduler=...)`` wraps its scheduler in one of these.

    Args:
        scheduler: an ``nn.optim.lr_scheduler`` scheduler (anything with ``step``).
        monitor: for plateau schedulers, the logged value to pass to ``step``.
        interval: ``"epoch"`` or ``"batch"`` (e.g. for warm-up); plateau schedulers
            step only per epoch.
    """

    def __init__(self, scheduler, monitor=None, interval="epoch"):
        if interval not in ("epoch", "batch"):
            raise ValueError(f"LRSchedulerCallback: interval must be 'epoch' or 'batch', "
                             f"got {interval!r}")
        self.scheduler = scheduler
        self.monitor = monitor
        self.interval = interval
        self.needs_metric = is_plateau_scheduler(scheduler)
        if self.needs_metric and interval == "batch":
            raise ValueError("LRSchedulerCallback: ReduceLROnPlateau steps per epoch, on a "
                             "monitored value; use interval='epoch'")

    def on_train_begin(self, logs=None):
        if self.needs_metric:
            if self.monitor is None:
                self.monitor = "val_loss" if "val_loss" in self.context.log_keys else "loss"
            check_monitor("LRSchedulerCallback", self.monitor, self.context.log_keys)

    def on_batch_end(self, batch, logs=None):
        if self.interval == "batch":
            self.scheduler.step()

    def on_epoch_end(self, epoch, logs=None):
        if self.interval != "epoch":
            return
        if self.needs_metric:
            self.scheduler.step(logs[self.monitor])
        else:
            self.scheduler.step()


def is_plateau_scheduler(scheduler):
    """True for schedulers that step on a metric (ReduceLROnPlateau and subclasses)."""
    return any(cls.__name__ == "ReduceLROnPlateau" for cls in type(scheduler).__mro__)


class CSVLogger(Callback):
    """Write one CSV row per epoch: ``epoch`` (from 0) then every logged value.

    Args:
        path: the CSV file.
        separator: field separator.
        append: add to an existing file (no second header) instead of replacing it.
    """

    def __init__(self, path, separator=",", append=False):
        self.path = os.fspath(path)
        self.separator = separator
        self.append = bool(append)
        self._file = None

    def on_train_begin(self, logs=None):
        has_rows = self.append and os.path.exists(self.path) and os.path.getsize(self.path) > 0
        self._file = open(self.path, "a" if self.append else "w", newline="")
        self._writer = csv.writer(self._file, delimiter=self.separator)
        if not has_rows:
            self._writer.writerow(("epoch",) + self.context.log_keys)

    def on_epoch_end(self, epoch, logs=None):
        values = [_csv_value(logs.get(key, "")) for key in self.context.log_keys]
        self._writer.writerow([epoch] + values)
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


def _csv_value(value):
    return repr(float(value)) if isinstance(value, (float, np.floating)) else value


def copy_state(state):
    """A deep copy of a state_dict as plain arrays, immune to later in-place updates."""
    return {name: np.array(value.data if isinstance(value, Tensor) else value, copy=True)
            for name, value in state.items()}
