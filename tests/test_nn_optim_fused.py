"""The fused optimizer path (one pass over a group's flat state buffers): a 200-step
trajectory equal to PyTorch's, the same bits as the per-tensor path (``foreach=False``),
and the cases that must keep working around it (missing gradients, load_state_dict,
``p.data = ...``, dtype changes, mixed dtypes)."""
import numpy as np
import pytest

from autograd import Tensor
from nn import optim
from nn.optim import flat_state
from nn.parameter import Parameter

SHAPES = [(5, 4), (4,), (), (3, 2, 2)]
FUSED_CASES = [
    ("SGD", dict(lr=0.02, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.02, momentum=0.8, dampening=0.1, weight_decay=0.05, maximize=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.02)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.95), maximize=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("RMSprop", dict(lr=0.005, momentum=0.5, centered=True, weight_decay=0.01)),
    ("RMSprop", dict(lr=0.005)),
    ("Adagrad", dict(lr=0.05, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1)),
    ("SGD", dict(lr=0.05)),
]


def case_id(case):
    name, options = case
    return name + "".join(f"-{key}={value}" for key, value in options.items())


def initial_arrays(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for shape in SHAPES]


def coupling(seed=1):
    """A fixed matrix per parameter, so that each gradient depends on the parameters."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((int(np.prod(shape)),) * 2) * 0.3 for shape in SHAPES]


def gradients(values, matrices):
    """d/dp of sum(0.5 * p A p + cos(p)): the trajectory feeds back into the gradients."""
    grads = []
    for value, matrix in zip(values, matrices):
        flat = value.reshape(-1)
        grad = 0.5 * (matrix + matrix.T) @ flat - np.sin(flat)
        grads.append(grad.reshape(value.shape).astype(value.dtype))
    return grads


def is_fused(optimizer, params):
    """True when each state array of the group is a view of its name's flat buffer."""
    entries = [optimizer.state[p] for p in params]
    names = [name for name, value in entries[0].items() if isinstance(value, np.ndarray)]
    return bool(names) and all(
        entries[0][name].base is not None
        and all(entry[name].base is entries[0][name].base for entry in entries)
        for name in names)


@pytest.mark.parametrize("case", FUSED_CASES[:-1], ids=[case_id(c) for c in FUSED_CASES[:-1]])
def test_fused_trajectory_matches_torch_for_200_steps(case):
    torch = pytest.importorskip("torch")
    name, options = case
    arrays, matrices = initial_arrays(), coupling()
    ours = [Parameter(a.copy()) for a in arrays]
    theirs = [torch.nn.Parameter(torch.tensor(a)) for a in arrays]
    ours_opt = getattr(optim, name)(ours, **options)
    theirs_opt = getattr(torch.optim, name)(theirs, foreach=False, **options)
    for step in range(200):
        for p, g in zip(ours, gradients([p.data for p in ours], matrices)):
            p.grad = Tensor(g)
        for q, g in zip(theirs, gradients([q.detach().numpy() for q in theirs], matrices)):
            q.grad = torch.tensor(g)
        ours_opt.step()
        theirs_opt.step()
        if step % 20 == 19:
            for index, (p, q) in enumerate(zip(ours, theirs)):
                np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-7, atol=1e-10,
                                           err_msg=f"{name}: parameter {index}, step {step}")
    assert is_fused(ours_opt, ours), "the fused path was not taken"
    moved = max(np.abs(p.data - a).max() for p, a in zip(ours, arrays))
    assert moved > 0.05, "the parameters hardly moved: a vacuous trajectory"


def run(name, options, foreach, dtype=np.float64, steps=8, skip=None, between=None):
    """Parameters after ``steps`` steps; ``skip`` maps a step to the parameter left
    without a gradient, ``between(step, params, optimizer)`` runs before each step."""
    params = [Parameter(a) for a in initial_arrays(dtype)]
    optimizer = getattr(optim, name)(params, foreach=foreach, **options)
    matrices = coupling()
    for step in range(steps):
        if between is not None:
            between(step, params, optimizer)
        for index, (p, g) in enumerate(zip(params, gradients([p.data for p in params],
                                                             matrices))):
            p.grad = None if skip and skip.get(step) == index else Tensor(g.astype(p.dtype))
        optimizer.step()
    return params, optimizer


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", FUSED_CASES, ids=[case_id(c) for c in FUSED_CASES])
def test_fused_path_gives_the_per_tensor_bits(case, dtype):
    name, options = case
    fused, fused_opt = run(name, options, None, dtype)
    each, each_opt = run(name, options, False, dtype)
    for p, q in zip(fused, each):
        assert p.dtype == dtype
        np.testing.assert_array_equal(p.data, q.data)
    fused_state, each_state = fused_opt.state_dict()["state"], each_opt.state_dict()["state"]
    assert fused_state.keys() == each_state.keys()
    for index, entry in each_state.items():
        assert fused_state[index].keys() == entry.keys()
        for key, value in entry.items():
            np.testing.assert_array_equal(fused_state[index][key], value)


@pytest.mark.parametrize("case", FUSED_CASES, ids=[case_id(c) for c in FUSED_CASES])
def test_large_gradients_read_in_place_give_the_per_tensor_bits_and_stay_unchanged(
        case, monkeypatch):
    """With the threshold lowered, the (5, 4) and (3, 2, 2) parameters are large: the
    group is updated in segments, their gradients read where they are (unless the
    update must write to them: maximize, coupled weight decay). Same bits as the
    per-tensor path, and the parameters' gradients are left as they were."""
    monkeypatch.setattr(flat_state, "DIRECT_GRAD_ELEMENTS", 6)
    name, options = case
    params = [Parameter(a) for a in initial_arrays()]
    fused_opt = getattr(optim, name)(params, **options)
    matrices = coupling()
    for step in range(8):
        given = gradients([p.data for p in params], matrices)
        for p, g in zip(params, given):
            p.grad = Tensor(g.copy())
        fused_opt.step()
        for index, (p, g) in enumerate(zip(params, given)):
            np.testing.assert_array_equal(p.grad.data, g,
                                          err_msg=f"{name}: gradient {index} changed")
    each, _ = run(name, options, False)
    for p, q in zip(params, each):
        np.testing.assert_array_equal(p.data, q.data)
    layout = next(iter(fused_opt._layouts.values()))
    assert [segment.direct for segment in layout.segments] == [True, False, True]


@pytest.mark.parametrize("case", FUSED_CASES[:3] + FUSED_CASES[6:9],
                         ids=[case_id(c) for c in FUSED_CASES[:3] + FUSED_CASES[6:9]])
def test_a_missing_gradient_falls_back_to_per_tensor_steps(case):
    name, options = case
    skip = {2: 1, 3: 0}
    fused, _ = run(name, options, None, skip=skip)
    each, _ = run(name, options, False, skip=skip)
    for p, q in zip(fused, each):
        np.testing.assert_array_equal(p.data, q.data)


def test_replaced_parameter_data_and_loaded_state_are_picked_up():
    """``p.data = ...``, a dtype change and load_state_dict between steps: the fused
    path rebuilds (or steps aside) and matches the per-tensor path."""
    def between(step, params, optimizer):
        if step == 2:
            params[0].data = params[0].data * 0.5
        if step == 4:
            optimizer.load_state_dict(optimizer.state_dict())
        if step == 5:
            snapshot = optimizer.state_dict()
            for entry in optimizer.state.values():
                entry["exp_avg"] = entry["exp_avg"].copy()    # a new array, not a view
                entry["exp_avg"] *= 0.9
            assert not np.array_equal(snapshot["state"][0]["exp_avg"],
                                      optimizer.state[params[0]]["exp_avg"])
    fused, fused_opt = run("Adam", dict(lr=0.01), None, between=between)
    each, _ = run("Adam", dict(lr=0.01), False, between=between)
    for p, q in zip(fused, each):
        np.testing.assert_array_equal(p.data, q.data)
    assert is_fused(fused_opt, fused)


def test_mixed_dtypes_and_changed_dtype_take_the_per_tensor_path():
    def to_float32(step, params, optimizer):
        if step == 3:
            for p in params:
                p.data = p.data.astype(np.float32)
    fused, _ = run("Adam", dict(lr=0.01), None, between=to_float32)
    each, _ = run("Adam", dict(lr=0.01), False, between=to_float32)
    for p, q in zip(fused, each):
        np.testing.assert_array_equal(p.data, q.data)

    params = [Parameter(np.ones(3)), Parameter(np.ones(2, dtype=np.float32))]
    optimizer = optim.SGD(params, lr=0.1, momentum=0.9)
    for _ in range(2):
        for p in params:
            p.grad = Tensor(np.ones_like(p.data))
        optimizer.step()
    assert params[1].dtype == np.float32
    np.testing.assert_allclose(params[0].data, 1 - 0.1 - 0.19)
    np.testing.assert_allclose(params[1].data, 1 - 0.1 - 0.19, rtol=1e-6)


def test_fused_step_keeps_parameter_arrays_and_saved_state():
    """Parameters are updated in their own arrays (not moved into a buffer), and a
    state_dict taken earlier does not change with later steps."""
    params = [Parameter(a) for a in initial_arrays()]
    arrays = [p.data for p in params]
    optimizer = optim.Adam(params, lr=0.1)
    for p in params:
        p.grad = Tensor(np.ones_like(p.data))
    optimizer.step()
    saved = optimizer.state_dict()
    optimizer.step()
    assert all(p.data is a for p, a in zip(params, arrays))
    assert saved["state"][0]["step"] == 1
    assert not np.shares_memory(saved["state"][0]["exp_avg"],
                                optimizer.state[params[0]]["exp_avg"])
    np.testing.assert_allclose(saved["state"][0]["exp_avg"], 0.1)


@pytest.mark.parametrize("case", FUSED_CASES, ids=[case_id(c) for c in FUSED_CASES])
def test_a_frozen_parameter_leaves_the_others_fused(case):
    name, options = case
    frozen = {step: 1 for step in range(8)}     # parameter 1 never gets a gradient
    fused, fused_opt = run(name, options, None, skip=frozen)
    each, _ = run(name, options, False, skip=frozen)
    for p, q in zip(fused, each):
        np.testing.assert_array_equal(p.data, q.data)
    np.testing.assert_array_equal(fused[1].data, initial_arrays()[1])
    assert fused_opt.state[fused[1]].get("step", 0) == 0    # Adagrad's state exists from the start
    if fused_opt.state[fused[0]]:
        assert is_fused(fused_opt, [fused[0], fused[2], fused[3]])


def test_a_subclass_with_its_own_update_rule_is_not_bypassed():
    class SignSGD(optim.SGD):
        def _update(self, param, grad, state, *, lr, **_):
            param -= lr * np.sign(grad)

    param = Parameter(np.array([1.0, -2.0]))
    param.grad = Tensor(np.array([0.5, -3.0]))
    SignSGD([param], lr=0.1).step()
    np.testing.assert_allclose(param.data, [0.9, -1.9])


@pytest.mark.parametrize("foreach", [None, False])
def test_a_step_marks_every_parameter_changed_so_a_stale_graph_raises(foreach):
    params = [Parameter(array) for array in initial_arrays()]
    opt = optim.Adam(params, lr=0.01, foreach=foreach)
    loss = sum((p * p).sum() for p in params)
    loss.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError, match="Adam.step"):
        loss.backward()


def test_read_only_parameter_arrays_are_replaced_by_updated_copies():
    frozen = np.arange(6.0).reshape(2, 3)
    frozen.flags.writeable = False
    param = Parameter(np.broadcast_to(np.ones(3), (2, 3)))  # a read-only view
    param.data = frozen
    opt = optim.SGD([param], lr=0.5)
    param.grad = Tensor(np.ones((2, 3)))
    opt.step()
    np.testing.assert_array_equal(param.data, np.arange(6.0).reshape(2, 3) - 0.5)
    np.testing.assert_array_equal(frozen, np.arange(6.0).reshape(2, 3))
    assert param.data.flags.writeable
