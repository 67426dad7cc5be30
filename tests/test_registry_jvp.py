"""Generated from the op registry: every differentiable op's forward-mode tangent (its
``jvp`` rule, or the double-VJP fallback where it has none) against finite differences
and against the transpose of its VJP (``<J v, u> == <v, J^T u>``), on the inputs of
each entry's ``sample`` hint in float64; and the list of ops without a rule, each with
the reason.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from autograd import Tensor, functional as F
from autograd.op import REGISTRY
import autograd.testing.strategies as strategies

from test_registry_gradients import SAMPLED, draw_sample, is_float_array, over

# Ops that keep the double-VJP fallback, and why (a test below keeps this list exact).
# Every registered differentiable op has a rule now; a new op without one must be listed
# here with its reason, e.g. ``"name": FALLBACK``.
FALLBACK = ("no closed-form rule written yet: forward mode takes the double-VJP fallback (two "
            "reverse passes through the op), which the test above checks like a rule")
WITHOUT_JVP_RULE = {}
# Ops through which forward mode raises NotImplementedError instead of guessing (a packed
# multi-output forward, for which the double-VJP fallback would be wrong). None at present:
# eigh, svd and qr have rules.
# name -> (when, reason): forward mode must raise for these calls.
FORWARD_MODE_UNSUPPORTED = {}
SETTINGS = settings(max_examples=15, deadline=None)


def differentiable_slots(args):
    """Positions of the float arrays in ``args``: (i, None) or (i, j) inside a sequence."""
    slots = []
    for i, value in enumerate(args):
        if is_float_array(value):
            slots.append((i, None))
        elif isinstance(value, (list, tuple)):
            slots.extend((i, j) for j, item in enumerate(value) if is_float_array(item))
    return slots


def as_function(entry, args, kwargs):
    """``f(*arrays)`` computing the op with the float arrays of ``args`` replaced."""
    slots = differentiable_slots(args)

    def f(*arrays):
        call = [list(v) if isinstance(v, (list, tuple)) else v for v in args]
        for (i, j), array in zip(slots, arrays):
            if j is None:
                call[i] = array
            else:
                call[i][j] = array
        call = [type(args[i])(v) if isinstance(args[i], (list, tuple)) else v
                for i, v in enumerate(call)]
        return entry.function(*call, **kwargs)
    primals = [args[i] if j is None else args[i][j] for i, j in slots]
    return f, primals


def tupled(f):
    """``f`` with a list result (split) returned as a tuple, as the transforms expect."""
    def g(*arrays):
        result = f(*arrays)
        return tuple(result) if isinstance(result, list) else result
    return g


def outputs_of(result):
    values = result if isinstance(result, (list, tuple)) else (result,)
    return [np.asarray(v.data if isinstance(v, Tensor) else v, dtype=float) for v in values]


@over(SAMPLED)
@SETTINGS
@given(data=st.data())
def test_jvp_matches_finite_differences_and_the_vjp(name, data):
    entry = REGISTRY[name]
    args, kwargs = draw_sample(data, entry)
    f, primals = as_function(entry, args, kwargs)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    tangents = [rng.standard_normal(p.shape) for p in primals]

    g = tupled(f)
    single = not isinstance(g(*primals), tuple)
    if name in FORWARD_MODE_UNSUPPORTED and FORWARD_MODE_UNSUPPORTED[name][0](kwargs):
        with pytest.raises(NotImplementedError, match=rf"forward mode .* op '{name}'"):
            F.jvp(g, tuple(primals), tuple(tangents))
        return
    _, tangent = F.jvp(g, tuple(primals), tuple(tangents))
    ours = outputs_of(tangent)

    eps = 1e-6
    plus = outputs_of(f(*[p + eps * t for p, t in zip(primals, tangents)]))
    minus = outputs_of(f(*[p - eps * t for p, t in zip(primals, tangents)]))
    rtol, atol = max(entry.rtol, 1e-5), max(entry.atol, 1e-6)
    for k, (mine, up, down) in enumerate(zip(ours, plus, minus)):
        np.testing.assert_allclose(mine, (up - down) / (2 * eps), rtol=rtol, atol=atol,
                                   err_msg=f"{name}: output {k} tangent vs finite differences")

    # <J v, u> == <v, J^T u> for a random cotangent u
    cotangents = [rng.standard_normal(o.shape) for o in ours]
    _, pullback = F.vjp(g, *primals)
    pulled = pullback(cotangents[0] if single else tuple(cotangents))
    forward_side = sum(float(np.sum(j * u)) for j, u in zip(ours, cotangents))
    reverse_side = sum(float(np.sum(np.asarray(g.data) * t)) for g, t in zip(pulled, tangents))
    assert np.isclose(forward_side, reverse_side, rtol=1e-7, atol=1e-9), (
        f"{name}: <J v, u> = {forward_side} but <v, J^T u> = {reverse_side}")


def test_ops_without_a_jvp_rule_are_listed_with_a_reason():
    without = sorted(entry.name for entry in REGISTRY.values()
                     if entry.op is not None and entry.differentiable
                     and getattr(entry.op, "jvp", None) is None)
    assert without == sorted(WITHOUT_JVP_RULE), (
        "ops without a jvp rule must be listed in WITHOUT_JVP_RULE with a reason "
        f"(missing: {sorted(set(without) - set(WITHOUT_JVP_RULE))}, "
        f"listed but have a rule now: {sorted(set(WITHOUT_JVP_RULE) - set(without))})")
    assert all(reason for reason in WITHOUT_JVP_RULE.values())

