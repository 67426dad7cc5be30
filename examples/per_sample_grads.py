"""Per-example gradients with vmap(grad(...)) and one DP-SGD step, on Fashion-MNIST.

    python examples/per_sample_grads.py           # Fashion-MNIST, a few DP-SGD steps
    python examples/per_sample_grads.py --smoke   # small generated data, for tests

The MLP is the notes' 784-256-10 with LeakyReLU (no BatchNorm: batch statistics would
couple the examples, and DP-SGD needs each example's gradient on its own). Its
per-example gradients come from ``vmap(grad(loss))`` over ``nn.functional_call`` in one
pass, and are checked against the loop that runs one backward pass per example. A
DP-SGD step (Abadi et al. 2016) then clips each example's gradient to norm CLIP, sums,
adds Gaussian noise of standard deviation NOISE * CLIP, and averages.
"""
import argparse
import time

import numpy as np

import autograd as ag
import nn
from autograd.functional import grad, vmap
from nn.datasets import fashion_mnist

BATCH = 100
STEPS = 20
CLIP = 1.0
NOISE = 1.1
LEARNING_RATE = 0.1
SEED = 0


def build_mlp(inputs=784, hidden=256, classes=10):
    nn.manual_seed(SEED)
    return nn.Sequential(nn.Linear(inputs, hidden), nn.LeakyReLU(0.01), nn.Linear(hidden, classes))


def example_loss(model, names):
    """Cross-entropy of ONE example as a function of the parameter values."""
    def loss(*values):
        *parameters, x, target = values
        logits = nn.functional_call(model, dict(zip(names, parameters)), (x,))
        return -(ag.log_softmax(logits) * target).sum()
    return loss


def per_example_grads(model, x, target):
    """One gradient per example and parameter, ``(batch,) + parameter.shape``, in one pass."""
    names, values = zip(*[(n, p.detach()) for n, p in model.named_parameters()])
    positions = tuple(range(len(values)))
    mapped = vmap(grad(example_loss(model, names), argnums=positions),
                  in_axes=(None,) * len(values) + (0, 0))
    return [g.data for g in mapped(*values, x, target)]


def looped_grads(model, x, target):
    """The same by one backward pass per example (the reference)."""
    names, values = zip(*[(n, p.detach()) for n, p in model.named_parameters()])
    gradient = grad(example_loss(model, names), argnums=tuple(range(len(values))))
    rows = [gradient(*values, x[i], target[i]) for i in range(len(x))]
    return [np.stack([row[k].data for row in rows]) for k in range(len(values))]


def dp_sgd_step(model, grads, rng, clip=CLIP, noise=NOISE, lr=LEARNING_RATE):
    """Clip each example's gradient to norm ``clip``, sum, add noise, average, step."""
    batch = len(grads[0])
    norms = np.sqrt(sum(np.sum(g.reshape(batch, -1) ** 2, axis=1) for g in grads))
    scale = np.minimum(1.0, clip / np.maximum(norms, 1e-12))
    for parameter, g in zip(model.parameters(), grads):
        clipped = np.tensordot(scale, g, axes=1)
        noisy = clipped + rng.normal(0.0, noise * clip, size=clipped.shape)
        parameter.data -= lr * (noisy / batch).astype(parameter.data.dtype)
    return norms


def mean_loss(model, x, y):
    return nn.CrossEntropyLoss()(model(ag.Tensor(x)), y).item()


def main(steps=STEPS, smoke=False, load=fashion_mnist):
    if smoke:
        rng = np.random.default_rng(SEED)
        x_train, y_train = rng.random((64, 784)), rng.integers(0, 10, 64)
        batch, steps = 16, min(steps, 2)
    else:
        (x_train, y_train), _ = load(normalize=True, flatten=True)
        batch = BATCH
    x_train = np.asarray(x_train, dtype=np.float64)
    targets = np.eye(10)[y_train]
    model = build_mlp().to(np.float64)
    rng = np.random.default_rng(SEED)

    x, target = x_train[:batch], targets[:batch]
    start = time.perf_counter()
    mapped = per_example_grads(model, x, target)
    vmap_seconds = time.perf_counter() - start
    start = time.perf_counter()
    looped = looped_grads(model, x, target)
    loop_seconds = time.perf_counter() - start
    difference = max(float(np.max(np.abs(a - b))) for a, b in zip(mapped, looped))
    print(f"per-example gradients of {batch} examples: vmap(grad) {vmap_seconds * 1e3:.1f} ms, "
          f"loop {loop_seconds * 1e3:.1f} ms ({loop_seconds / vmap_seconds:.1f}x); "
          f"max difference {difference:.2e}")

    before = mean_loss(model, x_train[:10 * batch], y_train[:10 * batch])
    norms = None
    for step in range(steps):
        rows = rng.choice(len(x_train), batch, replace=False)
        norms = dp_sgd_step(model, per_example_grads(model, x_train[rows], targets[rows]), rng)
    after = mean_loss(model, x_train[:10 * batch], y_train[:10 * batch])
    print(f"gradient norms in the last batch: median {np.median(norms):.3f}, "
          f"max {norms.max():.3f}, clipped {np.mean(norms > CLIP):.0%}")
    print(f"DP-SGD, {steps} steps (clip {CLIP}, noise {NOISE}): loss {before:.3f} -> {after:.3f}")
    return dict(difference=difference, norms=norms, loss_before=before, loss_after=after,
                speedup=loop_seconds / vmap_seconds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="small generated data, 2 steps")
    parser.add_argument("--steps", type=int, default=STEPS)
    arguments = parser.parse_args()
    main(arguments.steps, arguments.smoke)
