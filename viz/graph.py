"""draw_graph: the computation graph behind a tensor as a ``graphviz.Digraph``.

The drawing is read from the graph (see ``viz.walk``), optionally collapsed
(``viz.collapse``) and written as DOT (``viz.dot``). ``graphviz`` is imported only
here and only when a graph is drawn, so ``autograd`` and ``nn`` never need it.
"""
import html
from collections.abc import Mapping

from autograd import Tensor

from .collapse import collapse_modules, keep_nearest, scope_depth
from .dot import FONT, dot_lines
from .walk import read_graph

DEFAULT_MAX_NODES = 400
VIEWS = ("forward", "backward")
RANKDIRS = ("TB", "LR", "BT", "RL")


def draw_graph(output, model=None, params=None, *, view="forward", show_shapes=True,
               show_dtypes=False, show_grads=None, rankdir="TB", cluster_modules=True,
               collapse=None, max_nodes=DEFAULT_MAX_NODES, title=None):
    """Draw the graph that produced ``output`` as a ``graphviz.Digraph``.

    Op nodes show the op name and output shape; leaves show parameter names (the
    ``named_parameters()`` path when ``model`` or ``params`` is given), and constants
    appear as their value. Nodes holding NaN or Inf are red. The result displays
    inline in Jupyter; ``g.source`` is the DOT text and ``viz.save`` writes files.

    Args:
        output: the Tensor whose history to draw (usually the loss).
        model: an ``nn.Module``; its parameter, buffer and module names label the drawing.
        params: ``{dotted_name: Tensor}`` naming parameters without a model.
        view: "forward" (data flows to the output) or "backward" (edges reversed: the
            gradient flows from the output to the leaves, edges labelled with gradient shapes).
        show_shapes / show_dtypes: put output shapes / dtypes on the nodes.
        show_grads: put gradient norms on nodes whose ``.grad`` exists (default: only in
            the backward view).
        rankdir: "TB" (top to bottom) or "LR" (left to right); "BT" and "RL" also work.
        cluster_modules: group ops into one nested cluster per module path.
        collapse: draw each module at this nesting depth as one box with its input and
            output shapes and parameter count (1 on a ``Sequential``: one box per layer).
        max_nodes: above this many nodes modules are collapsed (deepest depth that fits),
            then only the nodes nearest the output are kept; the graph label says so.
            ``None`` draws every node.
        title: the graph label's first line (default: a summary of the graph).

    Raises:
        TypeError: ``output`` is not a Tensor, or ``model``/``params`` are not what they should be.
        ValueError: an option has a value outside its choices.
        RuntimeError: the graph was freed by ``backward()`` without ``retain_graph=True``.
        ImportError: the ``graphviz`` Python package is not installed.
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"draw_graph: output must be a Tensor, got {type(output).__name__}")
    _check_choice("view", view, VIEWS)
    _check_choice("rankdir", rankdir, RANKDIRS)
    for name, value in (("collapse", collapse), ("max_nodes", max_nodes)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                  or value < 1):
            raise ValueError(f"draw_graph: {name} must be a positive int or None, got {value!r}")
    named, parameter_sizes, module_types = _names(model, params)
    desc = read_graph(output, named)
    total_ops = desc.op_count
    if collapse is not None:
        desc = collapse_modules(desc, collapse, parameter_sizes, module_types)
    notes = []
    if max_nodes is not None and len(desc.nodes) > max_nodes:
        desc, notes = _shrink(desc, max_nodes, collapse is None, parameter_sizes, module_types)
    backward = view == "backward"
    lines = dot_lines(desc, view, show_shapes, show_dtypes,
                      backward if show_grads is None else show_grads,
                      cluster_modules, module_types)
    label = title if title is not None else _summary(view, total_ops, parameter_sizes,
                                                     module_types.get(""))
    return _digraph(lines, label, notes, rankdir)


def _check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"draw_graph: {name} must be one of {', '.join(map(repr, choices))}, "
                         f"got {value!r}")


def _names(model, params):
    """Names of parameters and buffers by tensor identity, parameter sizes and module types."""
    named, sizes, types = {}, {}, {}
    if model is not None:
        if not hasattr(model, "named_parameters"):
            raise TypeError(f"draw_graph: model must be an nn.Module (with named_parameters()), "
                            f"got {type(model).__name__}")
        buffers = getattr(model, "named_buffers", None)
        for name, buffer in (buffers() if buffers else ()):
            if isinstance(buffer, Tensor):
                named[id(buffer)] = ("buffer", name)
        for name, parameter in model.named_parameters():
            named[id(parameter)] = ("param", name)
            sizes[name] = parameter.size
        modules = getattr(model, "named_modules", None)
        for path, module in (modules() if modules else ()):
            types[path] = type(module).__name__
    if params is not None:
        if not isinstance(params, Mapping):
            raise TypeError(f"draw_graph: params must be a dict of dotted name -> Tensor, "
                            f"got {type(params).__name__}")
        for name, parameter in params.items():
            if not isinstance(parameter, Tensor):
                raise TypeError(f"draw_graph: params[{name!r}] must be a Tensor, "
                                f"got {type(parameter).__name__}")
            named[id(parameter)] = ("param", name)
            sizes[name] = parameter.size
    return named, sizes, types


def _shrink(desc, max_nodes, may_collapse, parameter_sizes, module_types):
    """Fit a large graph under ``max_nodes``: collapse modules at the deepest depth that
    fits, then keep the nodes nearest the output. Returns the graph and label notes."""
    total = len(desc.nodes)
    notes = [f"{total:,} nodes exceed max_nodes={max_nodes}"]
    if may_collapse:
        for depth in range(scope_depth(desc), 0, -1):
            collapsed = collapse_modules(desc, depth, parameter_sizes, module_types)
            if len(collapsed.nodes) <= max_nodes or depth == 1:
                desc = collapsed
                notes.append(f"modules collapsed to depth {depth}")
                break
    if len(desc.nodes) > max_nodes:
        desc = keep_nearest(desc, max_nodes)
        notes.append(f"showing the {len(desc.nodes) - 1:,} nodes nearest the output")
    notes.append("pass max_nodes=None to draw every node")
    return desc, notes


def _summary(view, total_ops, parameter_sizes, model_type):
    parts = [f"{view} graph"]
    if model_type:
        parts[0] += f" of {model_type}"
    parts.append(f"{total_ops:,} op" + ("s" if total_ops != 1 else ""))
    if parameter_sizes:
        parts.append(f"{sum(parameter_sizes.values()):,} parameters")
    return ", ".join(parts)


def _digraph(lines, label, notes, rankdir):
    graphviz = _import_graphviz()
    text = f"<B>{html.escape(label, quote=False)}</B>"
    if notes:
        text += ('<BR/><FONT POINT-SIZE="10" COLOR="#b03030">'
                 + html.escape("; ".join(notes), quote=False) + "</FONT>")
    return graphviz.Digraph(
        name="computation_graph",
        graph_attr={"rankdir": rankdir, "label": f"<{text}>", "labelloc": "t",
                    "fontname": FONT, "fontsize": "13", "bgcolor": "white",
                    "nodesep": "0.25", "ranksep": "0.35"},
        node_attr={"fontname": FONT, "fontsize": "11", "shape": "box",
                   "style": "rounded,filled", "margin": "0.12,0.05"},
        edge_attr={"fontname": FONT, "fontsize": "9", "arrowsize": "0.7", "color": "#606060"},
        body=lines)


def _import_graphviz():
    try:
        import graphviz
    except ImportError as err:
        raise ImportError("draw_graph needs the graphviz Python package: "
                          "pip install graphviz (or pip install numpy-autograd[viz])") from err
    return graphviz
