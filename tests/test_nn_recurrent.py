"""RNN, LSTM, GRU and their cells against PyTorch 2.13 (float64, weights copied by
state_dict key), plus long sequences, dropout between layers, and errors."""
import sys
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
import nn
from autograd import Tensor

RTOL, ATOL = 1e-9, 1e-10
LAYERS = {"RNN_TANH": ("RNN", {"nonlinearity": "tanh"}),
          "RNN_RELU": ("RNN", {"nonlinearity": "relu"}),
          "LSTM": ("LSTM", {}), "GRU": ("GRU", {})}


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def twins(torch, class_name, *args, **kwargs):
    """Our module and PyTorch's, ours holding a copy of PyTorch's weights by state_dict key."""
    theirs = getattr(torch.nn, class_name)(*args, **kwargs).double()
    ours = getattr(nn, class_name)(*args, **kwargs, dtype=np.float64)
    reference = theirs.state_dict()
    assert list(ours.state_dict()) == list(reference)
    ours.load_state_dict({key: value.numpy().copy() for key, value in reference.items()})
    return ours, theirs


def assert_close(mine, reference, what):
    np.testing.assert_allclose(np.asarray(mine.data if isinstance(mine, Tensor) else mine),
                               reference.detach().numpy(), rtol=RTOL, atol=ATOL, err_msg=what)


def flat(result):
    """(output, h_n) or (output, (h_n, c_n)) as a flat list."""
    output, final = result
    return [output, *final] if isinstance(final, tuple) else [output, final]


def backward_with_cotangents(torch, ours, theirs, seed=0):
    """Backward sum(out * cotangent) over every output on both sides, same cotangents."""
    rng = np.random.default_rng(seed)
    cotangents = [rng.standard_normal(out.shape) for out in ours]
    sum((out * cot).sum() for out, cot in zip(ours, cotangents)).backward()
    sum((out * torch.from_numpy(cot)).sum() for out, cot in zip(theirs, cotangents)).backward()


@st.composite
def layer_configs(draw):
    return dict(
        mode=draw(st.sampled_from(sorted(LAYERS))), steps=draw(st.integers(1, 4)),
        batch=draw(st.integers(1, 3)), input_size=draw(st.integers(1, 3)),
        hidden_size=draw(st.integers(1, 3)), num_layers=draw(st.integers(1, 2)),
        bidirectional=draw(st.booleans()), batch_first=draw(st.booleans()),
        bias=draw(st.booleans()), initial=draw(st.booleans()), batched=draw(st.booleans()),
        seed=draw(st.integers(0, 2 ** 16)))


@settings(max_examples=40)
@given(layer_configs())
def test_layers_match_torch_outputs_and_every_gradient(torch, config):
    class_name, extra = LAYERS[config["mode"]]
    torch.manual_seed(config["seed"])
    ours, theirs = twins(torch, class_name, config["input_size"], config["hidden_size"],
                         num_layers=config["num_layers"], bias=config["bias"],
                         batch_first=config["batch_first"],
                         bidirectional=config["bidirectional"], **extra)
    rng = np.random.default_rng(config["seed"])
    steps, batch = config["steps"], config["batch"]
    shape = ((batch, steps) if config["batch_first"] else (steps, batch)) \
        if config["batched"] else (steps,)
    x = rng.standard_normal(shape + (config["input_size"],))
    directions = 2 if config["bidirectional"] else 1
    state_shape = (config["num_layers"] * directions,) + ((batch,) if config["batched"] else ()) \
        + (config["hidden_size"],)
    states = [rng.standard_normal(state_shape) for _ in range(2 if class_name == "LSTM" else 1)]

    our_leaves = [Tensor(x, requires_grad=True)] + [Tensor(s, requires_grad=True) for s in states]
    torch_leaves = [torch.tensor(a, requires_grad=True) for a in [x] + states]
    if config["initial"]:
        hx, thx = our_leaves[1:], torch_leaves[1:]
        hx, thx = (tuple(hx), tuple(thx)) if class_name == "LSTM" else (hx[0], thx[0])
        our_out, torch_out = flat(ours(our_leaves[0], hx)), flat(theirs(torch_leaves[0], thx))
    else:
        our_out, torch_out = flat(ours(our_leaves[0])), flat(theirs(torch_leaves[0]))
        our_leaves, torch_leaves = our_leaves[:1], torch_leaves[:1]
    for index, (mine, reference) in enumerate(zip(our_out, torch_out)):
        assert mine.shape == tuple(reference.shape), f"output {index} shape"
        assert_close(mine, reference, f"output {index}")

    backward_with_cotangents(torch, our_out, torch_out, config["seed"])
    for index, (mine, reference) in enumerate(zip(our_leaves, torch_leaves)):
        assert_close(mine.grad, reference.grad, f"gradient of input {index} (x, h0, c0)")
    their_params = dict(theirs.named_parameters())
    for name, parameter in ours.named_parameters():
        assert_close(parameter.grad, their_params[name].grad, f"gradient of {name}")


@settings(max_examples=25)
@given(st.sampled_from(["RNNCell", "LSTMCell", "GRUCell"]), st.integers(1, 3), st.integers(1, 3),
       st.integers(1, 3), st.booleans(), st.booleans(), st.booleans(), st.integers(0, 999))
def test_cells_match_torch(torch, class_name, batch, n_in, hidden, bias, batched, initial, seed):
    torch.manual_seed(seed)
    kwargs = {"nonlinearity": "relu"} if class_name == "RNNCell" and seed % 2 else {}
    ours, theirs = twins(torch, class_name, n_in, hidden, bias=bias, **kwargs)
    rng = np.random.default_rng(seed)
    lead = (batch,) if batched else ()
    arrays = [rng.standard_normal(lead + (n_in,))]
    if initial:
        arrays += [rng.standard_normal(lead + (hidden,))
                   for _ in range(2 if class_name == "LSTMCell" else 1)]
    our_leaves = [Tensor(a, requires_grad=True) for a in arrays]
    torch_leaves = [torch.tensor(a, requires_grad=True) for a in arrays]
    state, torch_state = None, None
    if initial:
        state, torch_state = ((tuple(our_leaves[1:]), tuple(torch_leaves[1:]))
                              if class_name == "LSTMCell" else (our_leaves[1], torch_leaves[1]))
    mine, reference = ours(our_leaves[0], state), theirs(torch_leaves[0], torch_state)
    mine, reference = ([mine], [reference]) if class_name != "LSTMCell" else (mine, reference)
    for out, ref in zip(mine, reference):
        assert out.shape == tuple(ref.shape)
        assert_close(out, ref, f"{class_name} output")
    backward_with_cotangents(torch, list(mine), list(reference), seed)
    for index, (leaf, ref) in enumerate(zip(our_leaves, torch_leaves)):
        assert_close(leaf.grad, ref.grad, f"{class_name} gradient of input {index}")
    their_params = dict(theirs.named_parameters())
    for name, parameter in ours.named_parameters():
        assert_close(parameter.grad, their_params[name].grad, f"gradient of {name}")


def test_parameter_names_shapes_and_init_bounds():
    nn.manual_seed(0)
    lstm = nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    shapes = {name: p.shape for name, p in lstm.named_parameters()}
    assert shapes["weight_ih_l0"] == (20, 3) and shapes["weight_hh_l0_reverse"] == (20, 5)
    assert shapes["weight_ih_l1"] == (20, 10) and shapes["bias_hh_l1_reverse"] == (20,)
    assert len(shapes) == 16
    bound = 1 / np.sqrt(5)
    values = np.concatenate([p.data.ravel() for p in lstm.parameters()])
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.9 * bound
    assert [name for name, _ in nn.GRU(2, 3, bias=False).named_parameters()] == [
        "weight_ih_l0", "weight_hh_l0"]
    assert repr(nn.GRU(2, 3, num_layers=2, batch_first=True)) == \
        "GRU(2, 3, num_layers=2, batch_first=True)"


def test_float32_stays_float32():
    gru = nn.GRU(3, 4)
    output, h_n = gru(Tensor(np.ones((2, 1, 3), dtype=np.float32)))
    assert output.dtype == h_n.dtype == np.float32


def test_dropout_acts_between_layers_only_in_training():
    nn.manual_seed(0)
    deep = nn.GRU(3, 4, num_layers=2, dropout=1.0, dtype=np.float64)
    top = nn.GRU(4, 4, dtype=np.float64)
    top.load_state_dict({key.replace("_l1", "_l0"): value
                         for key, value in deep.state_dict().items() if key.endswith("_l1")})
    x = np.random.default_rng(0).standard_normal((5, 2, 3))
    # With p = 1 in training the second layer sees only zeros.
    output, _ = deep(Tensor(x))
    expected, _ = top(np.zeros((5, 2, 4)))
    np.testing.assert_allclose(output.data, expected.data, rtol=1e-12)
    deep.eval()
    assert not np.allclose(deep(Tensor(x))[0].data, expected.data)


def test_thousand_step_lstm_forward_and_backward():
    nn.manual_seed(0)
    lstm = nn.LSTM(4, 8, dtype=np.float64)
    x = Tensor(np.random.default_rng(0).standard_normal((1000, 2, 4)), requires_grad=True)
    limit = sys.getrecursionlimit()
    start = time.perf_counter()
    output, (h_n, c_n) = lstm(x)
    (output.sum() + c_n.sum()).backward()
    elapsed = time.perf_counter() - start
    assert sys.getrecursionlimit() == limit
    assert x.grad.shape == x.shape and np.isfinite(x.grad.data).all()
    assert np.abs(x.grad.data[0]).sum() > 0           # the first step gets a gradient
    assert elapsed < 20, f"1,000-step LSTM forward+backward took {elapsed:.1f} s"


def test_second_derivative_through_a_gru_layer():
    nn.manual_seed(1)
    gru = nn.GRU(2, 3, dtype=np.float64)
    x = np.random.default_rng(1).standard_normal((3, 1, 2))
    assert ag.testing.gradgradcheck(lambda v: gru(v)[0].sum() ** 2, x)


class Holder(nn.Module):
    def __init__(self, layer):
        super().__init__()
        self.encoder = layer

    def forward(self, *args):
        return self.encoder(*args)


@pytest.mark.parametrize("make", [lambda: nn.LSTM(3, 4, num_layers=2),
                                  lambda: nn.GRU(3, 4, bidirectional=True),
                                  lambda: nn.RNN(3, 4, batch_first=True)])
def test_errors_name_the_layer_path_and_shapes(make):
    model = Holder(make())
    name = f"{type(model.encoder).__name__} 'encoder'"
    with pytest.raises(ValueError, match=rf"{name}: expected input .*input_size=3.*\(5, 2, 7\)"):
        model(np.zeros((5, 2, 7), dtype=np.float32))
    lstm = isinstance(model.encoder, nn.LSTM)
    bad = np.zeros((1, 9, 4), dtype=np.float32)
    good = np.zeros((model.encoder.num_layers * (2 if model.encoder.bidirectional else 1), 2, 4),
                    dtype=np.float32)
    expected = rf"{name}: expected h0 of shape \({good.shape[0]}, 2, 4\).*got \(1, 9, 4\)"
    with pytest.raises(ValueError, match=expected):
        model(np.zeros((2, 2, 3), dtype=np.float32), (bad, good) if lstm else bad)
    if lstm:
        with pytest.raises(ValueError, match=rf"{name}: expected c0 .*got \(1, 9, 4\)"):
            model(np.zeros((2, 2, 3), dtype=np.float32), (good, bad))
        with pytest.raises(TypeError, match="tuple"):
            model(np.zeros((2, 2, 3), dtype=np.float32), good)


def test_cell_errors_name_the_cell_and_shapes():
    model = Holder(nn.LSTMCell(3, 4))
    with pytest.raises(ValueError,
                       match=r"LSTMCell 'encoder': expected input of shape \(batch, 3\)"):
        model(np.zeros((2, 5), dtype=np.float32))
    with pytest.raises(ValueError, match=r"expected c of shape \(2, 4\).*got \(2, 3\)"):
        model(np.zeros((2, 3), dtype=np.float32), (np.zeros((2, 4)), np.zeros((2, 3))))
    with pytest.raises(ValueError,
                       match=r"rnn_cell: expected state of shape \(1, 2\), got \(1, 3\)"):
        nn.ops.recurrent.rnn_cell(np.zeros((1, 1)), np.zeros((1, 3)), np.zeros((2, 1)),
                                  np.zeros((2, 2)), None, None)


def test_time_steps_are_scoped_so_a_drawing_boxes_each_step():
    pytest.importorskip("graphviz")
    import viz

    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.GRU(2, 3, bidirectional=True)
            self.head = nn.Linear(6, 2)

        def forward(self, x):
            return self.head(self.rnn(x)[0])

    model = Tagger()
    loss = model(np.ones((4, 1, 2), dtype=np.float32)).sum()
    source = viz.draw_graph(loss, model=model, collapse=3).source
    steps = [f"rnn.l0{direction}.t{t}" for direction in ("", "_reverse") for t in range(4)]
    for step in steps:
        assert f">{step}<" in source, step           # one box per direction and time step
    assert source.count("constraint=false") == 4 * 8   # 4 shared parameters x 8 step boxes
    assert "gru_cell" not in source                    # every cell op sits inside its box
