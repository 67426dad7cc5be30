"""Read a recorded graph into a plain description: nodes and edges, nothing drawn yet.

The graph is read through autograd's public graph API only (``grad_fn``, ``inputs``,
``requires_grad``, ``name``) and is never changed. The walk is iterative, so a graph
thousands of ops deep draws as well as a shallow one.
"""
from dataclasses import dataclass

import numpy as np

from autograd import Tensor

FREED_GRAPH_MESSAGE = (
    "draw_graph: the graph behind this tensor was freed by an earlier backward() "
    "(op '{op}' no longer knows its inputs). Draw the graph before calling backward(), "
    "or call backward(retain_graph=True) to keep it for drawing.")


@dataclass(eq=False, slots=True)
class Node:
    """One box in the drawing.

    kind: "op" (a recorded op's result), "param" / "buffer" (a module's named tensor),
        "leaf" (any other leaf tensor), "const" (a value shown compactly), "module"
        (a collapsed module), "more" (nodes left out of a very large graph).
    title: the op name, dotted parameter name, leaf name or constant's value text.
    tensor: the Tensor behind the node (None for Python constants and modules).
    scope: dotted module path the node belongs to ("" at top level).
    detail: extra facts for module boxes and the "more" node.
    """

    id: str
    kind: str
    title: str
    tensor: object = None
    scope: str = ""
    detail: dict = None


@dataclass(eq=False, slots=True)
class Edge:
    """Data flowing from ``source`` into ``target`` in the forward pass.

    carries_grad: a gradient flows back along this edge (the source requires grad).
    shape: the shape of the value on the edge, which is also its gradient's shape.
    """

    source: Node
    target: Node
    carries_grad: bool
    shape: tuple = None


@dataclass(eq=False)
class GraphDescription:
    """Nodes (each after the nodes it reads), edges and the output node."""

    nodes: list
    edges: list
    output: Node

    @property
    def op_count(self):
        return sum(1 for node in self.nodes if node.kind == "op")


def read_graph(output, names=None):
    """Describe the graph that produced ``output``.

    Args:
        output: the Tensor whose history is drawn.
        names: ``{id(tensor): ("param" | "buffer", dotted_name)}`` for named leaves.

    Raises:
        RuntimeError: a node's graph was freed by ``backward()`` without ``retain_graph``.
    """
    names = names or {}
    nodes, edges = [], []
    node_of = {}
    counters = {"op": 0, "leaf": 0, "const": 0}

    def new_id(prefix):
        number = counters[prefix]
        counters[prefix] = number + 1
        return f"{prefix}_{number}"

    def leaf_node(tensor):
        node = node_of.get(id(tensor))
        if node is None:
            node = _leaf(tensor, names.get(id(tensor)), new_id)
            node_of[id(tensor)] = node
            nodes.append(node)
        return node

    if output.grad_fn is None:
        return GraphDescription(nodes, edges, leaf_node(output))
    stack = [(output, False)]
    expanding = set()
    while stack:
        tensor, inputs_done = stack.pop()
        key = id(tensor)
        if inputs_done:
            op = tensor.grad_fn
            node = Node(new_id("op"), "op", op.name, tensor, op.scope or "")
            for value in tensor.inputs:
                if isinstance(value, Tensor):
                    source = node_of[id(value)] if value.grad_fn is not None else leaf_node(value)
                    if source.kind == "const":
                        # one small node per use reads better than long edges to one shared value
                        node_of.pop(id(value))
                        source.scope = node.scope
                    edges.append(Edge(source, node, value.requires_grad, value.shape))
                else:
                    source = Node(new_id("const"), "const", constant_text(value), value, node.scope)
                    nodes.append(source)
                    edges.append(Edge(source, node, False, np.shape(value)))
            nodes.append(node)
            node_of[key] = node
            continue
        if key in node_of or key in expanding:
            continue
        try:
            inputs = tensor.inputs
        except RuntimeError:
            raise RuntimeError(FREED_GRAPH_MESSAGE.format(op=tensor.grad_fn.name)) from None
        expanding.add(key)
        stack.append((tensor, True))
        for value in reversed(inputs):
            if (isinstance(value, Tensor) and value.grad_fn is not None
                    and id(value) not in node_of and id(value) not in expanding):
                stack.append((value, False))
    return GraphDescription(nodes, edges, node_of[id(output)])


def _leaf(tensor, named, new_id):
    """The node of a leaf tensor: a named parameter/buffer, a small constant, or a plain leaf."""
    if named is not None:
        kind, name = named
        return Node(new_id("leaf"), kind, name, tensor, owner_path(name))
    if tensor.name is None and not tensor.requires_grad and tensor.size == 1:
        return Node(new_id("const"), "const", constant_text(tensor.data), tensor)
    title = tensor.name or ("tensor" if tensor.requires_grad else "input")
    return Node(new_id("leaf"), "leaf", title, tensor)


def owner_path(name):
    """The module path that owns a dotted parameter name: "encoder.fc1.weight" -> "encoder.fc1"."""
    return name.rpartition(".")[0]


def constant_text(value):
    """A short text for a constant input: its value when it is one number, else its shape."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, float, complex, np.number)):
        return f"{value:.4g}" if isinstance(value, (float, np.floating)) else str(value)
    array = np.asarray(value)
    if array.size == 1:
        return constant_text(array.reshape(()).item())
    return f"array {shape_text(array.shape)}"


def shape_text(shape):
    """``(32, 256)``; a 0-d shape reads "scalar"."""
    return "scalar" if shape == () else str(tuple(shape))
