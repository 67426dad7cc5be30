"""Optimizers, gradient clipping and lr schedulers against PyTorch (float64): updated
parameters and state over several steps, state_dict round trips, schedules, errors."""
import math

import numpy as np
import pytest

from autograd import Tensor
from nn import optim
from nn.losses import cross_entropy
from nn.parameter import Parameter
from nn.optim import lr_scheduler as sched

RTOL, ATOL = 1e-6, 1e-12
SHAPES = [(4, 3), (3,), ()]
STEPS = 6

OPTIMIZER_CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.5, weight_decay=0.1, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.05)),
    ("Adam", dict(lr=0.01, maximize=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.02, weight_decay=0.1, amsgrad=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.1)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.3)),
]


def case_id(case):
    name, options = case
    return name + "".join(f"-{key}={value}" for key, value in options.items())


def make_pair(torch, seed=0, dtype=np.float64, shapes=SHAPES):
    """The same parameters in both libraries, as ours and torch's leaves (theirs is None
    when ``torch`` is None: for the tests that need no PyTorch)."""
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(shape).astype(dtype) for shape in shapes]
    ours = [Parameter(a.copy()) for a in arrays]
    theirs = None if torch is None else [torch.nn.Parameter(torch.tensor(a)) for a in arrays]
    return ours, theirs


def set_grads(torch, ours, theirs, rng, skip=()):
    for index, (p, q) in enumerate(zip(ours, theirs)):
        if index in skip:
            p.grad, q.grad = None, None
            continue
        grad = rng.standard_normal(p.shape).astype(p.dtype)
        p.grad, q.grad = Tensor(grad.copy()), torch.tensor(grad)


def assert_same_params(ours, theirs, step=""):
    for index, (p, q) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=RTOL, atol=ATOL,
                                   err_msg=f"parameter {index} after step {step}")


@pytest.mark.parametrize("case", OPTIMIZER_CASES, ids=[case_id(c) for c in OPTIMIZER_CASES])
def test_optimizer_steps_match_torch(torch, case):
    name, options = case
    ours, theirs = make_pair(torch)
    ours_opt = getattr(optim, name)(ours, **options)
    theirs_opt = getattr(torch.optim, name)(theirs, **options)
    rng = np.random.default_rng(1)
    for step in range(STEPS):
        set_grads(torch, ours, theirs, rng, skip=(2,) if step == 2 else ())
        ours_opt.step()
        theirs_opt.step()
        assert_same_params(ours, theirs, step)
    # Same state names and values as torch's, per parameter.
    ours_state, theirs_state = ours_opt.state_dict()["state"], theirs_opt.state_dict()["state"]
    assert sorted(ours_state) == sorted(theirs_state)
    for index in theirs_state:
        assert set(ours_state[index]) == set(theirs_state[index]), f"state names of {index}"
        for key, value in theirs_state[index].items():
            np.testing.assert_allclose(np.asarray(ours_state[index][key], dtype=np.float64),
                                       value.numpy(), rtol=RTOL, atol=ATOL,
                                       err_msg=f"state {key!r} of parameter {index}")


def test_optimizer_trains_through_backward_like_torch(torch):
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((8, 3)), rng.integers(0, 4, 8)
    ours, theirs = make_pair(torch, 3, shapes=[(3, 4), (4,)])
    ours_opt = optim.Adam(ours, lr=0.05)
    theirs_opt = torch.optim.Adam(theirs, lr=0.05)
    for step in range(STEPS):
        ours_opt.zero_grad()
        loss = cross_entropy(Tensor(x) @ ours[0] + ours[1], y)
        loss.backward()
        ours_opt.step()
        theirs_opt.zero_grad()
        reference = torch.nn.functional.cross_entropy(torch.tensor(x) @ theirs[0] + theirs[1],
                                                      torch.tensor(y))
        reference.backward()
        theirs_opt.step()
        np.testing.assert_allclose(loss.item(), reference.item(), rtol=RTOL)
        assert_same_params(ours, theirs, step)


def test_parameter_groups_get_their_own_hyperparameters(torch):
    ours, theirs = make_pair(torch, 4)
    ours_opt = optim.SGD([{"params": ours[:2]}, {"params": ours[2:], "lr": 0.5}], lr=0.1,
                         momentum=0.9)
    theirs_opt = torch.optim.SGD([{"params": theirs[:2]}, {"params": theirs[2:], "lr": 0.5}],
                                 lr=0.1, momentum=0.9)
    assert [g["lr"] for g in ours_opt.param_groups] == [0.1, 0.5]
    rng = np.random.default_rng(5)
    for step in range(3):
        set_grads(torch, ours, theirs, rng)
        ours_opt.step()
        theirs_opt.step()
    assert_same_params(ours, theirs)
    extra = Parameter(np.ones(2))
    ours_opt.add_param_group({"params": [extra], "lr": 0.01})
    assert ours_opt.param_groups[-1]["momentum"] == 0.9
    with pytest.raises(ValueError, match="more than one parameter group"):
        ours_opt.add_param_group({"params": [extra]})


def test_updates_in_place_without_graph_and_skip_missing_grads():
    params = [Parameter(np.ones(3)), Parameter(np.ones(2))]
    arrays = [p.data for p in params]
    opt = optim.Adam(params, lr=0.1)
    loss = (params[0] * params[0]).sum()
    loss.backward()
    opt.step()
    assert params[0].data is arrays[0], "the update must write into the parameter's array"
    assert params[0].is_leaf and params[0].requires_grad and params[0].grad_fn is None
    assert not np.allclose(params[0].data, 1.0)
    np.testing.assert_array_equal(params[1].data, np.ones(2))
    assert params[1] not in opt.state or not opt.state[params[1]]


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_float32_parameters_stay_float32(torch, name):
    ours, theirs = make_pair(torch, 6, dtype=np.float32)
    ours_opt = getattr(optim, name)(ours, lr=0.01, **({"momentum": 0.9} if name == "SGD" else {}))
    theirs_opt = getattr(torch.optim, name)(theirs, lr=0.01,
                                            **({"momentum": 0.9} if name == "SGD" else {}))
    rng = np.random.default_rng(7)
    for _ in range(3):
        set_grads(torch, ours, theirs, rng)
        ours_opt.step()
        theirs_opt.step()
    for p, q in zip(ours, theirs):
        assert p.dtype == np.float32
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-5, atol=1e-6)
    for state in ours_opt.state.values():
        for value in state.values():
            assert not isinstance(value, np.ndarray) or value.dtype == np.float32


def test_zero_grad():
    params = [Parameter(np.ones(3))]
    opt = optim.SGD(params, lr=0.1)
    params[0].grad = Tensor(np.full(3, 2.0))
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(params[0].grad.data, np.zeros(3))
    opt.zero_grad()
    assert params[0].grad is None


def test_closure_returns_loss():
    param = Parameter(np.array([3.0]))
    opt = optim.SGD([param], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (param * param).sum()
        loss.backward()
        return loss
    loss = opt.step(closure)
    assert loss.item() == 9.0
    np.testing.assert_allclose(param.data, [1.5])


# --- state_dict ---------------------------------------------------------------------------
@pytest.mark.parametrize("name, options", [("Adam", dict(amsgrad=True)),
                                           ("SGD", dict(lr=0.1, momentum=0.9)),
                                           ("RMSprop", dict(centered=True, momentum=0.5)),
                                           ("Adagrad", dict())])
def test_state_dict_round_trip_resumes_exactly(name, options):
    rng = np.random.default_rng(8)
    grads = [[rng.standard_normal(shape) for shape in SHAPES] for _ in range(5)]
    straight, _ = make_pair(None, 9)
    resumed, _ = make_pair(None, 9)
    straight_opt = getattr(optim, name)(straight, **options)
    first_opt = getattr(optim, name)(resumed, **options)

    def step(params, optimizer, number):
        for p, g in zip(params, grads[number]):
            p.grad = Tensor(g)
        optimizer.step()
    for number in range(5):
        step(straight, straight_opt, number)
    for number in range(3):
        step(resumed, first_opt, number)
    saved = first_opt.state_dict()
    assert [group["params"] for group in saved["param_groups"]] == [[0, 1, 2]]
    kept = [p.data.copy() for p in resumed]
    step(resumed, first_opt, 4)      # a later step must not change the saved snapshot
    for p, data in zip(resumed, kept):
        p.data[...] = data
    second_opt = getattr(optim, name)(resumed, **options)
    second_opt.load_state_dict(saved)
    for number in (3, 4):
        step(resumed, second_opt, number)
    for p, q in zip(resumed, straight):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-12, atol=0)
    straight_state = straight_opt.state_dict()["state"]
    for index, entry in second_opt.state_dict()["state"].items():
        for key, value in entry.items():
            np.testing.assert_allclose(value, straight_state[index][key], rtol=1e-12, atol=0)


def test_state_dict_structure_matches_torch(torch):
    ours, theirs = make_pair(torch, 10)
    ours_opt, theirs_opt = optim.Adam(ours, lr=0.01), torch.optim.Adam(theirs, lr=0.01)
    rng = np.random.default_rng(11)
    set_grads(torch, ours, theirs, rng)
    ours_opt.step(), theirs_opt.step()
    ours_sd, theirs_sd = ours_opt.state_dict(), theirs_opt.state_dict()
    assert set(ours_sd) == set(theirs_sd) == {"state", "param_groups"}
    assert set(ours_sd["param_groups"][0]) <= set(theirs_sd["param_groups"][0])
    assert ours_sd["param_groups"][0]["params"] == theirs_sd["param_groups"][0]["params"]


def test_loads_a_torch_optimizer_state_and_continues_identically(torch):
    ours, theirs = make_pair(torch, 12)
    ours_opt, theirs_opt = optim.Adam(ours, lr=0.02), torch.optim.Adam(theirs, lr=0.02)
    rng = np.random.default_rng(13)
    for _ in range(3):
        set_grads(torch, ours, theirs, rng)
        theirs_opt.step()
    for p, q in zip(ours, theirs):
        p.data[...] = q.detach().numpy()
    torch_sd = theirs_opt.state_dict()
    converted = {"state": {i: {k: v.numpy() for k, v in s.items()}
                           for i, s in torch_sd["state"].items()},
                 "param_groups": [{k: v for k, v in g.items() if k in ours_opt.param_groups[0]
                                   or k == "params"} for g in torch_sd["param_groups"]]}
    ours_opt.load_state_dict(converted)
    assert ours_opt.state[ours[0]]["step"] == 3
    for _ in range(2):
        set_grads(torch, ours, theirs, rng)
        ours_opt.step(), theirs_opt.step()
    assert_same_params(ours, theirs)


def test_load_state_dict_rejects_mismatches_and_changes_nothing():
    params = [Parameter(np.ones((2, 2))), Parameter(np.ones(3))]
    opt = optim.Adam(params, lr=0.1)
    params[0].grad, params[1].grad = Tensor(np.ones((2, 2))), Tensor(np.ones(3))
    opt.step()
    before = opt.state_dict()
    good = opt.state_dict()

    bad_groups = {"state": good["state"], "param_groups": good["param_groups"] * 2}
    with pytest.raises(ValueError, match="2 parameter groups, this optimizer has 1"):
        opt.load_state_dict(bad_groups)
    bad_size = {"state": good["state"],
                "param_groups": [dict(good["param_groups"][0], params=[0])]}
    with pytest.raises(ValueError, match="1 parameters in the state dict but 2"):
        opt.load_state_dict(bad_size)
    bad_shape = {"state": {0: dict(good["state"][0], exp_avg=np.zeros(5)), 1: good["state"][1]},
                 "param_groups": [dict(good["param_groups"][0], lr=123.0)]}
    with pytest.raises(ValueError, match=r"'exp_avg' of parameter 0 has shape \(5,\)"):
        opt.load_state_dict(bad_shape)
    bad_lr = {"state": good["state"], "param_groups": [dict(good["param_groups"][0], lr=-1.0)]}
    with pytest.raises(ValueError, match="lr must be a non-negative number"):
        opt.load_state_dict(bad_lr)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for index in before["state"]:
        for key, value in before["state"][index].items():
            np.testing.assert_array_equal(after["state"][index][key], value)


# --- errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_empty_parameter_list_is_rejected(name):
    with pytest.raises(ValueError, match="empty parameter list"):
        getattr(optim, name)([], lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        getattr(optim, name)(iter(()))


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_negative_lr_is_rejected(name):
    with pytest.raises(ValueError, match=r"lr must be a non-negative number, got -0\.1"):
        getattr(optim, name)([Parameter(np.ones(2))], lr=-0.1)


@pytest.mark.parametrize("options, message", [
    (dict(betas=(1.0, 0.999)), r"betas\[0\] must be in \[0, 1\)"),
    (dict(betas=(0.9, -0.1)), r"betas\[1\] must be in \[0, 1\)"),
    (dict(eps=-1e-8), "eps must be a non-negative number"),
    (dict(weight_decay=-1.0), "weight_decay must be a non-negative number"),
])
def test_invalid_adam_hyperparameters_are_rejected(options, message):
    with pytest.raises(ValueError, match=message):
        optim.Adam([Parameter(np.ones(2))], **options)


def test_other_bad_arguments():
    param = Parameter(np.ones(2))
    with pytest.raises(ValueError, match="momentum must be a non-negative number"):
        optim.SGD([param], lr=0.1, momentum=-0.5)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum"):
        optim.SGD([param], lr=0.1, nesterov=True)
    with pytest.raises(TypeError, match="got a single Tensor"):
        optim.SGD(param, lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([param * 2], lr=0.1)
    with pytest.raises(ValueError, match="same parameter twice"):
        optim.SGD([param, param], lr=0.1)


# --- clipping ---------------------------------------------------------------------------------
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(torch, norm_type, max_norm):
    ours, theirs = make_pair(torch, 14)
    set_grads(torch, ours, theirs, np.random.default_rng(15))
    total = optim.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    reference = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, Tensor)
    np.testing.assert_allclose(total.item(), reference.item(), rtol=1e-12)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_edge_cases():
    param = Parameter(np.ones(2))
    assert optim.clip_grad_norm_([param], 1.0).item() == 0.0
    param.grad = Tensor(np.array([np.inf, 1.0]))
    with pytest.raises(RuntimeError, match="total norm .* is inf"):
        optim.clip_grad_norm_(param, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_matches_torch(torch):
    ours, theirs = make_pair(torch, 16)
    set_grads(torch, ours, theirs, np.random.default_rng(17))
    optim.clip_grad_value_(ours, 0.3)
    torch.nn.utils.clip_grad_value_(theirs, 0.3)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.data, q.grad.numpy())


# --- lr schedulers ---------------------------------------------------------------------------
def two_group_optimizers(torch=None, lrs=(0.1, 0.02)):
    ours, theirs = make_pair(torch, 18, shapes=[(2,), (3,)])
    ours_opt = optim.SGD([{"params": [ours[0]], "lr": lrs[0]}, {"params": [ours[1]], "lr": lrs[1]}])
    if torch is None:
        return ours_opt, None
    theirs_opt = torch.optim.SGD([{"params": [theirs[0]], "lr": lrs[0]},
                                  {"params": [theirs[1]], "lr": lrs[1]}])
    return ours_opt, theirs_opt


def lr_sequences(torch, make_ours, make_theirs, steps=40, metrics=None):
    """Step our scheduler and torch's side by side; ``make_theirs(optimizer, T)`` gets
    ``torch.optim.lr_scheduler`` as ``T``."""
    ours_opt, theirs_opt = two_group_optimizers(torch)
    ours, theirs = make_ours(ours_opt), make_theirs(theirs_opt, torch.optim.lr_scheduler)
    ours_lrs, theirs_lrs = [], []
    for step in range(steps):
        ours_lrs.append([g["lr"] for g in ours_opt.param_groups])
        theirs_lrs.append([g["lr"] for g in theirs_opt.param_groups])
        ours_opt.step(), theirs_opt.step()
        if metrics is None:
            ours.step(), theirs.step()
        else:
            ours.step(metrics[step]), theirs.step(metrics[step])
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)
    np.testing.assert_allclose(ours_lrs, theirs_lrs, rtol=1e-12, atol=0)
    return ours_lrs


SCHEDULE_CASES = {
    "StepLR": (lambda o: sched.StepLR(o, step_size=7, gamma=0.5),
               lambda o, T: T.StepLR(o, step_size=7, gamma=0.5)),
    "ExponentialLR": (lambda o: sched.ExponentialLR(o, gamma=0.9),
                      lambda o, T: T.ExponentialLR(o, gamma=0.9)),
    "CosineAnnealingLR": (lambda o: sched.CosineAnnealingLR(o, T_max=12, eta_min=0.001),
                          lambda o, T: T.CosineAnnealingLR(o, T_max=12, eta_min=0.001)),
    "LinearWarmup": (lambda o: sched.LinearWarmup(o, warmup_steps=8, start_factor=0.1),
                     lambda o, T: T.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=8)),
    "LinearLR": (lambda o: sched.LinearLR(o, start_factor=0.5, end_factor=0.2, total_iters=6),
                 lambda o, T: T.LinearLR(o, start_factor=0.5, end_factor=0.2, total_iters=6)),
    "warmup-then-cosine": (
        lambda o: sched.SequentialLR(o, [sched.LinearWarmup(o, warmup_steps=5, start_factor=0.2),
                                         sched.CosineAnnealingLR(o, T_max=30)], milestones=[5]),
        lambda o, T: T.SequentialLR(o, [T.LinearLR(o, start_factor=0.2, total_iters=5),
                                        T.CosineAnnealingLR(o, T_max=30)], milestones=[5])),
    "chained": (
        lambda o: sched.ChainedScheduler([sched.LinearWarmup(o, warmup_steps=4),
                                          sched.ExponentialLR(o, gamma=0.95)]),
        lambda o, T: T.ChainedScheduler([T.LinearLR(o, total_iters=4),
                                         T.ExponentialLR(o, gamma=0.95)])),
}


@pytest.mark.parametrize("name", sorted(SCHEDULE_CASES))
def test_schedules_match_torch(torch, name):
    make_ours, make_theirs = SCHEDULE_CASES[name]
    lrs = lr_sequences(torch, make_ours, make_theirs)
    assert len({tuple(x) for x in lrs}) > 1, "the schedule never changed the lr"


@pytest.mark.parametrize("options", [
    dict(), dict(mode="max", factor=0.5, patience=2), dict(patience=1, cooldown=2, min_lr=0.004),
    dict(threshold_mode="abs", threshold=0.05, patience=0, min_lr=[0.01, 0.001]),
])
def test_reduce_lr_on_plateau_matches_torch(torch, options):
    rng = np.random.default_rng(19)
    metrics = np.concatenate([np.linspace(1.0, 0.5, 8), 0.5 + 0.01 * rng.standard_normal(30)])
    lr_sequences(torch, lambda o: sched.ReduceLROnPlateau(o, **options),
                 lambda o, T: T.ReduceLROnPlateau(o, **options), steps=len(metrics),
                 metrics=metrics)


def test_scheduler_state_dict_resumes():
    opt, _ = two_group_optimizers()
    def make(optimizer):
        return sched.SequentialLR(optimizer, [sched.LinearWarmup(optimizer, 3),
                                              sched.CosineAnnealingLR(optimizer, 10)],
                                  milestones=[3])
    first = make(opt)
    for _ in range(5):
        first.step()
    saved, lrs = first.state_dict(), [g["lr"] for g in opt.param_groups]
    expected = []
    for _ in range(4):
        first.step()
        expected.append(first.get_last_lr())
    opt2, _ = two_group_optimizers()
    second = make(opt2)
    second.load_state_dict(saved)
    for group, lr in zip(opt2.param_groups, lrs):
        group["lr"] = lr
    got = []
    for _ in range(4):
        second.step()
        got.append(second.get_last_lr())
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_scheduler_argument_errors():
    opt, _ = two_group_optimizers()
    with pytest.raises(ValueError, match="step_size must be a positive integer"):
        sched.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="T_max must be a positive integer"):
        sched.CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(ValueError, match="start_factor must be in"):
        sched.LinearWarmup(opt, 5, start_factor=0.0)
    with pytest.raises(ValueError, match="factor must be < 1.0"):
        sched.ReduceLROnPlateau(opt, factor=2.0)
    with pytest.raises(ValueError, match="expected 1 milestones"):
        sched.SequentialLR(opt, [sched.StepLR(opt, 2), sched.StepLR(opt, 3)], milestones=[])
    with pytest.raises(TypeError, match="expected an nn.optim Optimizer"):
        sched.StepLR(object(), 3)
