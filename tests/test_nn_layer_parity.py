"""Every layer and activation against PyTorch's, in float64: the same weights (copied
through state_dict, so the key names are checked too) and inputs give the same outputs,
input gradients, parameter gradients and buffers (rtol 1e-6), over several steps for
layers with running state."""
import warnings

import numpy as np
import pytest

import nn
from autograd import Tensor, no_grad

torch = pytest.importorskip("torch")
tnn = torch.nn

RTOL, ATOL = 1e-6, 1e-9


def close(ours, theirs, what):
    ours = ours.data if isinstance(ours, Tensor) else np.asarray(ours)
    theirs = theirs.detach().numpy() if torch.is_tensor(theirs) else np.asarray(theirs)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != {theirs.shape}"
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL, err_msg=what)


def copy_weights(theirs, ours):
    """Load PyTorch's state into ours: same keys, shapes and dtypes or load_state_dict fails."""
    ours.load_state_dict({key: value.detach().numpy().copy()
                          for key, value in theirs.state_dict().items()})


def float_input(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def run_step(ours, theirs, x, seed, differentiable_input=True):
    """One forward/backward on both with a random cotangent; compare everything."""
    our_x = Tensor(x.copy(), requires_grad=differentiable_input)
    their_x = torch.tensor(x, requires_grad=differentiable_input)
    our_out, their_out = ours(our_x), theirs(their_x)
    close(our_out, their_out, "output")
    cotangent = np.random.default_rng(seed + 100).standard_normal(their_out.shape)
    ours.zero_grad()
    theirs.zero_grad()
    (our_out * cotangent).sum().backward()
    (their_out * torch.from_numpy(cotangent)).sum().backward()
    if differentiable_input:
        close(our_x.grad, their_x.grad, "input gradient")
    their_parameters = dict(theirs.named_parameters())
    our_parameters = dict(ours.named_parameters())
    assert our_parameters.keys() == their_parameters.keys()
    for name, parameter in their_parameters.items():
        close(our_parameters[name].grad, parameter.grad, f"gradient of {name}")
    their_state = theirs.state_dict()
    for name, value in ours.state_dict().items():
        close(value, their_state[name], f"state {name}")


def check(ours, theirs, shape, steps=1, modes=("train",)):
    ours.to(np.float64)
    theirs.double()
    copy_weights(theirs, ours)
    for mode in modes:
        ours.train(mode == "train")
        theirs.train(mode == "train")
        for step in range(steps):
            run_step(ours, theirs, float_input(shape, seed=step), seed=step)


# (id, our module, their module, input shape): built lazily so each test gets fresh ones.
LAYERS = [
    ("linear", lambda: nn.Linear(5, 3), lambda: tnn.Linear(5, 3), (4, 5)),
    ("linear-no-bias", lambda: nn.Linear(5, 3, bias=False), lambda: tnn.Linear(5, 3, bias=False),
     (4, 5)),
    ("linear-3d", lambda: nn.Linear(5, 3), lambda: tnn.Linear(5, 3), (2, 4, 5)),
    ("linear-1d", lambda: nn.Linear(5, 3), lambda: tnn.Linear(5, 3), (5,)),
    ("conv", lambda: nn.Conv2d(3, 4, 3), lambda: tnn.Conv2d(3, 4, 3), (2, 3, 7, 6)),
    ("conv-stride-padding", lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1),
     lambda: tnn.Conv2d(3, 4, 3, stride=2, padding=1), (2, 3, 8, 7)),
    ("conv-rectangular", lambda: nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=(1, 0)),
     lambda: tnn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=(1, 0)), (2, 2, 7, 5)),
    ("conv-dilation", lambda: nn.Conv2d(2, 3, 3, dilation=2, padding=2),
     lambda: tnn.Conv2d(2, 3, 3, dilation=2, padding=2), (2, 2, 7, 7)),
    ("conv-groups", lambda: nn.Conv2d(4, 6, 3, groups=2, bias=False),
     lambda: tnn.Conv2d(4, 6, 3, groups=2, bias=False), (2, 4, 5, 5)),
    ("conv-same-even-kernel", lambda: nn.Conv2d(2, 3, 4, padding="same"),
     lambda: tnn.Conv2d(2, 3, 4, padding="same"), (2, 2, 6, 5)),
    ("conv-unbatched", lambda: nn.Conv2d(2, 3, 3), lambda: tnn.Conv2d(2, 3, 3), (2, 5, 5)),
    ("max-pool", lambda: nn.MaxPool2d(2), lambda: tnn.MaxPool2d(2), (2, 3, 6, 6)),
    ("max-pool-stride-padding", lambda: nn.MaxPool2d(3, stride=2, padding=1),
     lambda: tnn.MaxPool2d(3, stride=2, padding=1), (2, 3, 7, 6)),
    ("max-pool-dilation", lambda: nn.MaxPool2d(2, stride=1, dilation=2),
     lambda: tnn.MaxPool2d(2, stride=1, dilation=2), (1, 2, 6, 5)),
    ("max-pool-ceil", lambda: nn.MaxPool2d(2, ceil_mode=True),
     lambda: tnn.MaxPool2d(2, ceil_mode=True), (2, 2, 5, 7)),
    ("avg-pool", lambda: nn.AvgPool2d(2), lambda: tnn.AvgPool2d(2), (2, 3, 6, 6)),
    ("avg-pool-stride-padding", lambda: nn.AvgPool2d(3, stride=2, padding=1),
     lambda: tnn.AvgPool2d(3, stride=2, padding=1), (2, 3, 7, 6)),
    ("avg-pool-exclude-pad", lambda: nn.AvgPool2d(3, 2, 1, count_include_pad=False),
     lambda: tnn.AvgPool2d(3, 2, 1, count_include_pad=False), (2, 3, 7, 6)),
    ("avg-pool-ceil", lambda: nn.AvgPool2d(2, ceil_mode=True),
     lambda: tnn.AvgPool2d(2, ceil_mode=True), (2, 2, 5, 7)),
    ("avg-pool-divisor", lambda: nn.AvgPool2d(2, divisor_override=3),
     lambda: tnn.AvgPool2d(2, divisor_override=3), (1, 2, 4, 4)),
    ("flatten", lambda: nn.Flatten(), lambda: tnn.Flatten(), (2, 3, 4, 5)),
    ("flatten-range", lambda: nn.Flatten(0, 2), lambda: tnn.Flatten(0, 2), (2, 3, 4, 5)),
    ("layer-norm", lambda: nn.LayerNorm(5), lambda: tnn.LayerNorm(5), (3, 5)),
    ("layer-norm-2d", lambda: nn.LayerNorm((3, 4)), lambda: tnn.LayerNorm((3, 4)), (2, 3, 4)),
    ("layer-norm-plain", lambda: nn.LayerNorm(4, elementwise_affine=False),
     lambda: tnn.LayerNorm(4, elementwise_affine=False), (3, 4)),
    ("layer-norm-no-bias", lambda: nn.LayerNorm(4, bias=False),
     lambda: tnn.LayerNorm(4, bias=False), (3, 4)),
    ("relu", nn.ReLU, tnn.ReLU, (3, 4)),
    ("leaky-relu", lambda: nn.LeakyReLU(0.2), lambda: tnn.LeakyReLU(0.2), (3, 4)),
    ("leaky-relu-default", nn.LeakyReLU, tnn.LeakyReLU, (3, 4)),
    ("silu", nn.SiLU, tnn.SiLU, (3, 4)),
    ("gelu", nn.GELU, tnn.GELU, (3, 4)),
    ("gelu-tanh", lambda: nn.GELU("tanh"), lambda: tnn.GELU("tanh"), (3, 4)),
    ("sigmoid", nn.Sigmoid, tnn.Sigmoid, (3, 4)),
    ("tanh", nn.Tanh, tnn.Tanh, (3, 4)),
    ("softmax", lambda: nn.Softmax(dim=1), lambda: tnn.Softmax(dim=1), (3, 4)),
    ("softmax-last", lambda: nn.Softmax(dim=-1), lambda: tnn.Softmax(dim=-1), (2, 3, 4)),
    ("log-softmax", lambda: nn.LogSoftmax(dim=1), lambda: tnn.LogSoftmax(dim=1), (3, 4)),
    ("identity", nn.Identity, tnn.Identity, (3, 4)),
]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("build_ours, build_theirs, shape",
                         [case[1:] for case in LAYERS], ids=[case[0] for case in LAYERS])
def test_layer_matches_torch(build_ours, build_theirs, shape):
    check(build_ours(), build_theirs(), shape)


BATCH_NORMS = [
    ("1d", lambda **kw: nn.BatchNorm1d(4, **kw), lambda **kw: tnn.BatchNorm1d(4, **kw), (6, 4)),
    ("1d-3d-input", lambda **kw: nn.BatchNorm1d(4, **kw), lambda **kw: tnn.BatchNorm1d(4, **kw),
     (5, 4, 3)),
    ("2d", lambda **kw: nn.BatchNorm2d(3, **kw), lambda **kw: tnn.BatchNorm2d(3, **kw),
     (4, 3, 5, 2)),
]
BATCH_NORM_OPTIONS = [
    ("defaults", {}),
    ("momentum", dict(momentum=0.3)),
    ("cumulative-average", dict(momentum=None)),
    ("no-affine", dict(affine=False)),
    ("no-bias", dict(bias=False)),
    ("no-running-stats", dict(track_running_stats=False)),
    ("eps", dict(eps=1e-3)),
]


@pytest.mark.parametrize("options", [case[1] for case in BATCH_NORM_OPTIONS],
                         ids=[case[0] for case in BATCH_NORM_OPTIONS])
@pytest.mark.parametrize("build_ours, build_theirs, shape", [case[1:] for case in BATCH_NORMS],
                         ids=[case[0] for case in BATCH_NORMS])
def test_batch_norm_matches_torch_over_training_and_eval_steps(build_ours, build_theirs, shape,
                                                              options):
    # Four training steps move the running statistics (unbiased variance, momentum or
    # cumulative average); then three eval steps use them; then training again.
    ours, theirs = build_ours(**options), build_theirs(**options)
    ours.to(np.float64)
    theirs.double()
    copy_weights(theirs, ours)
    schedule = ["train"] * 4 + ["eval"] * 3 + ["train"] * 2
    for step, mode in enumerate(schedule):
        ours.train(mode == "train")
        theirs.train(mode == "train")
        x = float_input(shape, seed=step) * (1 + step) + step  # statistics differ per step
        run_step(ours, theirs, x, seed=step)
        if ours.track_running_stats:
            assert int(ours.num_batches_tracked.item()) == int(theirs.num_batches_tracked)


def test_batch_norm_under_no_grad_still_updates_running_statistics_as_torch():
    ours, theirs = nn.BatchNorm1d(3, dtype=np.float64), tnn.BatchNorm1d(3).double()
    x = float_input((8, 3))
    with no_grad():
        ours(Tensor(x))
    with torch.no_grad():
        theirs(torch.tensor(x))
    close(ours.running_mean, theirs.running_mean, "running_mean")
    close(ours.running_var, theirs.running_var, "running_var")


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_matches_torch(padding_idx):
    ours = nn.Embedding(6, 3, padding_idx=padding_idx)
    theirs = tnn.Embedding(6, 3, padding_idx=padding_idx)
    ours.to(np.float64)
    theirs.double()
    copy_weights(theirs, ours)
    indices = np.array([[0, 2, 5, 2], [1, 5, 5, 3]])
    our_out, their_out = ours(indices), theirs(torch.tensor(indices))
    close(our_out, their_out, "output")
    cotangent = float_input(their_out.shape)
    (our_out * cotangent).sum().backward()
    (their_out * torch.from_numpy(cotangent)).sum().backward()
    close(ours.weight.grad, theirs.weight.grad, "weight gradient")


@pytest.mark.parametrize("p", [0.0, 0.3, 0.5, 1.0])
def test_dropout_scaling_matches_torch_with_a_shared_mask(p):
    # Random streams differ between the libraries, so our mask is read off our output
    # (the input has no zeros) and PyTorch's formula input * mask / (1 - p) is applied.
    nn.manual_seed(7)
    x = float_input((50, 40)) + 10.0
    dropout = nn.Dropout(p)
    our_x, their_x = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    our_out = dropout(our_x)
    kept = our_out.data != 0
    expected_out = (their_x * torch.from_numpy(kept) / (1.0 - p)) if p < 1 else their_x * 0.0
    close(our_out, expected_out, "output")
    cotangent = float_input(x.shape, seed=3)
    (our_out * cotangent).sum().backward()
    (expected_out * torch.from_numpy(cotangent)).sum().backward()
    close(our_x.grad, their_x.grad, "input gradient")
    if 0 < p < 1:  # the kept fraction is 1 - p up to sampling noise (2000 draws)
        assert abs(kept.mean() - (1 - p)) < 0.05
    dropout.eval()
    assert dropout(our_x) is our_x
    assert torch.equal(tnn.Dropout(p).eval()(their_x), their_x)


def source_notes_mlp(lib, sizes=(20, 16, 12, 8, 4)):
    layers = []
    for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(lib.Linear(n_in, n_out))
        if index < len(sizes) - 2:
            layers += [lib.BatchNorm1d(n_out), lib.LeakyReLU(0.01)]
    return lib.Sequential(*layers)


def test_source_notes_mlp_matches_torch_over_sgd_steps():
    # Linear -> BatchNorm1d -> LeakyReLU(0.01) stacks, softmax cross-entropy written with
    # log_softmax, plain SGD written by hand on both sides: the same trajectory.
    ours, theirs = source_notes_mlp(nn), source_notes_mlp(tnn)
    ours.to(np.float64)
    theirs.double()
    copy_weights(theirs, ours)
    rng = np.random.default_rng(0)
    for step in range(8):
        x = rng.standard_normal((16, 20))
        labels = rng.integers(0, 4, 16)
        one_hot = np.eye(4)[labels]
        our_loss = -(nn.functional.log_softmax(ours(Tensor(x)), dim=1) * one_hot).sum() / 16
        their_log_probabilities = torch.log_softmax(theirs(torch.tensor(x)), 1)
        their_loss = -(their_log_probabilities * torch.tensor(one_hot)).sum() / 16
        close(our_loss, their_loss, f"loss at step {step}")
        ours.zero_grad()
        theirs.zero_grad()
        our_loss.backward()
        their_loss.backward()
        with no_grad(), torch.no_grad():
            for (name, mine), reference in zip(ours.named_parameters(), theirs.parameters()):
                close(mine.grad, reference.grad, f"gradient of {name} at step {step}")
                mine.data -= 0.1 * mine.grad.data
                reference -= 0.1 * reference.grad
    their_state = theirs.state_dict()
    for name, value in ours.state_dict().items():
        close(value, their_state[name], f"final {name}")


def test_functional_forms_match_torch():
    F, TF = nn.functional, torch.nn.functional
    x = float_input((2, 3, 6, 5))
    weight, bias = float_input((4, 3, 3, 3), seed=1), float_input((4,), seed=2)
    t = torch.tensor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = [
            (F.conv2d(x, weight, bias, 2, 1),
             TF.conv2d(t(x), t(weight), t(bias), stride=2, padding=1)),
            (F.max_pool2d(x, 2), TF.max_pool2d(t(x), 2)),
            (F.avg_pool2d(x, 3, 1, 1), TF.avg_pool2d(t(x), 3, 1, 1)),
            (F.unfold(x, 2, padding=1), TF.unfold(t(x), 2, padding=1)),
            (F.linear(x, float_input((7, 5))), TF.linear(t(x), t(float_input((7, 5))))),
            (F.leaky_relu(x, 0.3), TF.leaky_relu(t(x), 0.3)),
            (F.gelu(x, approximate="tanh"), TF.gelu(t(x), approximate="tanh")),
            (F.silu(x), TF.silu(t(x))),
            (F.softmax(Tensor(x), dim=1), TF.softmax(t(x), dim=1)),
            (F.log_softmax(Tensor(x), dim=-1), TF.log_softmax(t(x), dim=-1)),
            (F.layer_norm(x, (6, 5)), TF.layer_norm(t(x), (6, 5))),
            (F.batch_norm(x, None, None, training=True),
             TF.batch_norm(t(x), None, None, training=True)),
            (F.flatten(Tensor(x), 1), torch.flatten(t(x), 1)),
        ]
    for index, (mine, reference) in enumerate(cases):
        close(mine, reference, f"functional case {index}")


def test_activation_gradients_at_zero_follow_torch():
    # leaky_relu'(0) = negative_slope, relu'(0) = 0; gelu and silu are smooth there.
    x = np.array([-1.5, 0.0, 0.0, 2.0])
    for ours, theirs in [(nn.LeakyReLU(0.2), tnn.LeakyReLU(0.2)), (nn.ReLU(), tnn.ReLU()),
                         (nn.GELU(), tnn.GELU()), (nn.SiLU(), tnn.SiLU())]:
        run_step(ours, theirs, x, seed=0)
