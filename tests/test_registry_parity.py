"""Generated from the op registry: forward values and gradients equal PyTorch's.

For every entry with a ``torch`` hint, inputs drawn from its ``sample`` run through our
op and through the PyTorch spelling on float64; outputs must agree, and so must the
gradients of ``sum(output * cotangent)`` for a random cotangent (which checks the
vector-Jacobian product backward uses, not only the gradient of a sum).
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from autograd import Tensor
from autograd.op import REGISTRY
import autograd.testing.strategies as strategies

torch = pytest.importorskip("torch")

PARITY = sorted((entry for entry in REGISTRY.values()
                 if entry.torch is not None and entry.sample is not None),
                key=lambda entry: entry.name)
RTOL, ATOL = 1e-6, 1e-9


def is_float_array(value):
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def is_sequence(value):
    return isinstance(value, (list, tuple)) and any(isinstance(v, np.ndarray) for v in value)


def ours(value, leaves):
    """Float arrays become Tensors requiring grad (collected in ``leaves``); the rest stays."""
    if is_float_array(value):
        leaves.append(Tensor(value.copy(), requires_grad=True))
        return leaves[-1]
    if is_sequence(value):
        return type(value)(ours(item, leaves) for item in value)
    return value


def theirs(value, leaves):
    """The same argument for PyTorch: float64 leaves requiring grad, integer arrays as
    int64 (what torch indexing wants), boolean masks as bool tensors."""
    if is_float_array(value):
        leaves.append(torch.tensor(value, dtype=torch.float64, requires_grad=True))
        return leaves[-1]
    if isinstance(value, np.ndarray):
        dtype = torch.bool if value.dtype == np.bool_ else torch.int64
        return torch.tensor(value.astype(np.int64) if dtype is torch.int64 else value,
                            dtype=dtype)
    if is_sequence(value):
        return type(value)(theirs(item, leaves) for item in value)
    return value


def as_list(result):
    return list(result) if isinstance(result, (list, tuple)) else [result]


def check_against_torch(entry, args, kwargs, cotangent_seed=0):
    """Our op and its PyTorch spelling on the same inputs: equal outputs (shape, dtype,
    value) and equal gradients of sum(output * cotangent) for every float input."""
    our_leaves, torch_leaves = [], []
    our_args = [ours(value, our_leaves) for value in args]
    torch_args = [theirs(value, torch_leaves) for value in args]
    torch_kwargs = {key: theirs(value, []) for key, value in kwargs.items()}

    our_outputs = as_list(entry.function(*our_args, **kwargs))
    torch_outputs = as_list(entry.torch(torch, *torch_args, **torch_kwargs))
    assert len(our_outputs) == len(torch_outputs), f"{entry.name}: number of outputs"
    for index, (mine, reference) in enumerate(zip(our_outputs, torch_outputs)):
        expected = reference.detach().numpy()
        assert isinstance(mine, Tensor), f"{entry.name} output {index}: not a Tensor"
        assert mine.shape == expected.shape, f"{entry.name} output {index}: shape"
        assert mine.dtype == expected.dtype, f"{entry.name} output {index}: dtype"
        np.testing.assert_allclose(mine.data, expected, rtol=RTOL, atol=ATOL,
                                   err_msg=f"{entry.name} output {index}: value")

    if not entry.differentiable:
        return
    rng = np.random.default_rng(cotangent_seed)
    cotangents = [rng.standard_normal(out.shape) for out in our_outputs]
    our_total = sum((out * cot).sum() for out, cot in zip(our_outputs, cotangents)
                    if out.requires_grad)
    torch_total = sum((out * torch.from_numpy(cot)).sum()
                      for out, cot in zip(torch_outputs, cotangents) if out.requires_grad)
    assert isinstance(our_total, Tensor) == torch.is_tensor(torch_total), (
        f"{entry.name}: one side records a graph and the other does not")
    if not isinstance(our_total, Tensor):
        return
    our_total.backward()
    torch_total.backward()
    for index, (mine, reference) in enumerate(zip(our_leaves, torch_leaves)):
        expected = np.zeros(reference.shape) if reference.grad is None else reference.grad.numpy()
        got = np.zeros(mine.shape) if mine.grad is None else mine.grad.data
        np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL,
                                   err_msg=f"{entry.name}: gradient of float input {index}")


@pytest.mark.parametrize("name", [entry.name for entry in PARITY])
@given(data=st.data())
def test_forward_and_gradient_match_torch(name, data):
    entry = REGISTRY[name]
    args, kwargs = data.draw(entry.sample(strategies), label=f"{entry.name} (args, kwargs)")
    check_against_torch(entry, args, kwargs)


def f64(*values):
    return np.array(values, dtype=np.float64)


# Inputs exactly at kinks, where the samples keep away: the conventions there are
# PyTorch's (relu'(0) = 0, abs'(0) = 0, clamp passes the gradient at its bounds, ties in
# maximum/minimum/amax/amin share it equally, d(x**y)/dy = 0 where x = 0).
KINKS = [
    ("relu", (f64(-1.0, 0.0, 2.0),), {}),
    ("abs", (f64(-1.0, 0.0, 2.0),), {}),
    ("clip", (f64(-2.0, -0.5, 0.0, 1.5, 3.0),), dict(a_min=-0.5, a_max=1.5)),
    ("maximum", (f64(1.0, 2.0, 3.0), f64(1.0, 1.0, 4.0)), {}),
    ("minimum", (f64(1.0, 2.0, 3.0), f64(1.0, 1.0, 4.0)), {}),
    ("max", (np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]),), dict(axis=1)),
    ("max", (np.array([[1.0, 3.0, 3.0], [3.0, 2.0, 0.0]]),), {}),
    ("min", (np.array([[1.0, 1.0, 3.0], [2.0, 2.0, 2.0]]),), dict(axis=1, keepdims=True)),
    ("power", (f64(0.0, 0.0, 2.0), f64(2.0, 0.0, 0.0)), {}),
    ("sqrt", (f64(0.25, 4.0),), {}),
]


@pytest.mark.parametrize("name, args, kwargs", KINKS,
                         ids=[f"{name}-{i}" for i, (name, _, _) in enumerate(KINKS)])
def test_conventions_at_kinks_match_torch(name, args, kwargs):
    if name not in REGISTRY or REGISTRY[name].torch is None:
        pytest.fail(f"op '{name}' is not registered with a torch= hint")
    check_against_torch(REGISTRY[name], args, kwargs)
