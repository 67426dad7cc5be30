"""Module API: registration, traversal, modes, dtype conversion, state dicts (strict
loading that changes nothing on error), repr, summary, containers, and the scope tags
that recorded ops get from the module that made them."""
import copy

import numpy as np
import pytest

import nn
from autograd import Tensor, no_grad
from autograd.grad_mode import state



class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.fc1(x))


class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.decoder = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3), nn.Linear(3, 4))
        self.scale = nn.Parameter(np.ones(1, dtype=np.float32))

    def forward(self, x):
        return self.decoder(self.encoder(x)) * self.scale


def mlp(lib):
    return lib.Sequential(lib.Linear(784, 256), lib.BatchNorm1d(256), lib.LeakyReLU(0.01),
                          lib.Linear(256, 10))


# --- registration and traversal ---------------------------------------------------------------
def test_attribute_assignment_registers_parameters_and_modules_with_dotted_names():
    model = AutoEncoder()
    assert [name for name, _ in model.named_parameters()] == [
        "scale", "encoder.fc1.weight", "encoder.fc1.bias", "decoder.0.weight", "decoder.0.bias",
        "decoder.1.weight", "decoder.1.bias", "decoder.2.weight", "decoder.2.bias"]
    assert [name for name, _ in model.named_children()] == ["encoder", "decoder"]
    assert list(model.children()) == [model.encoder, model.decoder]
    assert [name for name, _ in model.named_modules()] == [
        "", "encoder", "encoder.fc1", "encoder.act", "decoder", "decoder.0", "decoder.1",
        "decoder.2"]
    assert list(model.modules())[0] is model
    assert [name for name, _ in model.named_buffers()] == [
        "decoder.1.running_mean", "decoder.1.running_var", "decoder.1.num_batches_tracked"]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in model.parameters())
    assert model.get_submodule("decoder.1") is model.decoder[1]


def test_named_parameters_match_torch_for_the_same_architecture(torch):
    ours = [(name, p.shape) for name, p in mlp(nn).named_parameters()]
    theirs = [(name, tuple(p.shape)) for name, p in mlp(torch.nn).named_parameters()]
    assert ours == theirs


def test_shared_parameters_and_modules_are_listed_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2
    assert [name for name, _ in model.named_modules()] == ["", "0", "1"]


def test_plain_attributes_are_not_registered_and_reassignment_replaces():
    model = nn.Linear(2, 3)
    model.note = "hello"
    model.cache = Tensor(np.zeros(2))  # a plain Tensor is not a parameter
    assert [name for name, _ in model.named_parameters()] == ["weight", "bias"]
    model.bias = None
    assert [name for name, _ in model.named_parameters()] == ["weight"]
    with pytest.raises(TypeError, match="cannot assign Tensor as parameter 'weight'"):
        model.weight = Tensor(np.zeros((3, 2)))
    del model.weight
    assert list(model.parameters()) == []


def test_assigning_before_init_and_bad_names_raise():
    class Forgetful(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)
    with pytest.raises(AttributeError, match=r"before Module.__init__\(\) call"):
        Forgetful()
    module = nn.Module()
    with pytest.raises(KeyError, match="contain no '.'"):
        module.add_module("a.b", nn.ReLU())
    with pytest.raises(TypeError, match="must be a Tensor"):
        module.register_buffer("stats", np.zeros(2))
    with pytest.raises(NotImplementedError, match="forward"):
        module(Tensor(np.zeros(2)))


def test_parameter_is_a_leaf_tensor_that_requires_grad():
    parameter = nn.Parameter(np.zeros((2, 3)))
    assert isinstance(parameter, Tensor) and parameter.requires_grad and parameter.is_leaf
    assert repr(parameter).startswith("Parameter containing:\nTensor(")
    frozen = nn.Parameter(Tensor(np.ones(2)), requires_grad=False)
    assert not frozen.requires_grad
    with pytest.raises(TypeError):
        nn.Parameter(np.zeros(3, dtype=np.int64))
    out = (parameter * 2).sum()
    assert type(out) is Tensor  # results are plain tensors, not parameters


# --- modes, gradients, dtypes -------------------------------------------------------------------
def test_train_and_eval_set_the_whole_tree_and_return_the_module():
    model = AutoEncoder()
    assert model.eval() is model
    assert not any(module.training for module in model.modules())
    assert model.train() is model
    assert all(module.training for module in model.modules())
    with pytest.raises(ValueError, match="bool"):
        model.train("yes")


def test_zero_grad_and_requires_grad():
    model = nn.Linear(3, 2)
    model(Tensor(np.ones((4, 3), dtype=np.float32))).sum().backward()
    assert model.weight.grad is not None
    model.zero_grad(set_to_none=False)
    assert np.all(model.weight.grad.data == 0)
    model.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None
    assert model.requires_grad_(False) is model
    assert not model(Tensor(np.ones((1, 3), dtype=np.float32))).requires_grad


def test_to_dtype_converts_floats_in_place_and_returns_the_module():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    weight = model[0].weight
    assert model.to(np.float64) is model
    assert model[0].weight is weight and weight.dtype == np.float64
    assert model[1].running_var.dtype == np.float64
    assert model[1].num_batches_tracked.dtype == np.int64
    assert model.float() is model and weight.dtype == np.float32
    assert model.to("cpu") is model and model.to(device="cpu") is model
    with pytest.raises(TypeError, match="floating"):
        model.to(np.int32)
    with pytest.raises(ValueError, match="device"):
        model.to(device="cuda")


# --- state dicts --------------------------------------------------------------------------------
def test_state_dict_keys_and_order_match_torch(torch):
    assert list(mlp(nn).state_dict()) == list(mlp(torch.nn).state_dict())


def test_state_dict_round_trip_reproduces_outputs():
    nn.manual_seed(0)
    source, target = mlp(nn), mlp(nn)
    x = Tensor(np.random.default_rng(0).standard_normal((8, 784)).astype(np.float32))
    source(x)  # move the running statistics off their initial values
    source.eval()
    target.eval()
    result = target.load_state_dict(copy.deepcopy(source.state_dict()))
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(target(x).data, source(x).data)
    assert target[1].num_batches_tracked.item() == 1


def test_state_dict_values_share_the_models_arrays_as_in_torch():
    model = nn.Linear(2, 2)
    state_dict = model.state_dict()
    assert not state_dict["weight"].requires_grad
    with no_grad():
        model.weight.data += 1
    np.testing.assert_array_equal(state_dict["weight"].data, model.weight.data)


def test_load_state_dict_lists_every_problem_and_changes_nothing():
    nn.manual_seed(0)
    model = mlp(nn)
    before = {key: value.data.copy() for key, value in model.state_dict().items()}
    bad = {key: value.data.copy() + 1 for key, value in mlp(nn).state_dict().items()}
    del bad["0.bias"]
    bad["extra.weight"] = np.zeros(3)
    bad["3.weight"] = np.zeros((10, 255), dtype=np.float32)
    bad["1.running_var"] = bad["1.running_var"].astype(np.float64)
    with pytest.raises(nn.StateDictError) as error:
        model.load_state_dict(bad)
    message = str(error.value)
    assert 'Missing key(s) in state_dict: "0.bias"' in message
    assert 'Unexpected key(s) in state_dict: "extra.weight"' in message
    assert "size mismatch for 3.weight" in message
    assert "(10, 255)" in message and "(10, 256)" in message
    assert "dtype mismatch for 1.running_var" in message
    assert isinstance(error.value, ValueError) and isinstance(error.value, RuntimeError)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.data, before[key], err_msg=key)


def test_load_state_dict_non_strict_reports_keys_but_still_rejects_wrong_shapes():
    model = nn.Linear(3, 2)
    partial = {"weight": np.ones((2, 3), dtype=np.float32), "other": np.zeros(1)}
    result = model.load_state_dict(partial, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["other"]
    assert np.all(model.weight.data == 1)
    with pytest.raises(nn.StateDictError, match="size mismatch for weight"):
        model.load_state_dict({"weight": np.ones((3, 3), dtype=np.float32)}, strict=False)


def test_load_state_dict_from_torch_weights(torch):
    theirs = mlp(torch.nn)
    ours = mlp(nn)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((5, 784)).astype(np.float32)
    ours.eval()
    theirs.eval()
    with torch.no_grad():
        expected = theirs(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours(Tensor(x)).data, expected, rtol=1e-4, atol=1e-5)


def test_deepcopy_gives_an_independent_model():
    model = AutoEncoder()
    clone = copy.deepcopy(model)
    assert isinstance(clone.encoder.fc1.weight, nn.Parameter)
    with no_grad():
        clone.encoder.fc1.weight.data[...] = 0
    assert not np.all(model.encoder.fc1.weight.data == 0)
    out = clone(Tensor(np.ones((2, 4), dtype=np.float32)))
    assert out.shape == (2, 4)
    model(Tensor(np.ones((2, 4), dtype=np.float32)))
    encoder = copy.deepcopy(model.encoder)  # a copied part is a model of its own
    assert encoder(Tensor(np.ones((2, 4), dtype=np.float32)))._op.scope == "act"


# --- description --------------------------------------------------------------------------------
def test_repr_matches_torch(torch):
    def build(lib):
        return lib.Sequential(
            lib.Conv2d(1, 8, 3, padding=1), lib.BatchNorm2d(8), lib.ReLU(), lib.MaxPool2d(2),
            lib.Conv2d(8, 8, (3, 2), stride=2, dilation=2, groups=2, bias=False),
            lib.AvgPool2d(2), lib.Flatten(), lib.Dropout(0.25), lib.Linear(32, 16),
            lib.LayerNorm(16), lib.GELU(), lib.SiLU(), lib.LeakyReLU(0.1), lib.Tanh(),
            lib.Sigmoid(), lib.Identity(), lib.Linear(16, 4, bias=False), lib.Softmax(dim=1),
            lib.LogSoftmax(dim=-1), lib.Embedding(10, 3, padding_idx=0),
            lib.Conv2d(2, 2, 4, padding="same"))
    assert repr(build(nn)) == repr(build(torch.nn))
    assert repr(AutoEncoder()).startswith("AutoEncoder(\n  (encoder): Encoder(\n    (fc1): Linear(")


def test_summary_lists_layers_shapes_and_parameter_counts():
    model = mlp(nn)
    summary = model.summary((784,))
    text = str(summary)
    assert summary.total_params == 784 * 256 + 256 + 2 * 256 + 256 * 10 + 10
    assert summary.trainable_params == summary.total_params and summary.non_trainable_params == 0
    assert [(row.path, row.type, row.output_shape, row.params) for row in summary.rows] == [
        ("0", "Linear", "(None, 256)", 200960), ("1", "BatchNorm1d", "(None, 256)", 512),
        ("2", "LeakyReLU", "(None, 256)", 0), ("3", "Linear", "(None, 10)", 2570)]
    for fragment in ("Layer (path)", "Output shape", "Param #", "Total params: 204,042",
                     "BatchNorm1d", "(None, 256)", "200,960"):
        assert fragment in text
    assert repr(summary) == text


def test_summary_changes_nothing_in_the_model():
    nn.manual_seed(3)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Dropout(0.5), nn.Flatten(),
                          nn.Linear(8, 2))
    model[2].eval()  # mixed modes survive
    before = {key: value.data.copy() for key, value in model.state_dict().items()}
    from autograd import factories
    generator_state = factories.default_generator.bit_generator.state
    summary = model.summary((1, 4, 4))
    assert [row.output_shape for row in summary.rows] == [
        "(None, 2, 2, 2)", "(None, 2, 2, 2)", "(None, 2, 2, 2)", "(None, 8)", "(None, 2)"]
    assert [module.training for module in model.modules()] == [True, True, True, False, True, True]
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.data, before[key], err_msg=key)
    assert factories.default_generator.bit_generator.state == generator_state


def test_summary_of_nested_and_embedding_models():
    summary = AutoEncoder().summary((4,))
    assert [row.path for row in summary.rows] == [
        "(root)", "encoder.fc1", "encoder.act", "decoder.0", "decoder.1", "decoder.2"]
    assert summary.rows[0].params == 1  # the root's own `scale`
    embedding_summary = nn.Sequential(nn.Embedding(10, 3)).summary((5,), dtype=np.int64)
    assert embedding_summary.rows[0].output_shape == "(None, 5, 3)"


# --- containers ---------------------------------------------------------------------------------
def test_sequential_indexing_slicing_and_editing():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    model = nn.Sequential(*layers)
    assert model[0] is layers[0] and model[-1] is layers[2] and len(model) == 3
    assert list(model) == layers
    head = model[1:]
    assert isinstance(head, nn.Sequential) and list(head) == layers[1:]
    assert [name for name, _ in head.named_children()] == ["1", "2"]  # torch keeps the names
    assert head(Tensor(np.ones((1, 3), dtype=np.float32))).shape == (1, 1)
    with pytest.raises(IndexError, match="out of range"):
        model[3]
    model.append(nn.Sigmoid())
    model.insert(1, nn.Identity())
    assert [type(m).__name__ for m in model] == ["Linear", "Identity", "ReLU", "Linear", "Sigmoid"]
    del model[1]
    assert [name for name, _ in model.named_children()] == ["0", "1", "2", "3"]
    model[3] = nn.Tanh()
    assert isinstance(model[3], nn.Tanh)
    named = nn.Sequential({"first": nn.Linear(2, 2), "second": nn.ReLU()})
    assert [name for name, _ in named.named_parameters()] == ["first.weight", "first.bias"]
    with pytest.raises(TypeError, match="must be an nn.Module"):
        nn.Sequential(nn.ReLU(), "relu")


def test_module_list_registers_its_modules():
    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    model = Stack()
    assert len(list(model.parameters())) == 6
    names = [name for name, _ in model.named_parameters()]
    assert names[:2] == ["layers.0.weight", "layers.0.bias"]
    model.layers.append(nn.ReLU())
    model.layers.insert(0, nn.Identity())
    assert [type(m).__name__ for m in model.layers] == [
        "Identity", "Linear", "Linear", "Linear", "ReLU"]
    del model.layers[0]
    assert isinstance(model.layers[0], nn.Linear) and len(model.layers[1:]) == 3
    with pytest.raises(NotImplementedError, match="iterate"):
        model.layers(Tensor(np.zeros(2)))


def test_forward_hooks_run_after_forward_and_can_be_removed():
    model = nn.Linear(2, 2)
    seen = []
    handle = model.register_forward_hook(lambda module, args, out: seen.append(out.shape))
    model(Tensor(np.zeros((3, 2), dtype=np.float32)))
    handle.remove()
    model(Tensor(np.zeros((3, 2), dtype=np.float32)))
    assert seen == [(3, 2)]


# --- scope tags ---------------------------------------------------------------------------------
def graph_ops(root):
    """Every recorded op behind ``root`` (iterative walk)."""
    found, stack, seen = [], [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen or not isinstance(node, Tensor) or node._op is None:
            continue
        seen.add(id(node))
        found.append(node._op)
        stack.extend(node._inputs)
    return found


def test_ops_carry_the_dotted_path_of_the_module_that_made_them():
    model = AutoEncoder()
    x = Tensor(np.ones((3, 4), dtype=np.float32), requires_grad=True)
    out = model(x)
    scopes = {(op.name, op.scope) for op in graph_ops(out)}
    assert scopes == {("linear", "encoder.fc1"), ("relu", "encoder.act"),
                      ("linear", "decoder.0"), ("batch_norm", "decoder.1"),
                      ("linear", "decoder.2"), ("multiply", "")}
    assert state.scope is None
    outside = (out * 2).sum()
    assert outside._op.scope is None


def test_scope_paths_follow_the_module_that_was_called_and_tree_changes():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 2), nn.ReLU()))
    x = Tensor(np.ones((1, 2), dtype=np.float32))
    assert model(x)._op.scope == "1.1"
    assert model[1](x)._op.scope == "1.1"     # called on its own, a part keeps its path
    loss = nn.Identity()
    assert (loss(model(x)) * 1)._inputs[0]._op.scope == "1.1"  # other roots change nothing
    outer = nn.Sequential()
    outer.add_module("body", model)
    assert outer(x)._op.scope == "body.1.1"   # re-parenting is picked up
    assert nn.Sequential(nn.Linear(2, 2))(x)._op.scope == "0"


def test_scope_is_restored_after_an_error_in_forward():
    model = nn.Sequential(nn.Linear(2, 2))
    with pytest.raises(ValueError):
        model(Tensor(np.zeros((1, 3))))
    assert state.scope is None
