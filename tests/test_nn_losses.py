"""Losses against PyTorch (float64): values, input gradients and target gradients, for
every reduction and option; second derivatives; and the errors that bad input raises."""
import numpy as np
import pytest

import nn
from autograd import Tensor
from autograd.testing import gradcheck, gradgradcheck
from nn import losses as L

RTOL, ATOL = 1e-6, 1e-10
REDUCTIONS = ["mean", "sum", "none"]


def rng(seed=0):
    return np.random.default_rng(seed)


def compare(torch, ours, theirs, arrays, differentiable, cotangent_seed=1, **kwargs):
    """Run both losses on ``arrays``; check values and gradients of sum(out * cotangent).

    ``differentiable`` flags which arrays are differentiated (the rest pass as constants:
    integer labels, weights).
    """
    our_args = [Tensor(a.copy(), requires_grad=True) if grad else a
                for a, grad in zip(arrays, differentiable)]
    torch_args = [torch.tensor(a, requires_grad=grad) if a.dtype.kind == "f" else torch.tensor(a)
                  for a, grad in zip(arrays, differentiable)]
    mine = ours(*our_args, **kwargs)
    reference = theirs(*torch_args, **kwargs)
    assert mine.shape == tuple(reference.shape)
    np.testing.assert_allclose(mine.data, reference.detach().numpy(), rtol=RTOL, atol=ATOL)
    cotangent = rng(cotangent_seed).standard_normal(mine.shape)
    (mine * cotangent).sum().backward()
    (reference * torch.tensor(cotangent)).sum().backward()
    for index, grad in enumerate(differentiable):
        if grad:
            np.testing.assert_allclose(our_args[index].grad.data, torch_args[index].grad.numpy(),
                                       rtol=RTOL, atol=ATOL,
                                       err_msg=f"gradient of argument {index}")
    return mine


# --- regression ---------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(7,), (4, 3), (2, 3, 4)])
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"], ids=["mse", "l1"])
def test_regression_losses_match_torch(torch, name, shape, reduction):
    r = rng()
    ours, theirs = getattr(L, name), getattr(torch.nn.functional, name)
    compare(torch, ours, theirs, [r.standard_normal(shape), r.standard_normal(shape)], [True, True],
            reduction=reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("delta", [0.5, 1.0, 2.5])
def test_huber_matches_torch(torch, delta, reduction):
    F = torch.nn.functional
    r = rng(2)
    input, target = r.standard_normal((6, 5)) * 2, r.standard_normal((6, 5))
    compare(torch, L.huber_loss, F.huber_loss, [input, target], [True, True], reduction=reduction,
            delta=delta)


# --- binary ---------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("with_weight", [False, True])
def test_binary_cross_entropy_matches_torch(torch, reduction, with_weight):
    F = torch.nn.functional
    r = rng(3)
    probs, target = r.uniform(0.02, 0.98, (5, 4)), r.uniform(0, 1, (5, 4))
    weight = r.uniform(0.5, 2.0, (4,)) if with_weight else None

    def ours(p, t):
        return L.binary_cross_entropy(p, t, weight=weight, reduction=reduction)

    def theirs(p, t):
        return F.binary_cross_entropy(p, t, reduction=reduction,
                                      weight=None if weight is None else torch.tensor(weight))
    compare(torch, ours, theirs, [probs, target], [True, True])


def test_binary_cross_entropy_clamps_logs_like_torch(torch):
    F = torch.nn.functional
    probs, target = np.array([0.0, 1.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0, 1.0])
    compare(torch, L.binary_cross_entropy, F.binary_cross_entropy, [probs, target], [True, False],
            reduction="none")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", ["plain", "weight", "pos_weight", "both"])
def test_binary_cross_entropy_with_logits_matches_torch(torch, reduction, options):
    F = torch.nn.functional
    r = rng(4)
    logits, target = r.standard_normal((6, 3)) * 4, r.uniform(0, 1, (6, 3))
    weight = r.uniform(0.5, 2, (6, 3)) if options in ("weight", "both") else None
    pos_weight = r.uniform(0.3, 3, (3,)) if options in ("pos_weight", "both") else None

    def ours(x, t):
        return L.binary_cross_entropy_with_logits(x, t, weight=weight, reduction=reduction,
                                                  pos_weight=pos_weight)

    def theirs(x, t):
        return F.binary_cross_entropy_with_logits(
            x, t, reduction=reduction, weight=None if weight is None else torch.tensor(weight),
            pos_weight=None if pos_weight is None else torch.tensor(pos_weight))
    compare(torch, ours, theirs, [logits, target], [True, True])


def test_binary_cross_entropy_with_logits_gradient_exact_for_large_logits(torch):
    F = torch.nn.functional
    logits = np.array([-40.0, -30.0, 30.0, 45.0, 800.0])
    target = np.array([0.0, 0.0, 1.0, 1.0, 0.0])
    mine = compare(torch, L.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits,
                   [logits, target], [True, False], reduction="sum")
    assert np.isfinite(mine.data)


# --- multi-class --------------------------------------------------------------------------------
def labels_for(r, shape, classes, ignore_index=None, ignored=0):
    labels = r.integers(0, classes, shape)
    if ignored:
        labels.reshape(-1)[:ignored] = ignore_index
    return labels


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5,), (6, 5), (3, 5, 4), (2, 5, 3, 2)],
                         ids=["unbatched", "rows", "1d-map", "2d-map"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("ignored", [0, 2])
def test_cross_entropy_with_labels_matches_torch(torch, shape, reduction, weighted, label_smoothing,
                                                  ignored):
    F = torch.nn.functional
    r = rng(5)
    classes = shape[0] if len(shape) == 1 else shape[1]
    batch = () if len(shape) == 1 else shape[:1] + shape[2:]
    if ignored and not batch:
        ignored = 0
    logits = r.standard_normal(shape) * 3
    labels = labels_for(r, batch, classes, ignore_index=3, ignored=ignored) if batch else \
        np.array(r.integers(0, classes))
    weight = r.uniform(0.2, 2, classes) if weighted else None
    kwargs = dict(reduction=reduction, label_smoothing=label_smoothing,
                  ignore_index=3 if ignored else -100)

    def ours(x, y):
        return L.cross_entropy(x, y, weight=weight, **kwargs)

    def theirs(x, y):
        return F.cross_entropy(x, y, weight=None if weight is None else torch.tensor(weight),
                               **kwargs)
    compare(torch, ours, theirs, [logits, labels], [True, False])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5,), (6, 5), (3, 5, 4)])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_cross_entropy_with_probabilities_matches_torch(torch, shape, reduction, weighted,
                                                         label_smoothing):
    F = torch.nn.functional
    r = rng(6)
    classes = shape[0] if len(shape) == 1 else shape[1]
    logits = r.standard_normal(shape) * 2
    probs = r.uniform(0, 1, shape)
    probs /= probs.sum(axis=0 if len(shape) == 1 else 1, keepdims=True)
    weight = r.uniform(0.2, 2, classes) if weighted else None

    def ours(x, t):
        return L.cross_entropy(x, t, weight=weight, reduction=reduction,
                               label_smoothing=label_smoothing)

    def theirs(x, t):
        return F.cross_entropy(x, t, weight=None if weight is None else torch.tensor(weight),
                               reduction=reduction, label_smoothing=label_smoothing)
    compare(torch, ours, theirs, [logits, probs], [True, True])


def test_cross_entropy_accepts_integer_one_hot_rows():
    r = rng(7)
    logits, labels = r.standard_normal((8, 4)), r.integers(0, 4, 8)
    one_hot = np.eye(4, dtype=np.int64)[labels]
    by_label = L.cross_entropy(Tensor(logits), labels)
    by_one_hot = L.cross_entropy(Tensor(logits), one_hot)
    np.testing.assert_allclose(by_one_hot.data, by_label.data, rtol=1e-12)


def test_cross_entropy_is_stable_for_huge_logits(torch):
    F = torch.nn.functional
    logits = np.array([[1e4, -1e4, 0.0], [-5e3, 5e3, 1e3]])
    labels = np.array([1, 1])
    mine = compare(torch, L.cross_entropy, F.cross_entropy, [logits, labels], [True, False])
    assert np.isfinite(mine.data)


def test_cross_entropy_keeps_float32():
    logits = Tensor(rng().standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    loss = L.cross_entropy(logits, np.array([0, 2, 1, 2]), label_smoothing=0.1)
    loss.backward()
    assert loss.dtype == np.float32 and logits.grad.dtype == np.float32


def test_cross_entropy_all_labels_ignored_is_nan_like_torch(torch):
    F = torch.nn.functional
    logits = np.zeros((2, 3))
    loss = L.cross_entropy(Tensor(logits), np.array([-100, -100]))
    assert np.isnan(loss.item())
    assert np.isnan(F.cross_entropy(torch.tensor(logits), torch.tensor([-100, -100])).item())


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5,), (6, 5), (3, 5, 4)])
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_matches_torch(torch, shape, reduction, weighted):
    F = torch.nn.functional
    r = rng(8)
    classes = shape[0] if len(shape) == 1 else shape[1]
    batch = () if len(shape) == 1 else shape[:1] + shape[2:]
    log_probs = r.standard_normal(shape)
    labels = labels_for(r, batch, classes, ignore_index=1, ignored=1) if batch else np.array(2)
    weight = r.uniform(0.2, 2, classes) if weighted else None

    def ours(x, y):
        return L.nll_loss(x, y, weight=weight, ignore_index=1, reduction=reduction)

    def theirs(x, y):
        return F.nll_loss(x, y, weight=None if weight is None else torch.tensor(weight),
                          ignore_index=1, reduction=reduction)
    compare(torch, ours, theirs, [log_probs, labels], [True, False])


# --- second derivatives -----------------------------------------------------------------------
def test_cross_entropy_second_derivative():
    r = rng(9)
    logits, labels, weight = r.standard_normal((4, 3)), np.array([0, 2, 1, 2]), r.uniform(0.5, 2, 3)
    f = lambda x: L.cross_entropy(x, labels, weight=weight, label_smoothing=0.1)  # noqa: E731
    assert gradcheck(f, logits)
    assert gradgradcheck(f, logits)


def test_loss_hessian_matches_torch(torch):
    F = torch.nn.functional
    r = rng(10)
    logits, probs = r.standard_normal((3, 4)), r.dirichlet(np.ones(4), 3)
    x = Tensor(logits, requires_grad=True)
    L.cross_entropy(x, probs).backward(create_graph=True)
    grad, x.grad = x.grad, None
    (grad * grad).sum().backward()
    tx = torch.tensor(logits, requires_grad=True)
    (tgrad,) = torch.autograd.grad(F.cross_entropy(tx, torch.tensor(probs)), [tx],
                                   create_graph=True)
    (tgrad * tgrad).sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("loss", [L.binary_cross_entropy, L.mse_loss, L.huber_loss])
def test_elementwise_losses_second_derivative(loss):
    r = rng(11)
    a, b = r.uniform(0.1, 0.9, (3, 2)), r.uniform(0.05, 0.95, (3, 2))
    assert gradgradcheck(loss, a, b)


# --- Module classes --------------------------------------------------------------------------
MODULE_CASES = [
    ("MSELoss", {}, "float"), ("L1Loss", {"reduction": "sum"}, "float"),
    ("HuberLoss", {"delta": 0.7}, "float"), ("BCELoss", {}, "prob"),
    ("BCEWithLogitsLoss", {"pos_weight": np.array([2.0, 0.5, 1.5])}, "float01"),
    ("CrossEntropyLoss", {"label_smoothing": 0.1, "ignore_index": 0}, "label"),
    ("CrossEntropyLoss", {"weight": np.array([1.0, 2.0, 0.5])}, "label"),
    ("NLLLoss", {"reduction": "none"}, "label"),
]


@pytest.mark.parametrize("name, options, kind", MODULE_CASES,
                         ids=[f"{name}-{i}" for i, (name, _, _) in enumerate(MODULE_CASES)])
def test_loss_modules_match_torch_modules(torch, name, options, kind):
    r = rng(12)
    input = r.uniform(0.05, 0.95, (5, 3)) if kind == "prob" else r.standard_normal((5, 3))
    target = {"float": r.standard_normal((5, 3)), "prob": r.uniform(0, 1, (5, 3)),
              "float01": r.uniform(0, 1, (5, 3)), "label": r.integers(0, 3, 5)}[kind]
    torch_options = {key: torch.tensor(value) if isinstance(value, np.ndarray) else value
                     for key, value in options.items()}
    ours, theirs = getattr(nn.losses, name)(**options), getattr(torch.nn, name)(**torch_options)
    assert isinstance(ours, nn.module.Module)
    compare(torch, ours, theirs, [input, target], [True, kind != "label"])
    assert name in repr(ours)


def test_loss_classes_are_exported():
    assert set(L.__all__) == {"MSELoss", "L1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss",
                              "CrossEntropyLoss", "NLLLoss"}
    for name in L.__all__:
        assert getattr(nn, name, None) is getattr(L, name), f"nn.{name} is not exported"


# --- bad input -------------------------------------------------------------------------------
def test_cross_entropy_rejects_labels_out_of_range():
    logits = Tensor(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"class labels must be in \[0, 3\].*\[4\]"):
        L.cross_entropy(logits, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match=r"\[-1\]"):
        nn.losses.CrossEntropyLoss()(logits, np.array([0, -1, 1]))


def test_cross_entropy_rejects_float_labels():
    with pytest.raises(TypeError, match="class labels must be integers, got dtype float64"):
        nn.losses.CrossEntropyLoss()(Tensor(np.zeros((3, 4))), np.array([0.0, 1.0, 2.0]))


def test_cross_entropy_rejects_mismatched_batch():
    with pytest.raises(ValueError,
                       match=r"shape \(3, 4\) needs class labels of shape \(3,\).*\(5,\)"):
        L.cross_entropy(Tensor(np.zeros((3, 4))), np.zeros(5, dtype=np.int64))


@pytest.mark.parametrize("loss", [L.mse_loss, L.l1_loss, L.huber_loss, L.binary_cross_entropy,
                                  L.binary_cross_entropy_with_logits])
def test_elementwise_losses_reject_mismatched_shapes(loss):
    with pytest.raises(ValueError, match=r"input has shape \(4, 2\) but target has shape \(5, 2\)"):
        loss(Tensor(np.full((4, 2), 0.5)), np.full((5, 2), 0.5))


def test_bad_options_are_rejected():
    x = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="reduction must be one of"):
        L.mse_loss(x, np.zeros((2, 3)), reduction="avg")
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.losses.CrossEntropyLoss(reduction="average")
    with pytest.raises(ValueError, match=r"weight must have one entry per class, shape \(3,\)"):
        L.cross_entropy(x, np.array([0, 1]), weight=np.ones(4))
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        L.cross_entropy(x, np.array([0, 1]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="delta must be positive"):
        nn.losses.HuberLoss(delta=0)
    with pytest.raises(TypeError, match="input must be a floating-point tensor"):
        L.cross_entropy(np.zeros((2, 3), dtype=np.int64), np.array([0, 1]))


def test_binary_cross_entropy_rejects_values_outside_unit_interval():
    with pytest.raises(ValueError, match=r"input \(probabilities\) must be in \[0, 1\]"):
        L.binary_cross_entropy(Tensor(np.array([0.5, 1.2])), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="target must be in"):
        L.binary_cross_entropy(Tensor(np.array([0.5, 0.2])), np.array([0.0, 1.5]))
