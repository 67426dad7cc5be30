"""The fast paths of the MLP's ops (Linear -> BatchNorm1d -> LeakyReLU, softmax
cross-entropy on labels) against PyTorch and against their general paths: batch norm's
(N, C) rows against the (N, C, L) view, leaky_relu's slope bit for bit, the saved
softmax - one_hot surviving a second backward, and linear's threaded product."""
import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from autograd import Tensor

torch = pytest.importorskip("torch")


def _batch_norm_step(x, weight, bias, running_mean, running_var, training, grad):
    """Output, input/weight/bias gradients and the running statistics after one call."""
    tensors = [Tensor(value, requires_grad=True) if value is not None else None
               for value in (x, weight, bias)]
    out = F.batch_norm(tensors[0], running_mean, running_var, tensors[1], tensors[2],
                       training=training, momentum=0.1, eps=1e-5)
    out.backward(grad)
    grads = [None if t is None else t.grad.data for t in tensors]
    return out.data, grads, running_mean.copy(), running_var.copy()


def _torch_batch_norm_step(x, weight, bias, running_mean, running_var, training, grad):
    tensors = [None if value is None else torch.tensor(value, requires_grad=True)
               for value in (x, weight, bias)]
    mean, var = torch.tensor(running_mean), torch.tensor(running_var)
    out = torch.nn.functional.batch_norm(tensors[0], mean, var, tensors[1], tensors[2],
                                         training, 0.1, 1e-5)
    out.backward(torch.tensor(grad))
    grads = [None if t is None else t.grad.numpy() for t in tensors]
    return out.detach().numpy(), grads, mean.numpy(), var.numpy()


@pytest.mark.parametrize("batch", [2, 10, 100])
@pytest.mark.parametrize("affine", ["both", "weight only", "none"])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("dtype, tolerance", [(np.float32, 2e-4), (np.float64, 1e-10)])
def test_batch_norm_rows_match_torch_and_the_channel_view(batch, affine, training, dtype,
                                                         tolerance):
    rng = np.random.default_rng(batch)
    channels = 32
    x = (rng.standard_normal((batch, channels)) * 3 + 1).astype(dtype)
    grad = rng.standard_normal((batch, channels)).astype(dtype)
    weight = rng.uniform(0.5, 2.0, channels).astype(dtype) if affine != "none" else None
    bias = rng.standard_normal(channels).astype(dtype) if affine == "both" else None
    stats = (rng.standard_normal(channels).astype(dtype),
             rng.uniform(0.5, 2.0, channels).astype(dtype))

    rows = _batch_norm_step(x, weight, bias, *map(np.copy, stats), training, grad)
    # The same numbers through the (N, C, 1) view, which takes the einsum path.
    view = _batch_norm_step(x[:, :, None], weight, bias, *map(np.copy, stats), training,
                            grad[:, :, None])
    theirs = _torch_batch_norm_step(x, weight, bias, *map(np.copy, stats), training, grad)

    def flat(result):
        out, grads, mean, var = result
        return [out.reshape(batch, channels)] + [
            None if g is None else g.reshape(-1, channels)[:batch] for g in grads] + [mean, var]

    for ours, other in zip(flat(rows), flat(view)):
        if ours is not None:
            assert ours.dtype == dtype
            np.testing.assert_allclose(ours, other, rtol=tolerance, atol=tolerance)
    for ours, other in zip(flat(rows), flat(theirs)):
        if ours is not None:
            np.testing.assert_allclose(ours, other, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("shape", [(6, 2), (6, 2, 3)])
def test_batch_norm_of_integers_is_that_of_their_float64_values(shape):
    x = np.arange(np.prod(shape)).reshape(shape) ** 2
    ours = F.batch_norm(x, None, None, training=True)
    assert ours.dtype == np.float64
    np.testing.assert_allclose(ours, F.batch_norm(x.astype(np.float64), None, None,
                                                  training=True), rtol=1e-12)


def test_batch_norm_rows_keep_second_derivatives():
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((6, 4)), requires_grad=True)
    weight = Tensor(rng.uniform(0.5, 2.0, 4), requires_grad=True)
    out = F.batch_norm(x, None, None, weight, None, training=True)
    (grad,) = ag.grad((out * out * out).sum(), [x], create_graph=True)
    (grad_of_norm,) = ag.grad((grad * grad).sum(), [x])

    t_x = torch.tensor(x.data, requires_grad=True)
    t_out = torch.nn.functional.batch_norm(t_x, None, None, torch.tensor(weight.data), None,
                                           True)
    (t_grad,) = torch.autograd.grad((t_out ** 3).sum(), [t_x], create_graph=True)
    (t_grad_of_norm,) = torch.autograd.grad((t_grad * t_grad).sum(), [t_x])
    np.testing.assert_allclose(grad.data, t_grad.detach().numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(grad_of_norm.data, t_grad_of_norm.numpy(), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("slope", [0.01, 0.0, 1.0, 2.0, -0.5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_leaky_relu_and_its_gradient_are_torchs_bit_for_bit(slope, dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((10, 64)).astype(dtype)
    x[0, :5] = [0.0, -0.0, np.nan, np.inf, -np.inf]
    grad = rng.standard_normal(x.shape).astype(dtype)
    ours = Tensor(x, requires_grad=True)
    with np.errstate(invalid="ignore"):  # slope 0: -inf * 0 is nan, in PyTorch too
        out = F.leaky_relu(ours, slope)
    out.backward(grad)
    theirs = torch.tensor(x, requires_grad=True)
    t_out = torch.nn.functional.leaky_relu(theirs, slope)
    t_out.backward(torch.tensor(grad))
    np.testing.assert_array_equal(out.data, t_out.detach().numpy())
    assert ours.grad.dtype == dtype
    np.testing.assert_array_equal(ours.grad.data, theirs.grad.numpy())


def test_cross_entropy_labels_gradient_survives_a_second_backward():
    rng = np.random.default_rng(2)
    logits = Tensor(rng.standard_normal((10, 5)).astype(np.float32), requires_grad=True)
    labels = rng.integers(0, 5, 10)
    loss = nn.CrossEntropyLoss()(logits, labels)
    loss.backward(retain_graph=True)
    first = logits.grad.data.copy()
    logits.grad = None
    loss.backward()
    np.testing.assert_array_equal(logits.grad.data, first)
    theirs = torch.tensor(logits.data, requires_grad=True)
    torch.nn.functional.cross_entropy(theirs, torch.tensor(labels)).backward()
    np.testing.assert_allclose(first, theirs.grad.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("shape", [(7,), (3, 7), (2, 3, 7)])
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("threaded", [False, True])
def test_linear_matches_torch_for_every_input_rank(shape, with_bias, threaded, monkeypatch):
    if threaded:  # every product through gemm_threads' context, as large ones go
        monkeypatch.setattr("nn.ops.linear.LARGE_GEMM_MACS", 0)
    rng = np.random.default_rng(3)
    x, weight = rng.standard_normal(shape), rng.standard_normal((4, 7))
    bias = rng.standard_normal(4) if with_bias else None
    ours = [None if v is None else Tensor(v, requires_grad=True) for v in (x, weight, bias)]
    out = F.linear(*ours)
    grad = rng.standard_normal(out.shape)
    out.backward(grad)
    theirs = [None if v is None else torch.tensor(v, requires_grad=True)
              for v in (x, weight, bias)]
    t_out = torch.nn.functional.linear(*theirs)
    t_out.backward(torch.tensor(grad))
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-12, atol=1e-12)
    for mine, other in zip(ours, theirs):
        if mine is not None:
            np.testing.assert_allclose(mine.grad.data, other.grad.numpy(), rtol=1e-12,
                                       atol=1e-12)


def test_linear_layer_takes_lists_and_explains_mismatches():
    layer = nn.Linear(3, 2, dtype=np.float64)
    np.testing.assert_allclose(layer([[1.0, 2.0, 3.0]]).data,
                               layer(np.array([[1.0, 2.0, 3.0]])).data)
    with pytest.raises(ValueError, match=r"Linear expected input with last dimension 3.*"
                                         r"got shape \(2, 4\)"):
        layer(np.zeros((2, 4)))
    with pytest.raises(TypeError, match=r"input dtype float32 does not match the layer's "
                                        r"float64 parameters"):
        layer(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"expected input with last dimension 3"):
        layer(Tensor(np.float64(1.0)))
