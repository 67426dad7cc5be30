"""The cyclic collector is paused while a large graph is recorded, and only then."""
import gc

import numpy as np
import pytest

import autograd as ag
from autograd.collector import watch


@pytest.fixture
def small_limit(monkeypatch):
    """Pause after 50 recorded ops instead of 1,000, with the collector on at the start."""
    was_enabled = gc.isenabled()
    gc.enable()
    monkeypatch.setattr(watch, "limit", 50)
    watch.resume()
    yield 50
    watch.resume()
    if not was_enabled:
        gc.disable()


def chain(length):
    x = ag.Tensor(np.ones(3), requires_grad=True)
    y = x
    for _ in range(length):
        y = y * 1.001
    return x, y.sum()


def test_training_steps_below_the_limit_never_pause(small_limit):
    for _ in range(5):
        x, loss = chain(small_limit // 2)
        assert gc.isenabled()
        loss.backward()
        assert gc.isenabled()


def test_paused_while_a_large_graph_grows_and_restarted_by_backward(small_limit):
    x, loss = chain(small_limit + 5)
    assert not gc.isenabled()
    loss.backward()
    assert gc.isenabled()
    np.testing.assert_allclose(x.grad.data, np.full(3, 1.001 ** (small_limit + 5)))


def test_restarted_when_the_graph_is_dropped_without_backward(small_limit):
    x, loss = chain(small_limit + 5)
    assert not gc.isenabled()
    del loss
    assert gc.isenabled()


def test_a_collector_disabled_by_the_program_stays_disabled(small_limit):
    gc.disable()
    x, loss = chain(small_limit + 5)
    loss.backward()
    assert not gc.isenabled()
    gc.enable()


def test_graphs_recorded_under_the_pause_are_still_freed(small_limit):
    import weakref
    x, loss = chain(small_limit + 5)
    first_result = weakref.ref(loss.inputs[0])
    loss.backward()
    del loss
    assert first_result() is None
