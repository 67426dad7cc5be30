"""Class-label cross-entropy takes a fast path (no one-hot targets): it must give the
bits of the one-hot path, whose PyTorch parity is tested elsewhere."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Tensor
from nn.losses import cross_entropy


@settings(max_examples=30, deadline=None)
@given(rows=st.integers(1, 6), classes=st.integers(1, 7), seed=st.integers(0, 2**16),
       reduction=st.sampled_from(["mean", "sum", "none"]),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_labels_give_the_bits_of_one_hot_targets(rows, classes, seed, reduction, dtype):
    rng = np.random.default_rng(seed)
    logits = (rng.standard_normal((rows, classes)) * 4).astype(dtype)
    labels = rng.integers(0, classes, rows)
    one_hot = np.eye(classes, dtype=dtype)[labels]
    results = []
    for target in (labels, one_hot):
        x = Tensor(logits.copy(), requires_grad=True)
        loss = cross_entropy(x, target, reduction=reduction)
        loss.backward(np.ones(loss.shape, dtype=dtype))
        results.append((loss.data, x.grad.data))
    (loss_labels, grad_labels), (loss_one_hot, grad_one_hot) = results
    assert loss_labels.dtype == loss_one_hot.dtype == dtype
    np.testing.assert_array_equal(loss_labels, loss_one_hot)
    np.testing.assert_array_equal(grad_labels, grad_one_hot)


def test_labels_path_keeps_second_derivatives():
    torch = pytest.importorskip("torch")
    import autograd as ag
    rng = np.random.default_rng(0)
    logits, labels = rng.standard_normal((4, 3)), rng.integers(0, 3, 4)
    x = Tensor(logits, requires_grad=True)
    (grad,) = ag.grad(cross_entropy(x, labels), [x], create_graph=True)
    (grad_of_norm,) = ag.grad((grad * grad).sum(), [x])
    t = torch.tensor(logits, requires_grad=True)
    (t_grad,) = torch.autograd.grad(torch.nn.functional.cross_entropy(t, torch.tensor(labels)),
                                    [t], create_graph=True)
    (t_grad_of_norm,) = torch.autograd.grad((t_grad * t_grad).sum(), [t])
    np.testing.assert_allclose(grad.data, t_grad.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(grad_of_norm.data, t_grad_of_norm.numpy(), rtol=1e-8, atol=1e-14)
