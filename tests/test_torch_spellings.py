"""PyTorch habits on the autograd side: one-element tensors as numbers, the notes' update
line, PyTorch's method names and ``dim=``/``keepdim=`` on every op that takes an axis."""
import inspect

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd as ag
import autograd.testing.strategies as strategies
import nn
from autograd import Tensor
from autograd.op import REGISTRY


def test_one_element_tensors_format_round_and_convert_like_numbers():
    loss = ag.tensor(0.123456, dtype=np.float64)
    assert f"epoch 1 loss {loss:.4f}" == "epoch 1 loss 0.1235"
    assert round(loss, 3) == 0.123 and round(ag.tensor(2.6)) == 3
    assert float(loss) == pytest.approx(0.123456) and int(ag.tensor([7])) == 7
    assert [10, 20, 30][ag.tensor(1, dtype=np.int64)] == 20
    assert f"{ag.tensor([1.0, 2.0])}" == str(ag.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match=r"needs a tensor with one element, got shape \(2,\)"):
        f"{ag.tensor([1.0, 2.0]):.2f}"
    with pytest.raises(ValueError, match="ambiguous; use .any"):
        bool(ag.tensor([1.0, 2.0]))


def test_the_notes_update_line_works_with_a_gradient_tensor():
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    (w * w).sum().backward()
    w.data -= 0.1 * w.grad
    np.testing.assert_allclose(w.data, [0.8, -1.6])
    assert w.is_leaf and w.requires_grad


def test_pytorch_method_names_are_the_numpy_ops():
    x = Tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    assert x.view(6, 4).shape == (6, 4) and x.view(-1).shape == (24,)
    assert x.unsqueeze(1).shape == (2, 1, 3, 4) and ag.unsqueeze(x, 0).shape == (1, 2, 3, 4)
    assert x.flatten().shape == (24,) and x.flatten(1).shape == (2, 12)
    assert x.flatten(0, 1).shape == (6, 4)
    assert x.permute(2, 0, 1).shape == (4, 2, 3)
    assert x.numel() == 24 and x.dim() == 3
    assert x.float().dtype == np.float32 and x.float().double().dtype == np.float64
    assert x.any().item() and not (x > 100).all().item()
    assert ag.cat([x, x], dim=0).shape == (4, 3, 4)
    np.testing.assert_array_equal(ag.clamp(x, min=3, max=5).data, np.clip(x.data, 3, 5))
    np.testing.assert_array_equal(x.pow(2).data, x.data ** 2)
    np.testing.assert_array_equal(x.mul(2).sub(1).div(2).data, (x.data * 2 - 1) / 2)
    a = Tensor(np.ones((2, 3)))
    assert a.mm(Tensor(np.ones((3, 4)))).shape == (2, 4)
    copy = x.clone()
    assert not np.shares_memory(copy.data, x.data)
    (copy * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.full((2, 3, 4), 2.0))
    shared = ag.from_numpy(np.zeros(3))
    shared.data[0] = 1.0
    assert shared.numpy()[0] == 1.0


def test_flatten_dims_out_of_range_name_the_argument():
    with pytest.raises(ValueError, match=r"flatten: start_dim=3 is out of range for a 2-d input"):
        ag.flatten(Tensor(np.ones((2, 2))), 3)


def _takes_axis(entry):
    try:
        parameters = inspect.signature(entry.function).parameters
    except (TypeError, ValueError):
        return False
    return "axis" in parameters or "keepdims" in parameters


AXIS_OPS = sorted(name for name, entry in REGISTRY.items()
                  if entry.sample is not None and _takes_axis(entry))


@pytest.mark.parametrize("name", AXIS_OPS)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_dim_and_keepdim_mean_axis_and_keepdims(name, data):
    entry = REGISTRY[name]
    args, kwargs = data.draw(entry.sample(strategies))
    if "axis" not in kwargs and "keepdims" not in kwargs:
        return
    renamed = {{"axis": "dim", "keepdims": "keepdim"}.get(k, k): v for k, v in kwargs.items()}
    expected = entry.function(*args, **kwargs)
    got = entry.function(*args, **renamed)
    expected = expected if isinstance(expected, (list, tuple)) else [expected]
    got = got if isinstance(got, (list, tuple)) else [got]
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(np.asarray(g), np.asarray(e))


def test_anomaly_names_the_module_path_and_the_users_line():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    with ag.no_grad():
        model[2].weight.data[0, 0] = np.nan
    x = Tensor(np.ones((1, 2), dtype=np.float32))
    with pytest.raises(ag.AnomalyError) as caught:
        with ag.detect_anomaly():
            model(x)
    message = str(caught.value)
    assert "op 'linear' in module '2'" in message
    assert "test_torch_spellings.py" in message.split("created at")[1].splitlines()[0]
