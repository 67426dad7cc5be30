"""viz: pictures of the library's own objects.

- ``draw_graph(output, model=...)``: the computation graph as a ``graphviz.Digraph``
  (forward or backward view, module clusters, collapsed architecture boxes).
- ``save(graph, path)``: ``.dot``, ``.svg``, ``.png`` or ``.pdf`` by suffix.
- ``plot_*``: training curves, weight histograms, decision boundaries, 3-D scatters,
  confusion matrices, image grids and attention heatmaps with matplotlib (imported
  only when plotting).
"""
from nn.engine_check import check_autograd

check_autograd()  # name a clash with HIPS autograd before a confusing ImportError

from .attention import plot_attention  # noqa: E402
from .graph import draw_graph  # noqa: E402
from .save import GraphvizNotFoundError, save  # noqa: E402
from .plots import (plot_confusion_matrix,  # noqa: E402
                    plot_decision_boundary, plot_history,
                    plot_image_grid, plot_predictions_3d, plot_weight_histograms)

__all__ = ["draw_graph", "save", "GraphvizNotFoundError", "plot_history",
           "plot_weight_histograms", "plot_decision_boundary", "plot_predictions_3d",
           "plot_confusion_matrix", "plot_image_grid", "plot_attention"]
