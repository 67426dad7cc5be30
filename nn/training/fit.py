"""fit / evaluate / predict: the Keras-style training loop on top of nn modules and optimizers."""
import math

import numpy as np

from autograd import Tensor, enable_grad, no_grad

from ..data.dataset import Subset, TensorDataset
from ..data.loader import DataLoader, check_batch_size
from ..data.split import train_test_split
from .arguments import check_epochs, check_model_and_loss, check_optimizer
from .callbacks import Callback, History, LRSchedulerCallback, TerminateOnNaN, TrainingContext
from .metrics import get_metric
from .progress import ProgressLogger


def fit(model, loss_fn, optimizer, train_data, epochs=1, batch_size=32, *, validation_data=None,
        validation_split=None, metrics=("accuracy",), callbacks=(), verbose=1, shuffle=True,
        seed=None, scheduler=None, terminate_on_nan=True):
    """Train ``model`` for ``epochs`` passes over ``train_data``; return a ``History``.

    Args:
        model: an ``nn.Module`` (anything with ``__call__``, ``train()``/``eval()``,
            ``state_dict()``/``load_state_dict()``).
        loss_fn: ``loss_fn(outputs, targets)`` -> scalar Tensor, e.g. ``nn.CrossEntropyLoss()``.
        optimizer: an ``nn.optim`` optimizer over the model's parameters.
        train_data: ``(X, y)`` arrays or Tensors, a Dataset of ``(x, y)`` samples, or a
            DataLoader (then ``batch_size``, ``shuffle`` and ``seed`` are its own).
        epochs: passes over the training data (an int >= 1).
        batch_size: samples per optimizer step (an int >= 1).
        validation_data: ``(X_val, y_val)``, a Dataset or a DataLoader, evaluated after
            every epoch in eval mode; its results are logged as ``val_<name>``.
        validation_split: instead, hold out this fraction in (0, 1) of ``train_data``, a
            random seeded subset (not the last rows, as Keras takes, since data sets
            are often sorted by class).
        metrics: names (``"accuracy"``, ``"f1"``, ``"top_5_accuracy"``, ...) or callables
            ``f(y_true, y_pred)``, computed on each epoch's predictions.
        callbacks: ``Callback`` instances (EarlyStopping, ModelCheckpoint, CSVLogger, ...).
        verbose: 0 silent, 1 progress bar (tqdm on a terminal) or lines, 2 lines.
        shuffle: reshuffle the training samples every epoch.
        seed: seed of the shuffles and of ``validation_split``, for reproducible runs.
            Without it they draw from autograd's generator, so ``nn.manual_seed(s)``
            before building the model makes the whole run reproducible.
        scheduler: an ``nn.optim.lr_scheduler`` scheduler stepped after every epoch
            (``ReduceLROnPlateau`` with ``val_loss``, or ``loss`` without validation).
        terminate_on_nan: stop at the first NaN/Inf batch loss, with a warning naming
            the epoch and batch (a ``TerminateOnNaN`` callback); False trains on.

    The model is left in eval mode (Dropout off, BatchNorm on its running statistics),
    ready for ``evaluate``/``predict`` or plain calls; call ``model.train()`` before
    training it by hand.

    Returns:
        History: ``history.history[key]`` lists one value per epoch for ``loss``, each
        metric, their ``val_`` versions and ``lr`` (the learning rate used that epoch).
        The training ``loss`` is the mean of the batch losses weighted by batch size,
        taken while the weights change during the epoch (as Keras reports it); training
        metrics use those same running predictions. ``val_`` values use the weights at
        the end of the epoch.

    Raises:
        TypeError: arguments in the wrong order or of the wrong kind (a loss class
            instead of an instance, X and y passed separately instead of as one tuple).
        ValueError: X and y of different lengths, ``batch_size`` or ``epochs`` below 1,
            ``validation_split`` outside (0, 1) or together with ``validation_data``, an
            unknown metric name, a callback monitoring a value that is not logged, or an
            optimizer that holds none of the model's trainable parameters.
    """
    check_model_and_loss("fit", model, loss_fn)
    check_optimizer(model, optimizer)
    check_epochs(epochs)
    batch_size = check_batch_size(batch_size, "fit")
    metric_fns = _metrics(metrics)
    train_set, validation_set = _split(train_data, validation_data, validation_split, seed)
    loader = _loader(train_set, batch_size, shuffle, seed, "train_data")
    validation_loader = None
    if validation_set is not None:
        # Evaluation holds no graph, so bigger batches only save Python overhead.
        validation_loader = _loader(validation_set, max(batch_size, 256), False, None,
                                    "validation_data")
    callbacks = list(callbacks or ())
    for callback in callbacks:
        if not isinstance(callback, Callback):
            raise TypeError(f"fit: callbacks must be Callback instances, got "
                            f"{type(callback).__name__}")
    if scheduler is not None:
        callbacks.append(LRSchedulerCallback(scheduler))
    if terminate_on_nan and not any(isinstance(c, TerminateOnNaN) for c in callbacks):
        callbacks.append(TerminateOnNaN())
    history, progress = History(), ProgressLogger(verbose)
    # Progress first, so that what callbacks print follows the epoch's line.
    callbacks = [history, progress] + callbacks

    names = ["loss"] + list(metric_fns)
    validation_names = [f"val_{n}" for n in names] if validation_loader is not None else []
    log_keys = names + validation_names + ["lr"]
    context = TrainingContext(model, optimizer, int(epochs), len(loader), log_keys,
                              verbose=verbose)
    for callback in callbacks:
        callback.set_context(context)
    _call(callbacks, "on_train_begin", {})
    for epoch in range(int(epochs)):
        _call(callbacks, "on_epoch_begin", epoch, {})
        learning_rate = float(optimizer.param_groups[0]["lr"])
        logs = _train_epoch(model, loss_fn, optimizer, loader, metric_fns, callbacks, context)
        if validation_loader is not None:
            results = _evaluate(model, loss_fn, validation_loader, metric_fns)
            logs.update({f"val_{name}": value for name, value in results.items()})
        logs["lr"] = learning_rate
        _call(callbacks, "on_epoch_end", epoch, logs)
        if context.stop_training:
            break
    model.eval()  # ready for evaluate/predict and plain calls
    _call(callbacks, "on_train_end", {})
    progress.report_eval_mode()
    return history


def evaluate(model, loss_fn, data, batch_size=256, metrics=("accuracy",)):
    """Loss and metrics of ``model`` on ``data`` in eval mode without gradients.

    Args:
        loss_fn: as in ``fit``, or None to compute metrics only.
        data: ``(X, y)``, a Dataset of ``(x, y)`` samples, or a DataLoader.

    Returns:
        ``{"loss": ..., "<metric>": ...}``; the loss is the batch-size weighted mean.
    """
    if loss_fn is not None:
        check_model_and_loss("evaluate", model, loss_fn)
    metric_fns = _metrics(metrics)
    loader = _loader(_dataset(data, "data", "evaluate"), check_batch_size(batch_size, "evaluate"),
                     False, None, "data", "evaluate")
    return _evaluate(model, loss_fn, loader, metric_fns, "evaluate")


def predict(model, X, batch_size=256):
    """The model's outputs for ``X`` (array, Tensor, Dataset or DataLoader) as one ndarray,
    computed in eval mode without gradients, in batches of ``batch_size``."""
    if isinstance(X, DataLoader):
        loader = X
    elif isinstance(X, (np.ndarray, Tensor, list)):
        loader = DataLoader(TensorDataset(X, names=("X",)), check_batch_size(batch_size, "predict"))
    else:
        loader = DataLoader(X, check_batch_size(batch_size, "predict"))
    outputs = []
    with _eval_mode(model), no_grad():
        for batch in loader:
            inputs = batch[0] if isinstance(batch, tuple) else batch
            outputs.append(_value(model(_tensor(inputs))))
    return np.concatenate(outputs) if outputs else np.empty((0,))


# --- the loop --------------------------------------------------------------------------------
def _train_epoch(model, loss_fn, optimizer, loader, metric_fns, callbacks, context):
    model.train()
    loss_sum, seen, outputs, targets = 0.0, 0, [], []
    with enable_grad():
        for step, (inputs, target) in enumerate(_pairs(loader, "fit")):
            _call(callbacks, "on_batch_begin", step, {})
            optimizer.zero_grad()
            output = model(inputs)
            loss = loss_fn(output, target)
            loss.backward()
            optimizer.step()
            size, value = len(inputs), float(loss.item())
            loss_sum += value * size
            seen += size
            if metric_fns:
                outputs.append(_value(output).copy())
                targets.append(_value(target))
            _call(callbacks, "on_batch_end", step, {"loss": value, "size": size})
            if context.stop_training and not math.isfinite(value):
                break  # TerminateOnNaN: the rest of the epoch would only spread the NaN
    logs = {"loss": loss_sum / seen if seen else math.nan}
    logs.update(_metric_values(metric_fns, targets, outputs, loss_fn))
    return logs


def _evaluate(model, loss_fn, loader, metric_fns, owner="fit"):
    loss_sum, seen, outputs, targets = 0.0, 0, [], []
    with _eval_mode(model), no_grad():
        for inputs, target in _pairs(loader, owner):
            output = model(inputs)
            if loss_fn is not None:
                loss_sum += float(loss_fn(output, target).item()) * len(inputs)
            seen += len(inputs)
            outputs.append(_value(output))
            targets.append(_value(target))
    results = {} if loss_fn is None else {"loss": loss_sum / seen if seen else math.nan}
    results.update(_metric_values(metric_fns, targets, outputs, loss_fn))
    return results


def _metric_values(metric_fns, targets, outputs, loss_fn):
    if not metric_fns or not outputs:
        return {name: math.nan for name in metric_fns}
    y_true, y_pred = np.concatenate(targets), np.concatenate(outputs)
    if type(loss_fn).__name__ == "BCEWithLogitsLoss":
        # Metrics threshold probabilities at 0.5; this loss's model outputs logits.
        # sigmoid(z) = (1 + tanh(z / 2)) / 2 cannot overflow for large |z|.
        y_pred = 0.5 * (1.0 + np.tanh(0.5 * y_pred))
    return {name: float(fn(y_true, y_pred)) for name, fn in metric_fns.items()}


def _pairs(loader, owner):
    for batch in loader:
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            fields = len(batch) if isinstance(batch, (tuple, list)) else 1
            raise ValueError(f"{owner}: each batch must be a pair (inputs, targets); the data "
                             f"gave {fields} field(s)")
        yield _tensor(batch[0]), _tensor(batch[1])


# --- argument handling -----------------------------------------------------------------------
def _metrics(metrics):
    if metrics is None:
        return {}
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    return dict(get_metric(m) for m in metrics)


def _dataset(data, argument, owner="fit"):
    """A Dataset (or DataLoader) from the accepted forms of training/validation data."""
    if isinstance(data, DataLoader):
        return data
    if isinstance(data, (tuple, list)):
        if len(data) != 2:
            raise TypeError(f"{owner}: {argument} must be a pair (X, y), a Dataset or a "
                            f"DataLoader, got a {type(data).__name__} of length {len(data)}")
        X, y = data
        if len(X) != len(y):
            raise ValueError(f"{owner}: {argument}: X has {len(X)} samples but y has {len(y)}; "
                             f"they must match")
        return TensorDataset(X, y)
    if isinstance(data, (np.ndarray, Tensor)) or not (hasattr(data, "__getitem__")
                                                      and hasattr(data, "__len__")):
        raise TypeError(f"{owner}: {argument} must be a pair (X, y), a Dataset or a DataLoader, "
                        f"got {type(data).__name__}; pass (X, y) as one tuple")
    return data


def _split(train_data, validation_data, validation_split, seed):
    train_set = _dataset(train_data, "train_data")
    if validation_split is None:
        if validation_data is None:
            return train_set, None
        return train_set, _dataset(validation_data, "validation_data")
    if validation_data is not None:
        raise ValueError("fit: pass either validation_data or validation_split, not both")
    if (isinstance(validation_split, bool)
            or not isinstance(validation_split, (float, int, np.floating))
            or not 0 < validation_split < 1):
        raise ValueError(f"fit: validation_split must be a fraction in (0, 1), got "
                         f"{validation_split!r}")
    if isinstance(train_set, DataLoader):
        raise ValueError("fit: validation_split needs train_data as (X, y) or a Dataset, not a "
                         "DataLoader; pass validation_data instead")
    fraction = float(validation_split)
    if isinstance(train_set, TensorDataset):
        X_train, X_val, y_train, y_val = train_test_split(*train_set.arrays, test_size=fraction,
                                                          seed=seed)
        return TensorDataset(X_train, y_train), TensorDataset(X_val, y_val)
    train_indices, validation_indices = train_test_split(np.arange(len(train_set)),
                                                         test_size=fraction, seed=seed)
    return Subset(train_set, train_indices), Subset(train_set, validation_indices)


def _loader(dataset, batch_size, shuffle, seed, argument, owner="fit"):
    if isinstance(dataset, DataLoader):
        return dataset
    if len(dataset) == 0:
        raise ValueError(f"{owner}: {argument} is empty")
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, seed=seed, as_tensors=True)


class _eval_mode:
    """Put a model in eval mode and give back the mode it had."""

    def __init__(self, model):
        self.model = model

    def __enter__(self):
        self.was_training = getattr(self.model, "training", True)
        self.model.eval()

    def __exit__(self, *exc_info):
        self.model.train(self.was_training)
        return False


def _call(callbacks, hook, *args):
    for callback in callbacks:
        getattr(callback, hook)(*args)


def _tensor(x):
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


def _value(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)
