"""viz.draw_graph and viz.save: the DOT text is parsed and checked against the recorded graph."""
import contextlib
import re
import shutil
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import autograd as ag
import nn
import viz
from autograd import Tensor
from autograd.backward import topological_order
from autograd.grad_mode import state

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' not installed")


# --- a small DOT reader for the drawings ----------------------------------------------
def html_label(line):
    """The HTML-like label of a node line, found by balancing angle brackets."""
    start = line.find("label=<")
    if start < 0:
        return None
    depth, index = 0, start + len("label=")
    for position in range(index, len(line)):
        depth += {"<": 1, ">": -1}.get(line[position], 0)
        if depth == 0:
            return line[index + 1:position]
    raise AssertionError(f"unbalanced label in {line!r}")


def label_text(label):
    return re.sub(r"<[^>]+>", "", label.replace("<BR/>", "\n")).replace("&#8594;", "->")


def parse_dot(source):
    """nodes {id: {"text", "line", "cluster"}}, edges [(tail, head, line)],
    clusters {path: parent path}."""
    nodes, edges, clusters, stack = {}, [], {}, []
    for line in source.splitlines():
        stripped = line.strip()
        match = re.match(r'subgraph "cluster_(.*)" \{$', stripped)
        if match:
            clusters[match.group(1)] = stack[-1] if stack else None
            stack.append(match.group(1))
            continue
        if stripped == "}":
            if stack:
                stack.pop()
            continue
        match = re.match(r"(\w+) -> (\w+)", stripped)
        if match:
            tail, head = match.groups()
            if "dir=back" in stripped:     # drawn head-first: the arrow points at the tail
                tail, head = head, tail
            edges.append((tail, head, stripped))
            continue
        match = re.match(r"(\w+) \[", stripped)
        if match and match.group(1) not in ("graph", "node", "edge"):
            nodes[match.group(1)] = {"text": label_text(html_label(stripped)), "line": stripped,
                                     "cluster": stack[-1] if stack else None}
    return nodes, edges, clusters


def only_node_titled(nodes, title):
    """The one node whose label's first line is ``title`` (asserting there is exactly one)."""
    holders = [n for n in nodes.values() if n["text"].split("\n")[0] == title]
    assert len(holders) == 1, title
    return holders[0]


def kind_of(node_id):
    return node_id.rsplit("_", 1)[0]


@contextlib.contextmanager
def scope(path):
    """What nn.Module.__call__ does: ops recorded inside get op.scope = path."""
    previous, state.scope = state.scope, path
    try:
        yield
    finally:
        state.scope = previous


def mlp_like(seed=0, batch=4):
    """Two 'layers' and a loss, recorded under module scopes, with a params dict."""
    rng = np.random.default_rng(seed)
    params = {"enc.fc1.weight": Tensor(rng.standard_normal((3, 5)), requires_grad=True),
              "enc.fc1.bias": Tensor(np.zeros(5), requires_grad=True),
              "head.weight": Tensor(rng.standard_normal((5, 2)), requires_grad=True)}
    x = Tensor(rng.standard_normal((batch, 3, 1)), name="x")
    with scope("enc.fc1"):
        h = (x * params["enc.fc1.weight"]).sum(axis=1) + params["enc.fc1.bias"]
    with scope("enc.act"):
        h = h.tanh()
    with scope("head"):
        out = (h.reshape(batch, 5, 1) * params["head.weight"]).sum(axis=1)
    loss = (out ** 2).mean()
    return loss, params


# --- forward view -----------------------------------------------------------------------
def test_op_nodes_equal_recorded_ops():
    loss, params = mlp_like()
    nodes, edges, _ = parse_dot(viz.draw_graph(loss, params=params).source)
    op_ids = [node_id for node_id in nodes if kind_of(node_id) == "op"]
    recorded = topological_order([loss])
    assert len(op_ids) == len(recorded) == 9
    assert sorted(nodes[i]["text"].split("\n")[0] for i in op_ids) == \
        sorted(node._op.name for node in recorded)
    # each op has one incoming edge per input
    incoming = {}
    for tail, head, _ in edges:
        incoming[head] = incoming.get(head, 0) + 1
    assert sorted(incoming[i] for i in op_ids) == sorted(len(n._inputs) for n in recorded)


def test_every_parameter_once_with_dotted_name_and_shape():
    loss, params = mlp_like()
    nodes, _, _ = parse_dot(viz.draw_graph(loss, params=params).source)
    for name, tensor in params.items():
        holder = only_node_titled(nodes, name)
        assert str(tensor.shape) in holder["text"]
        assert f"{name}\n" in holder["text"]


def test_shared_input_is_one_node_with_an_edge_per_use():
    x = Tensor(np.arange(3.0), requires_grad=True, name="x")
    nodes, edges, _ = parse_dot(viz.draw_graph((x * x).sum()).source)
    x_nodes = [i for i, n in nodes.items() if n["text"].startswith("x\n")]
    assert len(x_nodes) == 1
    assert sum(tail == x_nodes[0] for tail, _, _ in edges) == 2


def test_constants_shown_compactly_and_unnamed_leaves_by_role():
    w = Tensor(np.ones(3), requires_grad=True)
    data = Tensor(np.ones(3))
    nodes, _, _ = parse_dot(viz.draw_graph((w * data * 2.5 + 1).sum()).source)
    constants = sorted(n["text"] for i, n in nodes.items() if kind_of(i) == "const")
    assert constants == ["1", "2.5"]
    texts = [n["text"] for i, n in nodes.items() if kind_of(i) == "leaf"]
    assert sorted(t.split("\n")[0] for t in texts) == ["input", "tensor"]


def test_clusters_match_module_paths_and_nest():
    loss, params = mlp_like()
    nodes, _, clusters = parse_dot(viz.draw_graph(loss, params=params).source)
    assert clusters == {"enc": None, "enc.fc1": "enc", "enc.act": "enc", "head": None}
    recorded = topological_order([loss])
    scopes = sorted(node._op.scope or "" for node in recorded)
    drawn = sorted(n["cluster"] or "" for i, n in nodes.items() if kind_of(i) == "op")
    assert drawn == scopes
    param_clusters = {n["text"].split("\n")[0]: n["cluster"] for n in nodes.values()
                      if n["text"].split("\n")[0] in params}
    assert param_clusters == {"enc.fc1.weight": "enc.fc1", "enc.fc1.bias": "enc.fc1",
                              "head.weight": "head"}


def test_cluster_modules_false_draws_no_clusters():
    loss, params = mlp_like()
    _, _, clusters = parse_dot(viz.draw_graph(loss, params=params, cluster_modules=False).source)
    assert clusters == {}


def test_collapse_draws_each_module_as_one_box_in_order():
    rng = np.random.default_rng(1)
    weights = {f"{i}.weight": Tensor(rng.standard_normal((4, 4)), requires_grad=True)
               for i in range(3)}
    h = Tensor(rng.standard_normal((2, 4, 1)))
    for i in range(3):
        with scope(str(i)):
            h = (h * weights[f"{i}.weight"]).sum(axis=1).tanh().reshape(2, 4, 1)
    loss = h.sum()
    nodes, edges, _ = parse_dot(viz.draw_graph(loss, params=weights, collapse=1).source)
    boxes = {i: n["text"].split("\n")[0] for i, n in nodes.items() if kind_of(i) == "module"}
    assert sorted(boxes.values()) == ["0", "1", "2"]
    by_path = {path: i for i, path in boxes.items()}
    chain = [(boxes[t], boxes[h]) for t, h, _ in edges if t in boxes and h in boxes]
    assert chain == [("0", "1"), ("1", "2")]
    for path in "012":
        text = nodes[by_path[path]]["text"]
        assert "(2, 4, 1) -> (2, 4, 1)" in text
        assert "16 params" in text and "4 ops" in text
    assert not any(kind_of(i) == "op" and nodes[i]["cluster"] for i in nodes)
    assert [kind_of(i) for i in nodes if kind_of(i) not in ("module",)] == ["leaf", "op"]


def test_collapse_at_depth_two_keeps_parent_clusters():
    loss, params = mlp_like()
    nodes, _, clusters = parse_dot(viz.draw_graph(loss, params=params, collapse=2).source)
    boxes = {n["text"].split("\n")[0]: n["cluster"] for i, n in nodes.items()
             if kind_of(i) == "module"}
    assert boxes == {"enc.fc1": "enc", "enc.act": "enc"}
    assert "head" in clusters        # depth-1 module "head" keeps its ops as a cluster
    # head's reshape, multiply and sum, then power and mean outside any module
    assert sum(kind_of(i) == "op" for i in nodes) == 5
    assert not any(n["text"].startswith("enc.fc1.weight") for n in nodes.values())


# --- backward view ----------------------------------------------------------------------
def test_backward_view_reverses_every_edge():
    loss, params = mlp_like()
    loss.backward(retain_graph=True)
    _, forward_edges, _ = parse_dot(viz.draw_graph(loss, params=params).source)
    nodes, backward_edges, _ = parse_dot(
        viz.draw_graph(loss, params=params, view="backward").source)
    forward_pairs = sorted((t, h) for t, h, _ in forward_edges)
    backward_pairs = sorted((h, t) for t, h, _ in backward_edges if t != "grad_seed")
    assert backward_pairs == forward_pairs
    assert [(t, h) for t, h, _ in backward_edges if t == "grad_seed"] == [("grad_seed", "op_8")]
    # gradient edges are labelled with the gradient's shape; the input x gets none
    labels = [re.search(r'label=" ([^"]*)"', line) for _, _, line in backward_edges]
    weight_edge = [line for t, h, line in backward_edges
                   if "enc.fc1.weight" in nodes[h]["text"]][0]
    assert 'label=" (3, 5)"' in weight_edge
    x_edge = [line for t, h, line in backward_edges if nodes[h]["text"].startswith("x\n")][0]
    assert "dotted" in x_edge and "label" not in x_edge
    assert sum(label is not None for label in labels) > 5


def test_backward_view_shows_gradient_norms_that_exist():
    loss, params = mlp_like()
    loss.backward(retain_graph=True)
    nodes, _, _ = parse_dot(viz.draw_graph(loss, params=params, view="backward").source)
    for name, tensor in params.items():
        text = [n["text"] for n in nodes.values() if n["text"].startswith(name + "\n")][0]
        expected = np.linalg.norm(tensor.grad.data)
        shown = float(re.search(r"grad norm (\S+)", text).group(1))
        assert shown == pytest.approx(expected, rel=1e-2)
    forward, _, _ = parse_dot(viz.draw_graph(loss, params=params).source)
    assert not any("grad norm" in n["text"] for n in forward.values())
    shown, _, _ = parse_dot(viz.draw_graph(loss, params=params, show_grads=True).source)
    assert sum("grad norm" in n["text"] for n in shown.values()) == len(params)


def test_freed_graph_says_to_retain_it():
    loss, params = mlp_like()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        viz.draw_graph(loss, params=params)


def test_drawing_leaves_the_graph_unchanged():
    loss, params = mlp_like()
    before = [(id(n), n._inputs) for n in topological_order([loss])]
    viz.draw_graph(loss, params=params, view="backward", collapse=1)
    assert [(id(n), n._inputs) for n in topological_order([loss])] == before
    assert all(p.grad is None for p in params.values())
    loss.backward()
    assert all(p.grad is not None for p in params.values())


# --- highlighting, options, errors --------------------------------------------------------
def test_nan_and_inf_nodes_are_red():
    x = Tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    with np.errstate(all="ignore"):
        y = ag.log(x)                     # NaN at -1, -Inf at 0
        out = (y * 1.0).sum()
    nodes, _, _ = parse_dot(viz.draw_graph(out).source)
    flagged = {n["text"].split("\n")[0]: n for n in nodes.values() if "#d62728" in n["line"]}
    assert set(flagged) == {"log", "multiply", "sum"}
    assert "NaN/Inf" in flagged["log"]["text"]
    assert not any("#d62728" in n["line"] for n in nodes.values()
                   if n["text"].startswith("tensor"))


def test_nan_gradient_is_red_too():
    x = Tensor(np.ones(3), requires_grad=True, name="w")
    out = (x * 2).sum()
    x.grad = Tensor(np.array([0.0, np.nan, 1.0]))
    nodes, _, _ = parse_dot(viz.draw_graph(out, show_grads=True).source)
    (leaf,) = [n for i, n in nodes.items() if kind_of(i) == "leaf"]
    assert "grad NaN" in leaf["text"] and "#d62728" in leaf["line"]
    assert "grad norm nan" in leaf["text"]


def test_nan_inside_collapsed_module_marks_the_box():
    x = Tensor(np.array([-1.0, 2.0]), requires_grad=True)
    with scope("bad"), np.errstate(all="ignore"):
        y = ag.sqrt(x)
    nodes, _, _ = parse_dot(viz.draw_graph(y.sum(), collapse=1).source)
    box = [n for i, n in nodes.items() if kind_of(i) == "module"][0]
    assert "NaN inside" in box["text"] and "#d62728" in box["line"]


def test_shapes_dtypes_and_direction_options():
    x = Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    graph = viz.draw_graph(x.exp().sum(), show_dtypes=True, rankdir="LR")
    nodes, _, _ = parse_dot(graph.source)
    assert "(2, 3) float32" in [n for i, n in nodes.items() if i == "op_0"][0]["text"]
    assert "rankdir=LR" in graph.source
    bare, _, _ = parse_dot(viz.draw_graph(x.exp().sum(), show_shapes=False).source)
    assert bare["op_0"]["text"] == "exp"


def test_title_replaces_the_summary_and_the_summary_counts_ops_and_parameters():
    loss, params = mlp_like()
    summary = "<B>forward graph, 9 ops, 30 parameters</B>"
    assert summary in viz.draw_graph(loss, params=params).source
    assert "<B>My net</B>" in viz.draw_graph(loss, title="My net").source


def test_missing_graphviz_package_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)   # "import graphviz" now fails
    x = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ImportError, match="pip install graphviz"):
        viz.draw_graph(x.sum())


def test_leaf_output_is_one_node():
    x = Tensor(np.ones(2), requires_grad=True, name="w")
    nodes, edges, _ = parse_dot(viz.draw_graph(x).source)
    assert list(nodes) == ["leaf_0"] and edges == []


@pytest.mark.parametrize("kwargs, error, words", [
    ({"view": "sideways"}, ValueError, "view"),
    ({"rankdir": "up"}, ValueError, "rankdir"),
    ({"collapse": 0}, ValueError, "collapse"),
    ({"max_nodes": -3}, ValueError, "max_nodes"),
    ({"params": [1, 2]}, TypeError, "params"),
    ({"params": {"w": np.ones(2)}}, TypeError, "params"),
    ({"model": object()}, TypeError, "model"),
])
def test_bad_options_name_the_argument(kwargs, error, words):
    x = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(error, match=words):
        viz.draw_graph(x.sum(), **kwargs)


def test_output_must_be_a_tensor():
    with pytest.raises(TypeError, match="Tensor"):
        viz.draw_graph(np.ones(3))


# --- large graphs ------------------------------------------------------------------------
def test_deep_graph_draws_without_recursion():
    x = Tensor(np.ones(2), requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    nodes, edges, _ = parse_dot(viz.draw_graph(y, max_nodes=None).source)
    assert sum(kind_of(i) == "op" for i in nodes) == 5000


def test_large_graph_keeps_the_nodes_nearest_the_output_and_says_so():
    x = Tensor(np.ones(2), requires_grad=True)
    y = x
    for _ in range(300):
        y = y.tanh()
    graph = viz.draw_graph(y, max_nodes=50)
    nodes, edges, _ = parse_dot(graph.source)
    assert len(nodes) == 51 and "more" in nodes
    assert "301 nodes exceed max_nodes=50" in graph.source
    assert "max_nodes=None" in graph.source
    assert "251 more nodes" in nodes["more"]["text"]
    assert ("more", "op_250") in [(t, h) for t, h, _ in edges]


def test_large_graph_collapses_modules_first():
    x = Tensor(np.ones(2), requires_grad=True)
    y = x
    for layer in range(10):
        for block in range(2):
            with scope(f"layers.{layer}.block{block}"):
                for _ in range(10):
                    y = y.tanh()
    full = parse_dot(viz.draw_graph(y, max_nodes=None).source)[0]
    assert len(full) == 201
    graph = viz.draw_graph(y, max_nodes=30)
    nodes, edges, _ = parse_dot(graph.source)
    assert "modules collapsed to depth 3" in graph.source
    assert sum(kind_of(i) == "module" for i in nodes) == 20
    graph = viz.draw_graph(y, max_nodes=15)
    assert "modules collapsed to depth 2" in graph.source
    assert sum(kind_of(i) == "module" for i in parse_dot(graph.source)[0]) == 10


# --- saving and rendering -------------------------------------------------------------------
@needs_dot
def test_svg_is_xml_with_parameter_names(tmp_path):
    loss, params = mlp_like()
    path = viz.save(viz.draw_graph(loss, params=params), tmp_path / "graph.svg")
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    texts = " ".join(el.text or "" for el in root.iter() if el.tag.endswith("text"))
    for name in params:
        assert name in texts


@needs_dot
def test_png_and_pdf_are_rendered(tmp_path):
    loss, params = mlp_like()
    graph = viz.draw_graph(loss, params=params, collapse=1)
    assert viz.save(graph, tmp_path / "g.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert viz.save(graph, tmp_path / "sub" / "g.pdf").read_bytes().startswith(b"%PDF")

    def png_width(path):
        return int.from_bytes(path.read_bytes()[16:20], "big")   # IHDR: width, height
    sharp = viz.save(graph, tmp_path / "sharp.png", dpi=192)
    assert png_width(sharp) > 1.8 * png_width(tmp_path / "g.png")
    assert "dpi" not in graph.source


def test_dot_file_is_the_source(tmp_path):
    loss, params = mlp_like()
    graph = viz.draw_graph(loss, params=params)
    assert viz.save(graph, tmp_path / "g.dot").read_text() == graph.source


def test_missing_dot_gives_the_install_hint_and_dot_text_still_works(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    loss, params = mlp_like()
    graph = viz.draw_graph(loss, params=params)
    for suffix in (".svg", ".png", ".pdf"):
        with pytest.raises(viz.GraphvizNotFoundError) as caught:
            viz.save(graph, tmp_path / f"g{suffix}")
        message = str(caught.value)
        assert "apt-get install graphviz" in message and "brew install graphviz" in message
        assert "conda" in message
    assert viz.save(graph, tmp_path / "g.dot").read_text().startswith("digraph")


def test_unknown_suffix_and_non_graph_are_rejected(tmp_path):
    x = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match=r"\.jpg"):
        viz.save(viz.draw_graph(x.sum()), tmp_path / "g.jpg")
    with pytest.raises(TypeError, match="Digraph"):
        viz.save("digraph {}", tmp_path / "g.dot")


@needs_dot
def test_digraph_shows_itself_in_jupyter():
    x = Tensor(np.ones(2), requires_grad=True, name="weights")
    bundle = viz.draw_graph((x * 3).sum())._repr_mimebundle_()
    assert "weights" in bundle["image/svg+xml"]


# --- real nn models -------------------------------------------------------------------------
def small_mlp(seed=0):
    nn.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.LeakyReLU(0.01),
                          nn.Linear(5, 3))
    x = Tensor(np.random.default_rng(seed).standard_normal((4, 6)).astype(np.float32))
    loss = nn.CrossEntropyLoss()(model(x), np.array([0, 2, 1, 2]))
    return model, loss


def test_sequential_collapsed_at_depth_one_is_one_box_per_layer_in_order():
    model, loss = small_mlp()
    nodes, edges, _ = parse_dot(viz.draw_graph(loss, model=model, collapse=1).source)
    boxes = {i: n["text"] for i, n in nodes.items() if kind_of(i) == "module"}
    title_of = {i: text.split("\n")[0].split()[0] for i, text in boxes.items()}
    layers = list(model.named_children())
    assert sorted(title_of.values(), key=int) == [name for name, _ in layers]
    chain = [(title_of[t], title_of[h]) for t, h, _ in edges if t in boxes and h in boxes]
    assert chain == [(str(i), str(i + 1)) for i in range(len(layers) - 1)]
    for box, text in boxes.items():
        layer = dict(layers)[title_of[box]]
        assert type(layer).__name__ in text.split("\n")[0]
        count = sum(p.size for p in layer.parameters())
        assert (f"{count:,} params" in text) == (count > 0)
    assert "(4, 6) -> (4, 5)" in [t for t in boxes.values() if "Linear" in t][0]


def test_model_parameters_once_each_with_dotted_name_and_shape_in_their_clusters():
    model, loss = small_mlp()
    nodes, _, clusters = parse_dot(viz.draw_graph(loss, model=model).source)
    for name, parameter in model.named_parameters():
        holder = only_node_titled(nodes, name)
        assert str(parameter.shape) in holder["text"]
        assert holder["cluster"] == name.rpartition(".")[0]
    recorded = {node._op.scope for node in topological_order([loss])} - {None, ""}
    assert set(clusters) == recorded == {"0", "1", "2", "3"}


def test_nested_modules_nest_clusters_and_collapse_by_depth():
    nn.manual_seed(0)
    model = nn.Sequential(nn.Sequential(nn.Linear(4, 3), nn.Tanh()), nn.Linear(3, 2))
    out = model(Tensor(np.ones((5, 4), np.float32))).sum()
    _, _, clusters = parse_dot(viz.draw_graph(out, model=model).source)
    assert clusters == {"0": None, "0.0": "0", "0.1": "0", "1": None}
    nodes, _, clusters = parse_dot(viz.draw_graph(out, model=model, collapse=2).source)
    boxes = {n["text"].split("\n")[0]: n["cluster"] for i, n in nodes.items()
             if kind_of(i) == "module"}
    assert boxes == {"0.0  Linear": "0", "0.1  Tanh": "0"}
    assert [n["text"].split("\n")[0] for i, n in nodes.items() if n["cluster"] == "1"] == \
        ["1.weight", "linear", "1.bias"]


@needs_dot
def test_mlp_example_smoke_run_writes_every_view(tmp_path):
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parent.parent / "examples" / "mlp_graph.py"
    spec = importlib.util.spec_from_file_location("mlp_graph_example", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    written = example.main(smoke=True, out_dir=tmp_path)
    assert {p.name for p in written} == {f"mlp_{view}{suffix}" for view in example.VIEWS
                                         for suffix in (".dot", ".svg")}
    svg = (tmp_path / "mlp_forward.svg").read_text()
    ET.fromstring(svg)
    assert all(f"{i}.weight" in svg for i in (0, 3, 6, 9, 12))
    nodes, _, _ = parse_dot((tmp_path / "mlp_architecture.dot").read_text())
    assert sum(kind_of(i) == "module" for i in nodes) == 13
