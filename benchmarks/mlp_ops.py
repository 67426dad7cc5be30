"""The MLP's ops one by one against the NumPy lines of train_mlp.NumpyMLP, paired.

For each op of the notes' Fashion-MNIST MLP (784-256-128-64-32-10, float32) at each
batch size: our op's forward + VJP, called directly (no graph, no engine), against the
lines of ``NumpyMLP.train_step`` that compute the same forward and gradients, over the
MLP's layer shapes. Then the whole forward + backward (modules, engine and loss
included, no optimizer step) against ``NumpyMLP.train_step`` without its Adam step.

The two sides alternate within every repeat (the order flipping from one repeat to the
next) and the report gives the median of the per-repeat ratios, ours / NumPy: on a
shared, noisy machine only such paired ratios mean anything.

Run by hand:  OPENBLAS_NUM_THREADS=1 python benchmarks/mlp_ops.py [--batch 10 100] [--repeats 60]
(TRAIN_MLP_CHECKOUT=DIR times another checkout's ops, e.g. main's, against the same NumPy.)
"""
import argparse
import statistics
import time

import numpy as np

# First: it puts this checkout (or TRAIN_MLP_CHECKOUT's) at the head of sys.path.
import train_mlp
from train_mlp import BN_EPS, BN_MOMENTUM, SIZES, SLOPE

import nn
from autograd import Tensor
from nn.ops.activation import LeakyRelu
from nn.ops.linear import Linear
from nn.ops.loss_ops import SoftmaxCrossEntropyLabels
from nn.ops.normalization import BatchNorm

HIDDEN = SIZES[1:-1]


def _arrays(rng, *shapes):
    return [rng.standard_normal(shape).astype(np.float32) for shape in shapes]


def linear_pair(rng, batch):
    """Every Linear of the MLP: forward, then the weight, bias and (but for the first
    layer, whose input needs none) input gradients."""
    layers = [(*_arrays(rng, (batch, fan_in), (fan_out, fan_in), (fan_out,), (batch, fan_out)),
               index > 0) for index, (fan_in, fan_out) in enumerate(zip(SIZES[:-1], SIZES[1:]))]

    def ours():
        for x, weight, bias, grad, needs_x in layers:
            op = Linear()
            out = op.forward(x, weight, bias)
            op.needs_grad = (needs_x, True, True)
            op.vjp(grad, out, x, weight, bias)

    def numpy():
        for x, weight, bias, grad, needs_x in layers:
            z = x @ weight.T
            z += bias
            grad.T @ x, grad.sum(axis=0)
            if needs_x:
                grad @ weight
    return ours, numpy


def batch_norm_pair(rng, batch):
    """Every BatchNorm1d, training with running statistics: forward and all gradients."""
    layers = [(*_arrays(rng, (batch, width), (width,), (width,), (batch, width)),
               np.zeros(width, np.float32), np.ones(width, np.float32)) for width in HIDDEN]

    def ours():
        for x, gamma, beta, grad, running_mean, running_var in layers:
            op = BatchNorm()
            out = op.forward(x, gamma, beta, running_mean=running_mean,
                             running_var=running_var, training=True, momentum=BN_MOMENTUM,
                             eps=BN_EPS)
            op.needs_grad = (True, True, True)
            op.vjp(grad, out, x, gamma, beta)

    def numpy():
        for x, gamma, beta, grad_h, run_mean, run_var in layers:
            z = x.copy()  # NumpyMLP normalises its fresh product in place
            mean = z.mean(axis=0)
            z -= mean
            var = np.einsum("ij,ij->j", z, z) / batch
            inverse_std = 1.0 / np.sqrt(var + BN_EPS)
            z *= inverse_std
            normed = z * gamma
            normed += beta
            run_mean *= 1 - BN_MOMENTUM
            run_mean += BN_MOMENTUM * mean
            run_var *= 1 - BN_MOMENTUM
            run_var += (BN_MOMENTUM * batch / (batch - 1)) * var
            grad_gamma = np.einsum("ij,ij->j", grad_h, z)
            grad_beta = grad_h.sum(axis=0)
            grad_z = grad_h - grad_beta / batch
            grad_z -= z * (grad_gamma / batch)
            grad_z *= gamma * inverse_std
    return ours, numpy


def leaky_relu_pair(rng, batch):
    layers = [_arrays(rng, (batch, width), (batch, width)) for width in HIDDEN]

    def ours():
        for x, grad in layers:
            op = LeakyRelu()
            out = op.forward(x, negative_slope=SLOPE)
            op.needs_grad = (True,)
            op.vjp(grad, out, x)

    def numpy():
        for x, grad in layers:
            np.maximum(x, x * SLOPE)
            grad = grad.copy()  # NumpyMLP scales its fresh product in place
            grad[x <= 0] *= SLOPE
    return ours, numpy


def cross_entropy_pair(rng, batch):
    (logits,) = _arrays(rng, (batch, SIZES[-1]))
    labels = rng.integers(0, SIZES[-1], batch)
    one = np.ones((), np.float32)

    def ours():
        op = SoftmaxCrossEntropyLabels()
        out = op.forward(logits, labels, reduction="sum", scale=1.0 / batch)
        op.needs_grad = (True, False)
        op.vjp(one, out, logits, labels)

    def numpy():
        shifted = logits - logits.max(axis=1, keepdims=True)
        probs = np.exp(shifted)
        total = probs.sum(axis=1, keepdims=True)
        rows = np.arange(batch)
        float(np.mean(np.log(total[:, 0]) - shifted[rows, labels]))
        probs /= total
        probs[rows, labels] -= 1
        probs /= batch
    return ours, numpy


def model_pair(rng, batch):
    """The whole forward + backward, modules and engine included, no optimizer step."""
    weights = train_mlp.initial_weights()
    model = train_mlp.ours_model(weights)
    parameters, loss_fn = list(model.parameters()), nn.CrossEntropyLoss()
    reference = train_mlp.NumpyMLP(weights)
    reference.adam = lambda grads: None
    x, labels = rng.random((batch, SIZES[0]), dtype=np.float32), rng.integers(0, 10, batch)

    def ours():
        loss = loss_fn(model(Tensor(x)), labels)
        for parameter in parameters:
            parameter.grad = None
        loss.backward()
        loss.item()
    return ours, lambda: reference.train_step(x, labels)


PAIRS = {"linear": linear_pair, "batch_norm": batch_norm_pair, "leaky_relu": leaky_relu_pair,
         "softmax_ce": cross_entropy_pair, "model f+b": model_pair}


def paired(ours, numpy, calls, repeats):
    """(median ours/numpy ratio, median seconds of ours, of numpy) per call."""
    for _ in range(3):
        ours(), numpy()
    times = {ours: [], numpy: []}
    for repeat in range(repeats):
        for fn in (ours, numpy) if repeat % 2 else (numpy, ours):
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            times[fn].append((time.perf_counter() - start) / calls)
    ratio = statistics.median(a / b for a, b in zip(times[ours], times[numpy]))
    return ratio, statistics.median(times[ours]), statistics.median(times[numpy])


def main(batches, repeats):
    rng = np.random.default_rng(0)
    for batch in batches:
        for name, make in PAIRS.items():
            # about 10-50 ms a side per repeat at the MLP's sizes
            calls = max(2, (10 if name == "model f+b" else 50) * 10 // batch)
            ratio, ours, numpy = paired(*make(rng, batch), calls, repeats)
            print(f"batch {batch:4d}  {name:11s} ours {1e6 * ours:8.1f} us  "
                  f"numpy {1e6 * numpy:8.1f} us  ours/numpy x{ratio:.3f}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--repeats", type=int, default=60)
    arguments = parser.parse_args()
    main(arguments.batch, arguments.repeats)
