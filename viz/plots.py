"""Training pictures with matplotlib: curves, weight histograms, decision boundaries and more.

matplotlib is an optional extra (``pip install numpy-autograd[plot]``), imported only
when a plot is made. Figures are made with pyplot (so ``plt.show()`` shows them) but
nothing here needs a display: on a headless machine matplotlib uses Agg. Every
function returns the Figure and saves it when given ``path=``. Under Jupyter's inline
backend the Figure is closed before it is returned, so the notebook shows it once (as
the cell's value) instead of twice (once more when the cell's open figures are drawn).
"""
from collections.abc import Mapping
from pathlib import Path

import numpy as np

VALIDATION_PREFIX = "val_"


def plot_history(history, metrics=None, path=None, title=None):
    """Training curves: one panel per metric, train and validation per epoch.

    Args:
        history: a History (anything with a ``.history`` dict, as Keras returns), a dict of
            lists ``{"loss": [...], "val_loss": [...], "accuracy": [...], "lr": [...]}``, or a
            list of per-epoch dicts. An ``"epoch"`` entry, when present, gives the x values.
            Several runs on shared axes, one colour each: a dict of named histories,
            ``plot_history({"SGD": history_sgd, "Adam": history_adam})``.
        metrics: the metric names to draw (default: all); "val_" entries pair with their metric.
        path: save the figure there (any format matplotlib writes, by suffix).
        title: the figure's title.
    """
    runs = _named_runs(history)
    names = []
    for run in runs.values():
        names += [name for name in _metric_names(run) if name not in names]
    if metrics is not None:
        missing = [name for name in metrics if name not in names]
        if missing:
            raise ValueError(f"plot_history: no metric {missing} in the history; "
                             f"it has {names}")
        names = list(metrics)
    if not names:
        raise ValueError("plot_history: the history holds no metrics to plot")
    plt = _pyplot()
    columns = min(len(names), 3)
    rows = -(-len(names) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.2 * rows), squeeze=False)
    from matplotlib.ticker import MaxNLocator
    colours = plt.rcParams["axes.prop_cycle"].by_key().get("color", [None])
    for ax, name in zip(axes.flat, names):
        drawn = []
        for index, (run_name, series) in enumerate(runs.items()):
            epochs = series.get("epoch")
            paired = name in series and VALIDATION_PREFIX + name in series
            for key, label, style in ((name, "train" if paired else name, "o-"),
                                      (VALIDATION_PREFIX + name, "validation", "s--")):
                values = series.get(key)
                if values is None:
                    continue
                if run_name is not None:
                    label = f"{run_name} {label}" if paired or key != name else run_name
                x = np.arange(1, len(values) + 1) if epochs is None else epochs
                colour = colours[index % len(colours)] if run_name is not None else None
                ax.plot(x[:len(values)], values, style, markersize=3, label=label, color=colour)
                drawn.append(values)
        values = np.concatenate(drawn) if drawn else np.empty(0)
        if values.size and values.min() > 0 and values.max() / values.min() > 50:
            ax.set_yscale("log")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    return _finish(fig, path, title)


def plot_weight_histograms(before, after=None, names=None, bins=50, path=None, title=None):
    """Histograms of parameter values, one row per parameter: before and after side by side.

    Args:
        before: a model (its ``named_parameters()``) or a state dict ``{name: array}``;
            ``state_dict()`` shares the model's arrays, so snapshot it with copies
            (``{k: np.array(v) for k, v in model.state_dict().items()}``) before training.
        after: the same after training (optional); each row then shares its bins and x range.
        names: the parameter names to draw (default: every floating entry of ``before``).
        bins: number of histogram bins.
    """
    columns = [("before" if after is not None else "values", _named_arrays(before, "before"))]
    if after is not None:
        columns.append(("after", _named_arrays(after, "after")))
    if names is None:
        names = list(columns[0][1])
    for label, arrays in columns:
        missing = [name for name in names if name not in arrays]
        if missing:
            raise ValueError(f"plot_weight_histograms: {label} has no parameter {missing}; "
                             f"it has {list(arrays)}")
    if not names:
        raise ValueError("plot_weight_histograms: there are no parameters to draw")
    plt = _pyplot()
    fig, axes = plt.subplots(len(names), len(columns), squeeze=False,
                             figsize=(4.2 * len(columns), 1.9 * len(names) + 0.8))
    for row, name in enumerate(names):
        # a diverged run has NaN/Inf weights: bin the finite ones and count the rest
        values = [arrays[name].ravel() for _, arrays in columns]
        finite = [v[np.isfinite(v)] for v in values]
        low = min((v.min() for v in finite if v.size), default=0.0)
        high = max((v.max() for v in finite if v.size), default=1.0)
        edges = np.linspace(low, high if high > low else low + 1e-6, bins + 1)
        for column, ((label, _), data, kept) in enumerate(zip(columns, values, finite)):
            ax = axes[row, column]
            ax.hist(kept, bins=edges, color=("#4a7ab5", "#c0392b")[column], alpha=0.85)
            ax.set_title(f"{name} {tuple(columns[column][1][name].shape)}: {label}", fontsize=9)
            text = f"mean {kept.mean():.3g}\nstd {kept.std():.3g}" if kept.size else ""
            if kept.size < data.size:
                text += f"\n{data.size - kept.size:,} NaN/Inf"
            ax.text(0.98, 0.95, text, transform=ax.transAxes, ha="right", va="top", fontsize=7,
                    color="black" if kept.size == data.size else "#c0392b")
            ax.set_xlabel("value", fontsize=8)
            ax.set_ylabel("count", fontsize=8)
            ax.tick_params(labelsize=7)
    return _finish(fig, path, title)


def plot_decision_boundary(predict, X, y=None, resolution=200, margin=0.5, path=None,
                           title=None, feature_names=("x1", "x2"), class_names=None):
    """Class regions of a 2-D classifier with the data on top.

    Args:
        predict: function from an (M, 2) array (of ``X``'s dtype) to class labels (M,),
            class scores (M, C) (argmax is taken), or one score per point (M,) / (M, 1):
            a probability when all values lie in [0, 1] (threshold 0.5), else a logit
            (threshold 0). It may return a Tensor.
        X: the points, shape (N, 2). y: their labels (N,), colouring the points.
        resolution: grid points per axis. margin: how far the grid reaches past the data.
    """
    X = _array(X)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: X must have shape (N, 2), got {X.shape}")
    dtype = X.dtype if X.dtype.kind == "f" else np.float64
    low, high = X.min(axis=0) - margin, X.max(axis=0) + margin
    xs, ys = (np.linspace(low[i], high[i], resolution) for i in range(2))
    grid_x, grid_y = np.meshgrid(xs, ys)
    grid = np.column_stack([grid_x.ravel(), grid_y.ravel()]).astype(dtype)
    classes = _predicted_classes(_array(predict(grid)), len(grid), "plot_decision_boundary")
    y = None if y is None else _array(y).astype(int).ravel()
    # any integer labels (also -1/1): colour by position among the classes present
    labels = np.unique(classes) if y is None else np.union1d(classes, y)
    region = np.searchsorted(labels, classes).reshape(grid_x.shape)
    plt = _pyplot()
    from matplotlib.colors import BoundaryNorm, ListedColormap
    colors = plt.get_cmap("tab10")(np.arange(len(labels)) % 10)
    cmap = ListedColormap(colors)
    fig, ax = plt.subplots(figsize=(5.5, 4.8))
    ax.contourf(grid_x, grid_y, region, levels=np.arange(-0.5, len(labels)), cmap=cmap,
                norm=BoundaryNorm(np.arange(-0.5, len(labels)), cmap.N), alpha=0.3)
    if len(labels) > 1:
        ax.contour(grid_x, grid_y, region, levels=np.arange(0.5, len(labels) - 1),
                   colors="#333333", linewidths=0.8)
    if y is None:
        ax.scatter(X[:, 0], X[:, 1], s=12, color="#333333", edgecolors="white", linewidths=0.3)
    else:
        for index, label in enumerate(labels):
            if not np.any(y == label):
                continue
            name = class_names[label] if class_names is not None else f"class {label}"
            points = X[y == label]
            ax.scatter(points[:, 0], points[:, 1], s=14, color=colors[index],
                       edgecolors="black", linewidths=0.3, label=name)
        ax.legend(loc="best", fontsize=8)
    ax.set_xlabel(feature_names[0])
    ax.set_ylabel(feature_names[1])
    return _finish(fig, path, title)


def plot_predictions_3d(X, predictions, targets=None, path=None, title=None,
                        feature_names=("x1", "x2", "x3"), zlabel="prediction"):
    """A 3-D scatter of predictions.

    With 2-D inputs, X (N, 2), the height is the prediction (N,) and ``targets`` (N,)
    are drawn beside it, so a regression surface can be compared with the data. With
    3-D inputs, X (N, 3), the points are coloured by predicted class (scores (N, C)
    are reduced by argmax) and points whose ``targets`` differ are marked with an x.
    """
    X = _array(X)
    if X.ndim != 2 or X.shape[1] not in (2, 3):
        raise ValueError(f"plot_predictions_3d: X must have shape (N, 2) or (N, 3), got {X.shape}")
    predictions = _array(predictions)
    plt = _pyplot()
    fig = plt.figure(figsize=(6.4, 5.2))
    ax = fig.add_subplot(projection="3d")
    if X.shape[1] == 2:
        values = predictions.reshape(len(X), -1)[:, 0] if predictions.size == len(X) else None
        if values is None:
            raise ValueError(f"plot_predictions_3d: with X of shape {X.shape} predictions must "
                             f"hold one value per point, got shape {predictions.shape}")
        ax.scatter(X[:, 0], X[:, 1], values, c=values, cmap="viridis", s=10, label="prediction")
        if targets is not None:
            ax.scatter(X[:, 0], X[:, 1], _array(targets).reshape(len(X)), color="#d62728",
                       marker="x", s=10, alpha=0.6, label="target")
            ax.legend(fontsize=8)
        ax.set_zlabel(zlabel)
    else:
        classes = _predicted_classes(predictions, len(X), "plot_predictions_3d")
        # One colour per class, class k always the k-th of tab10 (as in the other plots).
        count = max(int(classes.max(initial=0)) + 1, 2)
        colours = plt.get_cmap("tab10", 10).resampled(count) if count > 10 else \
            plt.matplotlib.colors.ListedColormap(plt.get_cmap("tab10").colors[:count])
        scatter = ax.scatter(X[:, 0], X[:, 1], X[:, 2], c=classes, cmap=colours, s=12,
                             vmin=-0.5, vmax=count - 0.5)
        if targets is not None:
            wrong = classes != _array(targets).astype(int).ravel()
            ax.scatter(X[wrong, 0], X[wrong, 1], X[wrong, 2], color="black", marker="x", s=30,
                       label=f"wrong ({int(wrong.sum())})")
            ax.legend(fontsize=8)
        # pad: the colorbar would otherwise sit on the z-axis label, which matplotlib
        # draws outside the 3-D axes' box.
        fig.colorbar(scatter, ax=ax, shrink=0.6, pad=0.12, label="predicted class",
                     ticks=range(count))
        ax.set_zlabel(feature_names[2])
    ax.set_xlabel(feature_names[0])
    ax.set_ylabel(feature_names[1])
    return _finish(fig, path, title)


def plot_confusion_matrix(y_true, y_pred, class_names=None, normalize=False, path=None,
                          title=None, cmap="Blues"):
    """Confusion matrix: rows are true classes, columns predicted, each cell annotated.

    ``y_pred`` may be labels (N,) or scores (N, C) (argmax is taken). With
    ``normalize=True`` each row shows fractions of its true class.
    """
    y_true = _array(y_true).astype(int).ravel()
    y_pred = _predicted_classes(_array(y_pred), len(y_true), "plot_confusion_matrix")
    count = max(int(y_true.max(initial=0)), int(y_pred.max(initial=0))) + 1
    if class_names is not None:
        if len(class_names) < count:
            raise ValueError(f"plot_confusion_matrix: {len(class_names)} class_names for labels "
                             f"up to {count - 1}")
        count = len(class_names)
    matrix = np.bincount(y_true * count + y_pred, minlength=count * count).reshape(count, count)
    shown = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1) if normalize else matrix
    names = list(class_names) if class_names is not None else [str(i) for i in range(count)]
    plt = _pyplot()
    size = max(4.0, 0.55 * count + 2.0)
    fig, ax = plt.subplots(figsize=(size + 1.0, size))
    image = ax.imshow(shown, cmap=cmap, vmin=0)
    fig.colorbar(image, ax=ax, shrink=0.8, label="fraction" if normalize else "count")
    threshold = shown.max() / 2 if shown.size else 0
    for i in range(count):
        for j in range(count):
            text = f"{shown[i, j]:.2f}" if normalize else f"{matrix[i, j]:d}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="white" if shown[i, j] > threshold else "black")
    crowded = count > 5
    ax.set_xticks(range(count), names, rotation=45 if crowded else 0,
                  ha="right" if crowded else "center")
    ax.set_yticks(range(count), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    accuracy = np.trace(matrix) / max(matrix.sum(), 1)
    ax.set_title(f"accuracy {accuracy:.1%}")
    return _finish(fig, path, title)


def plot_image_grid(images, labels=None, predictions=None, class_names=None, ncols=8,
                    max_images=64, path=None, title=None, cmap="gray"):
    """A grid of images titled with their labels, or with predictions (red when wrong).

    ``images``: (N, H, W), (N, H, W, C), (N, C, H, W) with C in 1, 3, 4, or flat
    (N, D) where D is a square (e.g. 784 for (Fashion-)MNIST). ``predictions`` may be
    labels (N,) or scores (N, C).
    """
    images = _images(_array(images))[:max_images]
    count = len(images)
    if count == 0:
        raise ValueError("plot_image_grid: no images to draw")
    labels = None if labels is None else _array(labels).astype(int).ravel()[:count]
    if predictions is not None:
        predictions = _predicted_classes(_array(predictions)[:count], count, "plot_image_grid")
    columns = min(ncols, count)
    rows = -(-count // columns)
    plt = _pyplot()
    fig, axes = plt.subplots(rows, columns, figsize=(1.5 * columns, 1.75 * rows), squeeze=False)

    def name(label):
        return class_names[label] if class_names is not None else str(label)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index >= count:
            continue
        ax.imshow(images[index], cmap=cmap if images[index].ndim == 2 else None)
        if predictions is not None:
            right = labels is None or predictions[index] == labels[index]
            text = name(predictions[index]) if right else \
                f"{name(predictions[index])}\n(true {name(labels[index])})"
            ax.set_title(text, fontsize=8, color="#2a7f2a" if labels is not None and right
                         else ("#c0392b" if not right else "black"))
        elif labels is not None:
            ax.set_title(name(labels[index]), fontsize=8)
    return _finish(fig, path, title)


# --- shared helpers -------------------------------------------------------------------
def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise ImportError("viz plots need matplotlib: pip install matplotlib "
                          "(or pip install numpy-autograd[plot])") from err
    return plt


def _finish(fig, path, title):
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110, facecolor="white")
    if _inline_backend():
        # Jupyter draws every open pyplot figure at the end of the cell, and the returned
        # Figure once more as the cell's value: closed here, it appears once.
        _pyplot().close(fig)
    return fig


def _inline_backend():
    import matplotlib
    return "inline" in matplotlib.get_backend()


def _array(value):
    """An ndarray from a Tensor, array or list (Tensors implement ``__array__``)."""
    return np.asarray(value)


def _named_runs(history):
    """``{run name: series}``; the name is None for a single history."""
    if isinstance(history, Mapping) and not hasattr(history, "history") and history and all(
            hasattr(run, "history") or isinstance(run, Mapping)
            or (isinstance(run, (list, tuple)) and run and isinstance(run[0], Mapping))
            for run in history.values()):
        return {str(name): _history_series(run) for name, run in history.items()}
    return {None: _history_series(history)}


def _history_series(history):
    source = getattr(history, "history", history)
    if isinstance(source, Mapping):
        items = source.items()
    elif isinstance(source, (list, tuple)) and all(isinstance(row, Mapping) for row in source):
        keys = dict.fromkeys(key for row in source for key in row)
        items = ((key, [row.get(key, np.nan) for row in source]) for key in keys)
    else:
        raise TypeError(f"plot_history: expected a History (with .history), a dict of lists or "
                        f"a list of per-epoch dicts, got {type(history).__name__}")
    series = {}
    for key, values in items:
        try:
            series[str(key)] = np.array([float(np.asarray(v)) for v in values], dtype=float)
        except (TypeError, ValueError) as err:
            raise TypeError(f"plot_history: history[{key!r}] must be a list of numbers") from err
    return series


def _metric_names(series):
    names = []
    for key in series:
        if key == "epoch":
            continue
        name = key[len(VALIDATION_PREFIX):] if key.startswith(VALIDATION_PREFIX) else key
        if name not in names:
            names.append(name)
    return names


def _named_arrays(source, which):
    if hasattr(source, "named_parameters"):
        pairs = source.named_parameters()
    elif isinstance(source, Mapping):
        pairs = source.items()
    else:
        raise TypeError(f"plot_weight_histograms: {which} must be a model (with "
                        f"named_parameters()) or a state dict, got {type(source).__name__}")
    arrays = {}
    for name, value in pairs:
        array = np.array(value, copy=True)   # a copy: the "before" snapshot must not move
        if array.dtype.kind == "f" and array.size:
            arrays[name] = array
    return arrays


def _predicted_classes(values, count, who):
    """Class labels from labels (N,), scores (N, C), or one probability/logit per point."""
    if values.ndim == 2 and values.shape[1] > 1:
        if values.shape[0] != count:
            raise ValueError(f"{who}: expected {count} predictions, got shape {values.shape}")
        return values.argmax(axis=1)
    values = values.reshape(-1)
    if values.size != count:
        raise ValueError(f"{who}: expected {count} predictions, got shape {values.shape}")
    if values.dtype.kind in "iub":
        return values.astype(int)
    if np.all(values == np.round(values)) and values.min(initial=0) >= 0 and \
            np.unique(values).size > 2:
        return values.astype(int)
    threshold = 0.5 if values.min(initial=0) >= 0 and values.max(initial=0) <= 1 else 0.0
    return (values > threshold).astype(int)


def _images(images):
    if images.ndim == 2:
        side = int(round(np.sqrt(images.shape[1])))
        if side * side != images.shape[1]:
            raise ValueError(f"plot_image_grid: flat images of {images.shape[1]} values are not "
                             f"square; reshape them to (N, H, W) first")
        return images.reshape(len(images), side, side)
    if images.ndim == 4 and images.shape[1] in (1, 3, 4) and images.shape[-1] not in (1, 3, 4):
        images = images.transpose(0, 2, 3, 1)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4):
        raise ValueError(f"plot_image_grid: expected images of shape (N, H, W), (N, H, W, C), "
                         f"(N, C, H, W) or (N, H*W), got {images.shape}")
    return images
