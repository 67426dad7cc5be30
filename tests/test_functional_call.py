"""nn.functional_call: a module computed with given parameters (as torch.func's), per-example
gradients of a model through it (against torch.func and the loop), and the
per_sample_grads example's smoke run."""
import numpy as np
import pytest

import autograd as ag
import nn
from autograd import Tensor
from autograd.functional import grad, jvp, vmap

from examples_support import load_example


def small_mlp():
    nn.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 5), nn.LeakyReLU(0.01), nn.Linear(5, 3)).to(np.float64)


def test_functional_call_uses_the_given_parameters_and_restores_the_own():
    model = small_mlp()
    own = {name: p.data.copy() for name, p in model.named_parameters()}
    given = {name: np.full(p.shape, 0.5) for name, p in model.named_parameters()}
    x = np.random.default_rng(0).standard_normal((4, 6))
    out = nn.functional_call(model, given, (Tensor(x),))
    hidden = x @ given["0.weight"].T + given["0.bias"]
    hidden = np.maximum(hidden, 0.01 * hidden)
    np.testing.assert_allclose(out.data, hidden @ given["2.weight"].T + given["2.bias"])
    for name, p in model.named_parameters():
        assert isinstance(p, nn.Parameter)
        np.testing.assert_array_equal(p.data, own[name])
    # a part of the parameters, split over two dicts; the rest stay the module's own
    partial = nn.functional_call(model, ({"0.weight": given["0.weight"]},
                                         {"2.bias": given["2.bias"]}), Tensor(x))
    assert partial.shape == (4, 3)


def test_functional_call_restores_after_an_error_and_names_bad_keys():
    model = small_mlp()
    weight = model[0].weight
    with pytest.raises(ValueError):
        nn.functional_call(model, {"0.weight": np.ones((5, 6))}, (Tensor(np.ones((2, 7))),))
    assert model[0].weight is weight
    with pytest.raises(ValueError, match=r"\['0.wieght'\] are not parameters or buffers"):
        nn.functional_call(model, {"0.wieght": np.ones((5, 6))}, (Tensor(np.ones((2, 6))),))
    with pytest.raises(ValueError, match="strict=True but"):
        nn.functional_call(model, {"0.weight": np.ones((5, 6))}, (Tensor(np.ones((2, 6))),),
                           strict=True)


def test_functional_call_substitutes_buffers():
    nn.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)).to(np.float64).eval()
    x = Tensor(np.random.default_rng(1).standard_normal((4, 3)))
    shifted = nn.functional_call(model, {"1.running_mean": np.array([1.0, -1.0])}, (x,))
    plain = model(x)
    np.testing.assert_allclose(shifted.data - plain.data,
                               np.broadcast_to(-np.array([1.0, -1.0]) / np.sqrt(1 + 1e-5),
                                               (4, 2)), rtol=1e-12)


def per_example_loss(model, names):
    def loss(*args):
        *values, x, target = args
        logits = nn.functional_call(model, dict(zip(names, values)), (x,))
        return -(ag.log_softmax(logits) * target).sum()
    return loss


def test_per_example_gradients_of_a_model_match_torch_func_and_the_loop():
    torch = pytest.importorskip("torch")
    model = small_mlp()
    rng = np.random.default_rng(2)
    x, targets = rng.standard_normal((7, 6)), np.eye(3)[rng.integers(0, 3, 7)]
    names, values = zip(*[(n, p.detach()) for n, p in model.named_parameters()])
    positions = tuple(range(len(values)))
    loss = per_example_loss(model, names)
    ours = vmap(grad(loss, argnums=positions), in_axes=(None,) * 4 + (0, 0))(*values, x, targets)

    torch_model = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.LeakyReLU(0.01),
                                      torch.nn.Linear(5, 3)).double()
    torch_model.load_state_dict({k: torch.as_tensor(v.data)
                                 for k, v in model.state_dict().items()})

    def torch_loss(params, example, target):
        logits = torch.func.functional_call(torch_model, params, (example,))
        return -(torch.log_softmax(logits, -1) * target).sum()
    theirs = torch.func.vmap(torch.func.grad(torch_loss), in_dims=(None, 0, 0))(
        {k: v.detach() for k, v in torch_model.named_parameters()},
        torch.as_tensor(x), torch.as_tensor(targets))
    for name, mine in zip(names, ours):
        np.testing.assert_allclose(mine.data, theirs[name].numpy(), rtol=1e-10, atol=1e-12)
        assert mine.shape == (7,) + dict(model.named_parameters())[name].shape
    for i in range(7):
        single = grad(loss, argnums=positions)(*values, x[i], targets[i])
        for mine, expected in zip(ours, single):
            np.testing.assert_allclose(mine.data[i], expected.data, rtol=1e-10, atol=1e-12)


def test_jvp_through_a_module_call():
    model = small_mlp()
    names, values = zip(*[(n, p.detach()) for n, p in model.named_parameters()])
    x = Tensor(np.random.default_rng(3).standard_normal((2, 6)))
    directions = [np.ones(v.shape) for v in values]

    def outputs(*parameters):
        return nn.functional_call(model, dict(zip(names, parameters)), (x,))
    _, tangent = jvp(outputs, values, tuple(directions))
    eps = 1e-6
    plus = outputs(*[Tensor(v.data + eps * d) for v, d in zip(values, directions)]).data
    minus = outputs(*[Tensor(v.data - eps * d) for v, d in zip(values, directions)]).data
    np.testing.assert_allclose(tangent.data, (plus - minus) / (2 * eps), rtol=1e-6, atol=1e-8)


def test_per_sample_grads_example_smoke(capsys):
    results = load_example("per_sample_grads").main(smoke=True)
    assert results["difference"] < 1e-10
    assert results["norms"].shape == (16,) and np.all(results["norms"] > 0)
    assert np.isfinite(results["loss_after"])
    out = capsys.readouterr().out
    assert "per-example gradients of 16 examples" in out and "DP-SGD" in out
