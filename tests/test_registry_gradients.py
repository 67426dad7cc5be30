"""Generated from the op registry: every differentiable op's gradient against finite
differences (and its second derivative, where it has one), every contract op present,
and non-differentiable ops recording no gradient.

Inputs come from each entry's own ``sample`` hint, tolerances from its ``rtol``/``atol``
(an op that needs looser ones says why in its registration), so adding an op adds
its tests here with no side table to keep in sync.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import autograd
from autograd import Tensor
from autograd.op import REGISTRY
from autograd.testing import gradcheck, gradgradcheck
import autograd.testing.strategies as strategies

ENTRIES = sorted(REGISTRY.values(), key=lambda entry: entry.name)
DIFFERENTIABLE = [entry for entry in ENTRIES if entry.differentiable]
SAMPLED = [entry for entry in DIFFERENTIABLE if entry.sample is not None]
SECOND_ORDER = [entry for entry in SAMPLED if entry.second_order]
NON_DIFFERENTIABLE = [entry for entry in ENTRIES if not entry.differentiable]

# The contract's autograd section, family by family (``getitem`` is Tensor.__getitem__).
CONTRACT_OPS = {
    "elementwise": """add subtract multiply divide power negative exp log log1p sqrt abs sin
                      cos tanh sigmoid relu softplus clip maximum minimum where sign""",
    "reductions": "sum mean var std max min prod logsumexp argmax argmin",
    "shape": """reshape transpose swapaxes expand_dims squeeze broadcast_to concatenate stack
                split flip pad repeat tile""",
    "linear algebra": "matmul dot tensordot einsum",
    "nn-flavoured": "softmax log_softmax",
    "indexing": "getitem",
}
CONTRACT_NON_DIFFERENTIABLE = ("sign", "argmax", "argmin")


def over(entries):
    """Parametrize a test over registry entries by op name (so that Hypothesis reports
    a failing example as ``name='exp'``, not as the whole entry)."""
    return pytest.mark.parametrize("name", [entry.name for entry in entries])


def is_float_array(value):
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def float_arrays(args):
    """The float arrays among ``args``, also inside lists/tuples (sequence arguments)."""
    found = []
    for value in args:
        items = value if isinstance(value, (list, tuple)) else (value,)
        found.extend(item for item in items if is_float_array(item))
    return found


def draw_sample(data, entry):
    args, kwargs = data.draw(entry.sample(strategies), label=f"{entry.name} (args, kwargs)")
    assert float_arrays(args), f"{entry.name}: its sample has no float array to differentiate"
    return args, kwargs


@pytest.mark.parametrize("family", sorted(CONTRACT_OPS))
def test_every_contract_op_is_registered(family):
    names = CONTRACT_OPS[family].split()
    missing = [name for name in names if name not in REGISTRY]
    assert not missing, f"contract {family} ops missing from the registry: {missing}"
    for name in names:
        function = REGISTRY[name].function
        if name == "getitem":
            assert Tensor.__getitem__ is function
            continue
        assert getattr(autograd, name) is function, f"autograd.{name} is not the registered op"
        if hasattr(np.ndarray, name):  # "each also a Tensor method where NumPy has one"
            assert getattr(Tensor, name, None) is function, f"Tensor.{name} is missing"


def test_contract_non_differentiable_ops_say_so():
    for name in CONTRACT_NON_DIFFERENTIABLE:
        assert name in REGISTRY, f"{name} is not registered"
        assert not REGISTRY[name].differentiable, f"{name} should be registered as non-differentiable"


@over(DIFFERENTIABLE)
def test_every_differentiable_op_has_a_sample(name):
    entry = REGISTRY[name]
    # Without a sample an op would escape the finite-difference and parity checks.
    assert entry.sample is not None, (
        f"op '{entry.name}' is differentiable but its registration has no sample= hint, "
        f"so its gradient is never checked")


@over([entry for entry in ENTRIES if entry.method])
def test_methods_come_from_the_registry(name):
    entry = REGISTRY[name]
    assert getattr(Tensor, entry.method) is entry.function


@over(SAMPLED)
@given(data=st.data())
def test_gradient_matches_finite_differences(name, data):
    entry = REGISTRY[name]
    args, kwargs = draw_sample(data, entry)
    gradcheck(lambda *inputs: entry.function(*inputs, **kwargs), *args,
              rtol=entry.rtol, atol=entry.atol)


@over(SECOND_ORDER)
@given(data=st.data())
def test_second_derivative_matches_finite_differences(name, data):
    entry = REGISTRY[name]
    args, kwargs = draw_sample(data, entry)
    gradgradcheck(lambda *inputs: entry.function(*inputs, **kwargs), *args,
                  rtol=entry.rtol, atol=entry.atol)


def wrap_requiring_grad(value):
    if is_float_array(value):
        return Tensor(value, requires_grad=True)
    if isinstance(value, (list, tuple)) and float_arrays(value):
        return type(value)(wrap_requiring_grad(item) for item in value)
    return value


@over(NON_DIFFERENTIABLE)
@given(data=st.data())
def test_non_differentiable_op_records_no_gradient(name, data):
    entry = REGISTRY[name]
    sample = entry.sample(strategies) if entry.sample else strategies.elementwise(1)
    args, kwargs = data.draw(sample, label=f"{entry.name} (args, kwargs)")
    result = entry.function(*[wrap_requiring_grad(value) for value in args], **kwargs)
    for out in result if isinstance(result, (list, tuple)) else (result,):
        assert isinstance(out, Tensor), f"{entry.name} returned {type(out).__name__}"
        assert not out.requires_grad and out.is_leaf and out.grad_fn is None
        with pytest.raises(RuntimeError, match="does not require grad"):
            out.sum().backward()
