"""Attention weights as heatmaps: which keys each query looks at, one panel per head."""
from pathlib import Path

import numpy as np

from .plots import _pyplot


def plot_attention(weights, query_labels=None, key_labels=None, head_names=None, ncols=4,
                   path=None, title=None, cmap="viridis"):
    """Heatmap of attention weights: rows are queries, columns keys.

    Args:
        weights: (L, S) for one map, or (H, L, S) for one panel per head (what
            ``nn.MultiheadAttention`` returns with ``average_attn_weights=False`` for one
            sample: pick it with ``weights[0]``). Tensors, arrays or lists.
        query_labels, key_labels: tick labels (e.g. the characters of the sequence), L and
            S of them; for a square map the query labels serve as key labels too.
        head_names: panel titles (default "head 0", "head 1", ... when H > 1).
        ncols: panels per row.
        path: save the figure there (any format matplotlib writes, by suffix).
        title: the figure's title.

    Returns the Figure. Raises ValueError for other ranks or label counts that do not
    match the weights.
    """
    maps = np.asarray(weights, dtype=np.float64)
    if maps.ndim == 2:
        maps = maps[None]
    elif maps.ndim != 3:
        raise ValueError(f"plot_attention: expected weights of shape (L, S) or (heads, L, S), "
                         f"got shape {maps.shape}; for a batch pick one sample, weights[i]")
    heads, length, source = maps.shape
    if key_labels is None and query_labels is not None and length == source:
        key_labels = query_labels
    for name, labels, count in (("query_labels", query_labels, length),
                                ("key_labels", key_labels, source)):
        if labels is not None and len(labels) != count:
            raise ValueError(f"plot_attention: {len(labels)} {name} for weights of shape "
                             f"{np.shape(weights)} (expected {count})")
    if head_names is None:
        head_names = [f"head {h}" for h in range(heads)] if heads > 1 else [None]
    elif len(head_names) != heads:
        raise ValueError(f"plot_attention: {len(head_names)} head_names for {heads} heads")
    plt = _pyplot()
    columns = min(heads, ncols)
    rows = -(-heads // columns)
    side = min(max(2.5, 0.18 * max(length, source) + 1.5), 7.0)
    fig, axes = plt.subplots(rows, columns, figsize=(side * columns + 1.2, side * rows),
                             squeeze=False, layout="constrained")
    top = float(np.nanmax(maps)) if np.isfinite(maps).any() else 1.0
    for ax in axes.flat[heads:]:
        ax.axis("off")
    for ax, matrix, name in zip(axes.flat, maps, head_names):
        image = ax.imshow(matrix, cmap=cmap, vmin=0.0, vmax=max(top, 1e-12), aspect="auto")
        _ticks(ax.set_yticks, length, query_labels)
        _ticks(ax.set_xticks, source, key_labels, rotation=90)
        ax.set_xlabel("key")
        ax.set_ylabel("query")
        if name is not None:
            ax.set_title(name)
    fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label="attention weight")
    if title:
        fig.suptitle(title)
    if path is not None:  # constrained layout (a shared colorbar defeats tight_layout)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110, facecolor="white")
    return fig


def _ticks(set_ticks, count, labels, rotation=0):
    """Every position labelled when given labels (or few enough to read), else matplotlib's."""
    if labels is not None:
        set_ticks(range(count), [str(label) for label in labels], rotation=rotation)
    elif count <= 20:
        set_ticks(range(count))
