"""Trajectory parity (issue acceptance): the source notes' MLP trained 200 steps from
identical weights and batches in our library and in PyTorch, float64; every step's
loss agrees within 1e-6 relative, and so do the final weights and BatchNorm statistics.

784-256-128-64-32-10, BatchNorm1d before LeakyReLU(0.01), He initialisation, softmax
cross-entropy, Adam lr 1e-3, batch 100, on synthetic data of Fashion-MNIST's shape.
"""
import contextlib

import numpy as np
import pytest

import nn
from autograd import Tensor

torch = pytest.importorskip("torch")

SIZES = (784, 256, 128, 64, 32, 10)
STEPS, BATCH, POOL = 200, 100, 2000
SLOPE, LR = 0.01, 1e-3


def synthetic_fashion_mnist(seed=0):
    """Pixel-like inputs in [0, 1] and labels from a random linear teacher (learnable)."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(0.0, 1.0, (POOL, SIZES[0]))
    teacher = rng.standard_normal((SIZES[0], SIZES[-1]))
    labels = np.argmax((images - 0.5) @ teacher, axis=1)
    return images, labels


def batch_indices(seed=1):
    rng = np.random.default_rng(seed)
    epochs = -(-STEPS * BATCH // POOL)
    order = np.concatenate([rng.permutation(POOL) for _ in range(epochs)])
    return order[:STEPS * BATCH].reshape(STEPS, BATCH)


def build_ours():
    nn.manual_seed(0)
    layers = []
    for index, (fan_in, fan_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        linear = nn.Linear(fan_in, fan_out)
        nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")   # He: std sqrt(2 / fan_in)
        nn.init.zeros_(linear.bias)
        layers.append(linear)
        if index < len(SIZES) - 2:
            layers += [nn.BatchNorm1d(fan_out), nn.LeakyReLU(SLOPE)]
    return nn.Sequential(*layers).to(np.float64)


def build_torch_copy(model):
    layers = []
    for layer in model:
        if isinstance(layer, nn.Linear):
            layers.append(torch.nn.Linear(layer.in_features, layer.out_features))
        elif isinstance(layer, nn.BatchNorm1d):
            layers.append(torch.nn.BatchNorm1d(layer.num_features))
        else:
            layers.append(torch.nn.LeakyReLU(SLOPE))
    reference = torch.nn.Sequential(*layers).double()
    reference.load_state_dict({key: torch.tensor(np.array(value.data))
                               for key, value in model.state_dict().items()})
    return reference


@pytest.fixture
def one_thread():
    """One BLAS thread and one torch thread for this test. On a small machine busy with
    other tests, spinning BLAS threads fight for the cores and make it many times slower."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        limits = contextlib.nullcontext()
    else:
        limits = threadpool_limits(limits=1)
    with limits:
        yield
    torch.set_num_threads(previous)


def test_mlp_trajectory_matches_torch(one_thread):
    images, labels = synthetic_fashion_mnist()
    model = build_ours()
    reference = build_torch_copy(model)
    optimizer = nn.optim.Adam(model.parameters(), lr=LR)
    torch_optimizer = torch.optim.Adam(reference.parameters(), lr=LR)
    loss_fn, torch_loss_fn = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()

    ours, theirs = [], []
    for batch in batch_indices():
        x, y = images[batch], labels[batch]
        loss = loss_fn(model(Tensor(x)), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        ours.append(loss.item())

        torch_loss = torch_loss_fn(reference(torch.tensor(x)), torch.tensor(y))
        torch_optimizer.zero_grad()
        torch_loss.backward()
        torch_optimizer.step()
        theirs.append(torch_loss.item())

    ours, theirs = np.array(ours), np.array(theirs)
    relative = np.abs(ours - theirs) / np.abs(theirs)
    assert relative.max() < 1e-6, (f"step {relative.argmax()}: ours {ours[relative.argmax()]!r}, "
                                   f"torch {theirs[relative.argmax()]!r}")
    assert ours[-20:].mean() < 0.5 * ours[:20].mean(), "the model did not learn: a vacuous run"
    torch_state = reference.state_dict()
    for key, value in model.state_dict().items():
        np.testing.assert_allclose(value.data, torch_state[key].numpy(), rtol=1e-6, atol=1e-9,
                                   err_msg=key)
    # Evaluation mode uses the running statistics: the same predictions as torch's.
    model.eval(), reference.eval()
    np.testing.assert_allclose(model(Tensor(images[:50])).data,
                               reference(torch.tensor(images[:50])).detach().numpy(),
                               rtol=1e-6, atol=1e-9)
