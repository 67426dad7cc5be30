"""Write a graph description as DOT lines: labels, colours and module clusters.

Lines are built as plain strings (not one ``graphviz`` call per node) because that is
what keeps a 10,000-op graph under a second. Node ids are ``op_N``, ``leaf_N``,
``const_N``, ``module_N``, ``more`` and ``grad_seed``: safe DOT identifiers that
need no quoting.
"""
import html

import numpy as np

from autograd import Tensor

from .walk import shape_text

FONT = "Helvetica"
STYLE = {
    # kind: (fill, border)
    "op": ("#fff4d6", "#c9a227"),
    "param": ("#dbe9f9", "#4a7ab5"),
    "buffer": ("#eeeef6", "#8888aa"),
    "leaf": ("#ececec", "#888888"),
    "module": ("#e2f0e2", "#4c8c4c"),
    "more": ("#ffffff", "#999999"),
}
NONFINITE = ('fillcolor="#ffd0d0" color="#d62728" penwidth=2.5', "#d62728")
GRADIENT_EDGE = "#c0392b"
SPINE = ("op", "module")
CLUSTER_FILLS = ("#f5f7fb", "#eaeef6", "#dfe5f0")


def dot_lines(desc, view="forward", show_shapes=True, show_dtypes=False, show_grads=False,
              cluster_modules=True, module_types=None):
    """The body of a ``digraph`` (node, cluster and edge lines) for ``desc``."""
    backward = view == "backward"
    module_types = module_types or {}
    beside = _beside_their_op(desc)
    by_cluster = {}
    for node in _drawing_order(desc, beside):
        line = _node_line(node, backward, show_shapes, show_dtypes, show_grads,
                          node is desc.output)
        by_cluster.setdefault(node.scope if cluster_modules else "", []).append(line)
    for op, members in beside.items():
        by_cluster.setdefault(op.scope if cluster_modules else "", []).append(
            "\t{rank=same; " + "; ".join(m.id for m in members) + f"; {op.id}}}\n")
    lines = by_cluster.pop("", [])
    if by_cluster:
        lines.extend(_cluster_lines(by_cluster, module_types))
    if backward:
        lines.extend(_seed_lines(desc.output))
    side = {}
    for members in beside.values():
        half = (len(members) + 1) // 2
        side.update((id(member), "left" if index < half else "right")
                    for index, member in enumerate(members))
    lines.extend(_edge_line(edge, backward, show_shapes, side.get(id(edge.source)))
                 for edge in desc.edges)
    return lines


def _beside_their_op(desc):
    """{op: [parameters and constants that only this op reads]}.

    Drawing them on the op's rank keeps every module one rank tall, so the main path
    runs straight down instead of stepping sideways around each module's parameters.
    """
    readers = {}
    for edge in desc.edges:
        readers.setdefault(id(edge.source), []).append(edge.target)
    beside = {}
    for node in desc.nodes:
        if node.kind not in ("param", "buffer", "const"):
            continue
        targets = readers.get(id(node), ())
        if len(targets) == 1 and targets[0].kind == "op" and targets[0].scope == node.scope:
            beside.setdefault(targets[0], []).append(node)
    return beside


def _drawing_order(desc, beside):
    """Nodes in recorded order, except that an op's side inputs flank it (weight, op, bias):
    Graphviz starts each rank in declaration order."""
    aside = {id(member) for members in beside.values() for member in members}
    for node in desc.nodes:
        if id(node) in aside:
            continue
        members = beside.get(node)
        if members:
            half = (len(members) + 1) // 2
            yield from members[:half]
            yield node
            yield from members[half:]
        else:
            yield node


def _cluster_lines(by_cluster, module_types):
    """Nested ``subgraph cluster_<path>`` blocks, parents before children, no recursion.

    Siblings come in the order their first node was recorded, so the layout follows
    the forward pass ("encoder" before "decoder").
    """
    first_seen = {}
    for path in by_cluster:   # dicts keep insertion order: the order of first nodes
        parts = path.split(".")
        for end in range(1, len(parts) + 1):
            first_seen.setdefault(".".join(parts[:end]), len(first_seen))
    lines, open_paths = [], []

    def preorder_key(path):
        parts = path.split(".")
        return [first_seen[".".join(parts[:end])] for end in range(1, len(parts) + 1)]
    for path in sorted(first_seen, key=preorder_key):
        while open_paths and not path.startswith(open_paths[-1] + "."):
            open_paths.pop()
            lines.append("\t" * (len(open_paths) + 1) + "}\n")
        indent = "\t" * (len(open_paths) + 1)
        kind = module_types.get(path)
        label = f"<B>{_escape(path)}</B>" + (f"  {_escape(kind)}" if kind else "")
        fill = CLUSTER_FILLS[min(len(open_paths), len(CLUSTER_FILLS) - 1)]
        lines.append(f'{indent}subgraph "cluster_{_quote(path)}" {{\n')
        lines.append(f'{indent}\tlabel=<{label}> labeljust=l style="rounded,filled" '
                     f'fillcolor="{fill}" color="#9aa5b8" fontsize=10\n')
        lines.extend(indent + line for line in by_cluster.get(path, ()))
        open_paths.append(path)
    while open_paths:
        open_paths.pop()
        lines.append("\t" * (len(open_paths) + 1) + "}\n")
    return lines


def _node_line(node, backward, show_shapes, show_dtypes, show_grads, is_output):
    kind = node.kind
    if kind == "const":
        flag = _nonfinite(node.tensor)
        color = NONFINITE[1] if flag else "#555555"
        return (f'\t{node.id} [label=<{_escape(node.title)}> shape=plaintext style="" '
                f'fontsize=9 fontcolor="{color}" margin=0]\n')
    if kind == "module":
        return _module_line(node, show_shapes, show_dtypes, is_output)
    if kind == "more":
        return (f'\t{node.id} [label=<<I>{_escape(node.title)}</I><BR/><FONT POINT-SIZE="9">'
                f'({node.detail["hidden_ops"]:,} ops) not drawn</FONT>> style="dashed"]\n')
    tensor = node.tensor
    rows = [f"<B>{_escape(node.title)}</B>"]
    if kind == "op":
        if tensor.name:
            rows[0] += f" <I>{_escape(tensor.name)}</I>"
        if backward:
            rows[0] += ' <FONT COLOR="#777777">backward</FONT>'
    if show_shapes or show_dtypes:
        rows.append(_small(_tensor_text(tensor, show_shapes, show_dtypes)))
    grad = tensor.grad
    if show_grads and grad is not None:
        rows.append(_small(f"grad norm {float(np.linalg.norm(np.asarray(grad, np.float64))):.3g}"))
    grad_flag = _nonfinite(grad)
    flag = _nonfinite(tensor) or (grad_flag and "grad " + grad_flag)
    if flag:
        rows.append(f'<FONT COLOR="{NONFINITE[1]}"><B>{flag}</B></FONT>')
        attributes = " " + NONFINITE[0]
    else:
        fill, border = STYLE[kind]
        attributes = f' fillcolor="{fill}" color="{border}"'
        if (kind == "leaf" and not tensor.requires_grad) or kind == "buffer":
            attributes += ' style="rounded,filled,dashed"'
    if is_output:
        attributes += " peripheries=2"
    tooltip = f"{node.title} in {node.scope}" if node.scope else node.title
    return f'\t{node.id} [label=<{"<BR/>".join(rows)}>{attributes} tooltip="{_quote(tooltip)}"]\n'


def _module_line(node, show_shapes, show_dtypes, is_output):
    detail = node.detail
    title = f"<B>{_escape(node.title)}</B>"
    if detail["type"]:
        title += f"  {_escape(detail['type'])}"
    rows = [title]
    inputs = ", ".join(shape_text(shape) for shape in detail["inputs"].values())
    outputs = ", ".join(shape_text(shape) for shape in detail["outputs"].values())
    if show_shapes and (inputs or outputs):
        rows.append(_small(f"{inputs or '-'} &#8594; {outputs or '-'}", escape=False))
    if show_dtypes:
        dtypes = sorted({str(m.tensor.dtype) for m in detail["members"] if m.kind == "op"})
        rows.append(_small(" ".join(dtypes)))
    count = detail["ops"]
    facts = [f"{count} op" + ("s" if count != 1 else "")]
    if detail["params"]:
        facts.append(f"{detail['params']:,} params")
    rows.append(_small(", ".join(facts)))
    flags = sorted({_nonfinite(m.tensor) for m in detail["members"] if m.tensor is not None} - {""})
    if flags:
        rows.append(f'<FONT COLOR="{NONFINITE[1]}"><B>{"/".join(flags)} inside</B></FONT>')
        attributes = NONFINITE[0]
    else:
        attributes = 'fillcolor="{}" color="{}"'.format(*STYLE["module"])
    if is_output:
        attributes += " peripheries=2"
    return (f'\t{node.id} [label=<{"<BR/>".join(rows)}> {attributes} '
            f'tooltip="{_quote(node.title)}" margin="0.15,0.08"]\n')


def _seed_lines(output):
    """The gradient that starts backward: 1 for a one-element output."""
    tensor = output.tensor
    shape = tensor.shape if tensor is not None else ()
    text = "d output = 1" if int(np.prod(shape)) == 1 else f"d output {shape_text(shape)}"
    return [f'\tgrad_seed [label=<<I>{_escape(text)}</I>> shape=plaintext style="" '
            f'fontcolor="{GRADIENT_EDGE}"]\n',
            f'\tgrad_seed -> {output.id} [color="{GRADIENT_EDGE}"]\n']


def _edge_line(edge, backward, show_shapes, side=None):
    """One edge; forward points from input to op, backward from op to input.

    Graphviz draws an edge between two nodes of one rank from its tail on the left to
    its head on the right. An input drawn beside its op (``side`` "left" or "right")
    on the other side than that is written head-first with ``dir=back``: the same
    arrow, drawn to the other side.
    """
    tail, head = (edge.target, edge.source) if backward else (edge.source, edge.target)
    attributes = []
    if edge.source.kind in SPINE and edge.target.kind in SPINE:
        # a heavier edge between two ops keeps the main data path straight
        attributes.append("weight=4")
    elif edge.source.kind == "param" and edge.target.kind == "module":
        # a parameter shared by several boxes (an RNN's time steps): drawn light and
        # left out of the layout, so the boxes stay in one straight chain
        attributes.append('constraint=false color="#9fb6d6"')
    if backward and not edge.carries_grad:
        attributes.append('style=dotted color="#b0b0b0" arrowhead=none arrowtail=none')
    elif backward:
        attributes.append(f'color="{GRADIENT_EDGE}"')
        if show_shapes and edge.shape is not None:
            attributes.append(f'label=" {shape_text(edge.shape)}" fontcolor="{GRADIENT_EDGE}"')
    if side == ("left" if backward else "right"):
        tail, head = head, tail
        attributes.append("dir=back")
    suffix = f" [{' '.join(attributes)}]" if attributes else ""
    return f"\t{tail.id} -> {head.id}{suffix}\n"


def _tensor_text(tensor, show_shapes, show_dtypes):
    parts = []
    if show_shapes:
        parts.append(shape_text(tensor.shape))
    if show_dtypes:
        parts.append(str(tensor.dtype))
    return " ".join(parts)


def _nonfinite(value):
    """Which non-finite values a tensor, array or number holds: "NaN", "Inf", "NaN/Inf" or ""."""
    if value is None:
        return ""
    array = value.data if isinstance(value, Tensor) else np.asarray(value)
    if array.dtype.kind not in "fc" or np.isfinite(array).all():
        return ""
    has_nan, has_inf = bool(np.isnan(array).any()), bool(np.isinf(array).any())
    return "/".join(name for name, present in (("NaN", has_nan), ("Inf", has_inf)) if present)


def _small(text, escape=True):
    return f'<FONT POINT-SIZE="9" COLOR="#444444">{_escape(text) if escape else text}</FONT>'


def _escape(text):
    return html.escape(str(text), quote=False)


def _quote(text):
    """Text for inside a double-quoted DOT string."""
    return str(text).replace("\\", "\\\\").replace('"', '\\"')
