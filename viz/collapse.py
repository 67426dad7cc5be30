"""Make big graphs readable: modules collapsed into boxes, or only the nodes nearest the output."""
from collections import deque

from .walk import Edge, GraphDescription, Node, owner_path


def scope_depth(desc):
    """The deepest module nesting among the ops (0 when no op ran inside a module)."""
    return max((node.scope.count(".") + 1 for node in desc.nodes
                if node.kind == "op" and node.scope), default=0)


def collapse_modules(desc, depth, parameter_sizes=None, module_types=None):
    """Draw every module at nesting ``depth`` as one box (the architecture view).

    Ops of a module at that depth or deeper, the parameters and buffers it owns and the
    constants its ops read are absorbed into the module's box. A box knows its input and
    output shapes, how many ops it holds and its parameter count (from
    ``parameter_sizes``, ``{dotted_name: size}``, when given). Ops outside any module at
    that depth stay as they are.
    """
    parameter_sizes = parameter_sizes or {}
    module_types = module_types or {}

    def group_of_path(path):
        if not path:
            return None
        parts = path.split(".")
        return ".".join(parts[:depth]) if len(parts) >= depth else None

    group = {}
    for node in desc.nodes:
        if node.kind == "op":
            path = group_of_path(node.scope)
        elif node.kind in ("param", "buffer"):
            path = group_of_path(owner_path(node.title))
        else:
            continue
        if path is not None:
            group[node] = path
    for edge in desc.edges:
        # a constant has one reader; it disappears into that reader's box
        if edge.source.kind == "const" and edge.target in group:
            group[edge.source] = group[edge.target]

    boxes, nodes = {}, []
    for node in desc.nodes:
        path = group.get(node)
        if path is None:
            nodes.append(node)
        elif path not in boxes:
            box = Node(f"module_{len(boxes)}", "module", path, None, path.rpartition(".")[0],
                       {"type": module_types.get(path), "inputs": {}, "outputs": {}, "ops": 0,
                        "params": _parameter_count(path, parameter_sizes), "members": []})
            boxes[path] = box
            nodes.append(box)
        if path is not None:
            box = boxes[path]
            box.detail["members"].append(node)
            if node.kind == "op":
                box.detail["ops"] += 1

    def drawn(node):
        path = group.get(node)
        return node if path is None else boxes[path]

    edges, seen = [], {}
    for edge in desc.edges:
        source, target = drawn(edge.source), drawn(edge.target)
        if source is target:
            continue
        if target.kind == "module" and edge.source.kind not in ("param", "buffer"):
            # a parameter outside the box is shared (an RNN's weights feed every time
            # step's box); its edge shows it, the box lists the data it reads
            target.detail["inputs"][id(edge.source)] = edge.shape
        if source.kind == "module":
            source.detail["outputs"][id(edge.source)] = edge.shape
        key = (id(source), id(target))
        if key in seen:
            seen[key].carries_grad |= edge.carries_grad
            continue
        seen[key] = Edge(source, target, edge.carries_grad, edge.shape)
        edges.append(seen[key])
    output = drawn(desc.output)
    if output.kind == "module" and desc.output.tensor is not None:
        output.detail["outputs"][id(desc.output)] = desc.output.tensor.shape
    return GraphDescription(nodes, edges, output)


def _parameter_count(path, parameter_sizes):
    prefix = path + "."
    return sum(size for name, size in parameter_sizes.items() if name.startswith(prefix))


def keep_nearest(desc, max_nodes):
    """Keep the ``max_nodes`` nodes nearest the output; one "more" node stands for the rest."""
    if len(desc.nodes) <= max_nodes:
        return desc
    inputs_of = {}
    for edge in desc.edges:
        inputs_of.setdefault(id(edge.target), []).append(edge.source)
    kept = {id(desc.output)}
    queue = deque([desc.output])
    while queue and len(kept) < max_nodes:
        for source in inputs_of.get(id(queue.popleft()), ()):
            if id(source) not in kept and len(kept) < max_nodes:
                kept.add(id(source))
                queue.append(source)
    hidden = [node for node in desc.nodes if id(node) not in kept]
    more = Node("more", "more", f"{len(hidden):,} more nodes", None, "",
                {"hidden": len(hidden), "hidden_ops": sum(n.kind == "op" for n in hidden)})
    nodes = [more] + [node for node in desc.nodes if id(node) in kept]
    edges, fed_by_more = [], set()
    for edge in desc.edges:
        if id(edge.target) not in kept:
            continue
        if id(edge.source) in kept:
            edges.append(edge)
        elif id(edge.target) not in fed_by_more:
            fed_by_more.add(id(edge.target))
            edges.append(Edge(more, edge.target, edge.carries_grad, None))
    return GraphDescription(nodes, edges, desc.output)
