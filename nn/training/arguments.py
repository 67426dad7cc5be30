"""Checks of what ``fit``/``evaluate`` are given, with messages for the usual slips.

The slips are the ones a PyTorch or Keras user makes on the first day: arguments in
another order, a class where an instance belongs, a Keras string, X and y passed
separately, an optimizer built over a previous model's parameters (a notebook cell
re-run). Each message names the function and says what to write instead.
"""
import numpy as np

from autograd import Tensor

from ..optim.optimizer import Optimizer

SIGNATURE = "fit(model, loss_fn, optimizer, (X, y), epochs, ...)"

# Keras's loss strings and the loss objects that compute the same thing here.
KERAS_LOSSES = {
    "sparse_categorical_crossentropy": "nn.CrossEntropyLoss() (on logits)",
    "categorical_crossentropy": "nn.CrossEntropyLoss() (on logits; takes one-hot targets too)",
    "binary_crossentropy": "nn.BCELoss() on probabilities or nn.BCEWithLogitsLoss() on logits",
    "mse": "nn.MSELoss()", "mean_squared_error": "nn.MSELoss()",
    "mae": "nn.L1Loss()", "mean_absolute_error": "nn.L1Loss()",
    "huber": "nn.HuberLoss()",
}


def check_model_and_loss(owner, model, loss_fn):
    """TypeError naming ``owner`` unless ``model`` and ``loss_fn`` are callable objects
    of the right kind (not classes, strings or optimizers)."""
    if isinstance(model, Optimizer):
        raise TypeError(f"{owner}: model is an optimizer ({type(model).__name__}); the order is "
                        f"{SIGNATURE}")
    if isinstance(model, type):
        raise TypeError(f"{owner}: model is the class {model.__name__}; pass an instance, "
                        f"e.g. {model.__name__}(...)")
    if not callable(model):
        raise TypeError(f"{owner}: model must be a callable module, got {type(model).__name__}")
    if isinstance(loss_fn, str):
        suggestion = KERAS_LOSSES.get(loss_fn.lower())
        hint = f"use {suggestion}" if suggestion else "e.g. nn.CrossEntropyLoss() or nn.MSELoss()"
        raise TypeError(f"{owner}: loss_fn={loss_fn!r} is a string; pass a loss object: {hint}")
    if isinstance(loss_fn, type):
        raise TypeError(f"{owner}: loss_fn is the class {loss_fn.__name__}; pass an instance: "
                        f"{loss_fn.__name__}()")
    if isinstance(loss_fn, Optimizer):
        raise TypeError(f"{owner}: loss_fn is an optimizer ({type(loss_fn).__name__}); the order "
                        f"is {SIGNATURE} (loss before optimizer)")
    if not callable(loss_fn):
        raise TypeError(f"{owner}: loss_fn must be callable as loss_fn(outputs, targets), e.g. "
                        f"nn.CrossEntropyLoss(), got {type(loss_fn).__name__}")


def check_optimizer(model, optimizer):
    """TypeError unless ``optimizer`` is an optimizer instance (an ``nn.optim.Optimizer``,
    or anything with ``param_groups``, ``step`` and ``zero_grad``); ValueError when it
    holds none of the model's trainable parameters (it would train nothing, silently)."""
    if isinstance(optimizer, type):
        raise TypeError(f"fit: optimizer is the class {optimizer.__name__}; pass an instance "
                        f"over the model's parameters: {optimizer.__name__}(model.parameters(), "
                        f"lr=...)")
    if isinstance(optimizer, str):
        raise TypeError(f"fit: optimizer={optimizer!r} is a string; pass an optimizer object, "
                        f"e.g. nn.optim.Adam(model.parameters(), lr=1e-3)")
    if not isinstance(optimizer, Optimizer) and not all(
            hasattr(optimizer, name) for name in ("param_groups", "step", "zero_grad")):
        order = (f"; the order is {SIGNATURE} (loss before optimizer)"
                 if callable(optimizer) else "")
        raise TypeError(f"fit: optimizer must be an nn.optim optimizer such as "
                        f"nn.optim.Adam(model.parameters()), got {type(optimizer).__name__}{order}")
    parameters = getattr(model, "parameters", None)
    if parameters is None:
        return
    trainable = {id(p) for p in parameters() if p.requires_grad}
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    if trainable and not trainable & held:
        raise ValueError(
            "fit: the optimizer holds none of the model's trainable parameters, so training "
            "would change nothing. Was it built for another model (e.g. the cell that makes "
            "the model was run again, but not the one that makes the optimizer)? Build it "
            "again: nn.optim.Adam(model.parameters(), lr=...)")


def check_epochs(epochs):
    """``epochs`` must be an int >= 1; an array there means X and y were passed apart."""
    if isinstance(epochs, (np.ndarray, Tensor, list)):
        shape = np.shape(epochs.data if isinstance(epochs, Tensor) else epochs)
        raise TypeError(f"fit: epochs got an array of shape {shape}: pass the training data "
                        f"as one tuple, {SIGNATURE.replace('epochs', 'epochs=10')}, not X and y "
                        f"as two arguments")
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        shown = repr(epochs) if isinstance(epochs, (int, float, str)) else type(epochs).__name__
        raise ValueError(f"fit: epochs must be an integer >= 1, got {shown}")
