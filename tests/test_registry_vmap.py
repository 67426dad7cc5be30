"""Generated from the op registry: every op under ``vmap`` (batch axis drawn anywhere,
all float arguments mapped or only the first) equals the loop over the batch; ops with
a batching rule run without the loop's warning; the ops without a rule are listed
with a reason.
"""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from autograd import Tensor
from autograd.functional import vmap
from autograd.op import REGISTRY

from test_registry_gradients import ENTRIES, draw_sample, over
from test_registry_jvp import as_function, tupled

# Ops that run once per batch element under vmap, and why (kept exact by a test below).
WITHOUT_BATCH_RULE = {
    "batch_norm": "normalizes over the batch axis it is given and updates running "
                  "statistics in place: per-element calls are the meaning under vmap",
    "conv2d_input_grad": "the VJP of conv2d; backward passes run underneath vmap's wrappers",
    "conv2d_weight_grad": "the VJP of conv2d; backward passes run underneath vmap's wrappers",
    "embedding_backward": "the VJP of embedding; backward passes run underneath vmap's "
                          "wrappers",
}
# Ops whose rule covers their first few (data) arguments batched; batched weights loop.
DATA_ARGUMENTS = {
    "layer_norm": 1,   # a per-element weight or bias loops
    "rnn_cell": 2, "lstm_cell": 2, "gru_cell": 2,   # (input, state); per-element weights loop
}
MAPPED = [entry for entry in ENTRIES if entry.sample is not None and entry.op is not None
          and entry.name not in WITHOUT_BATCH_RULE]
SETTINGS = settings(max_examples=15, deadline=None)


def values_of(result):
    values = result if isinstance(result, (list, tuple)) else (result,)
    return [np.asarray(v.data if isinstance(v, Tensor) else v) for v in values]


@over(MAPPED)
@SETTINGS
@given(data=st.data())
def test_vmap_equals_the_loop_over_the_batch(name, data):
    entry = REGISTRY[name]
    args, kwargs = draw_sample(data, entry)
    f, primals = as_function(entry, args, kwargs)
    f = tupled(f)
    size = data.draw(st.integers(1, 3), label="batch size")
    mapped_count = DATA_ARGUMENTS.get(name, len(primals))
    if data.draw(st.booleans(), label="map only the first argument"):
        mapped_count = 1
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    elements = [[p + 1e-4 * rng.standard_normal(p.shape) * k for k in range(size)]
                for p in primals]
    axes, batched = [], []
    for position, (primal, copies) in enumerate(zip(primals, elements)):
        if position >= mapped_count:
            axes.append(None)
            batched.append(primal)
            continue
        axis = data.draw(st.integers(0, primal.ndim), label=f"batch axis of argument {position}")
        axes.append(axis)
        batched.append(np.stack(copies, axis=axis))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an op with a rule must not fall back to the loop
        mapped = values_of(vmap(f, in_axes=tuple(axes))(*batched))
    for index in range(size):
        call = [primal if axis is None else copies[index]
                for primal, copies, axis in zip(primals, elements, axes)]
        for k, (ours, expected) in enumerate(zip(mapped, values_of(f(*call)))):
            np.testing.assert_allclose(ours[index], expected, rtol=1e-12, atol=1e-12,
                                       err_msg=f"{name}: output {k}, batch element {index}")


def test_ops_without_a_batching_rule_are_listed_with_a_reason():
    without = sorted(entry.name for entry in REGISTRY.values()
                     if entry.op is not None and getattr(entry.op, "batch_rule", None) is None)
    assert without == sorted(WITHOUT_BATCH_RULE), (
        "ops without a batch_rule must be listed in WITHOUT_BATCH_RULE with a reason "
        f"(missing: {sorted(set(without) - set(WITHOUT_BATCH_RULE))}, "
        f"listed but have a rule now: {sorted(set(WITHOUT_BATCH_RULE) - set(without))})")


@pytest.mark.parametrize("name", sorted(WITHOUT_BATCH_RULE))
@settings(max_examples=3, deadline=None)
@given(data=st.data())
def test_an_op_without_a_rule_loops_and_warns_naming_it(name, data):
    entry = REGISTRY[name]
    f, primals = as_function(entry, *draw_sample(data, entry))
    f = tupled(f)
    batched = np.stack([primals[0], primals[0] * 0.5])
    with pytest.warns(UserWarning, match=f"'{name}' has no batching rule"):
        mapped = values_of(vmap(lambda x: f(x, *primals[1:]))(batched))
    expected = values_of(f(primals[0] * 0.5, *primals[1:]))[0]
    np.testing.assert_allclose(mapped[0][1], expected, rtol=1e-12, atol=1e-12)
