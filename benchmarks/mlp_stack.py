"""Where a training step of the notes' MLP spends its time, one layer of the stack at a time.

The Fashion-MNIST MLP of ``train_mlp.py`` (784-256-128-64-32-10, BatchNorm1d and
LeakyReLU(0.01) in every hidden layer, softmax cross-entropy, Adam, float32) trained four
ways in one process, from the same initial weights on the same batches:

    numpy    the hand-written forward, backward and Adam of ``train_mlp.NumpyMLP``
    kernels  the registered ops' ``forward`` and ``vjp`` called on arrays in a fixed
             order, gradients handed to ``nn.optim.Adam``: no graph, no modules. The
             least any implementation built on these kernels and this optimizer pays.
    engine   the same ops through ``autograd.extend.apply``, ``backward()`` and
             ``zero_grad``: the graph recorded and swept, still no modules.
    ours     what a user writes: ``nn.Sequential``, ``nn.CrossEntropyLoss``, ``Adam``.

So ``engine - kernels`` is what recording and sweeping the graph cost per step, and
``ours - engine`` what the modules and the loss's argument checks cost. In each of
``--rounds`` rounds every implementation trains ``--steps`` consecutive steps (as in
training, its weights and optimizer state stay warm in the caches), in an order that
rotates from round to round; the report gives the median time per step and the median
of the per-round ratios to ``numpy`` (paired: a round lasts well under a second).
One BLAS thread.

Run by hand:  python benchmarks/mlp_stack.py [--batch 10] [--rounds 40] [--steps 30]
"""
import argparse
import statistics
import time

import numpy as np

# First: it puts this checkout at the head of sys.path.
import train_mlp
from train_mlp import ADAM_EPS, BETAS, BN_EPS, BN_MOMENTUM, LR, SIZES, SLOPE

import nn
from autograd import Tensor
from autograd.extend import REGISTRY, apply

LinearOp, BatchNormOp, LeakyReluOp, CrossEntropyOp = (
    REGISTRY[name].op for name in ("linear", "batch_norm", "leaky_relu",
                                   "softmax_cross_entropy_labels"))
WARMUP_ROUNDS = 3


def model_and_optimizer(weights):
    """The MLP as nn modules with ``weights`` copied in, and its Adam."""
    model = train_mlp.ours_model(weights)
    return model, nn.optim.Adam(model.parameters(), lr=LR, betas=BETAS, eps=ADAM_EPS)


def batch_norm_params(layer):
    return {"running_mean": layer.running_mean.data, "running_var": layer.running_var.data,
            "training": True, "momentum": BN_MOMENTUM, "eps": BN_EPS}


def kernels_trainer(weights):
    """Forward and VJPs called directly, in the order the model needs them."""
    model, optimizer = model_and_optimizer(weights)
    layers = list(model)

    def train_step(x, labels):
        saved, h = [], x
        for layer in layers:
            if isinstance(layer, nn.Linear):
                op = LinearOp()
                op.needs_grad = (h is not x, True, True)
                out = op.forward(h, layer.weight.data, layer.bias.data)
            elif isinstance(layer, nn.BatchNorm1d):
                op = BatchNormOp()
                op.needs_grad = (True, True, True)
                out = op.forward(h, layer.weight.data, layer.bias.data,
                                 **batch_norm_params(layer))
            else:
                op = LeakyReluOp()
                out = op.forward(h, negative_slope=SLOPE)
            saved.append((layer, op, h))
            h = out
        loss_op = CrossEntropyOp()
        loss_op.needs_grad = (True, False)
        loss = loss_op.forward(h, labels, reduction="sum", scale=1.0 / len(labels))
        grad = loss_op.vjp(np.ones((), np.float32), loss, h, labels)[0]
        for layer, op, h in reversed(saved):
            if isinstance(layer, nn.LeakyReLU):
                grad = op.vjp(grad, None, h)[0]
                continue
            weight, bias = layer.weight, layer.bias
            grad, weight_grad, bias_grad = op.vjp(grad, None, h, weight.data, bias.data)
            weight.grad, bias.grad = Tensor(weight_grad), Tensor(bias_grad)
        optimizer.step()
        return float(loss)
    return train_step


def engine_trainer(weights):
    """The same ops recorded through ``apply`` and swept by ``backward``; no modules."""
    model, optimizer = model_and_optimizer(weights)
    layers = list(model)

    def train_step(x, labels):
        h = Tensor(x)
        for layer in layers:
            if isinstance(layer, nn.Linear):
                h = apply(LinearOp, (h, layer.weight, layer.bias))
            elif isinstance(layer, nn.BatchNorm1d):
                h = apply(BatchNormOp, (h, layer.weight, layer.bias), batch_norm_params(layer))
            else:
                h = apply(LeakyReluOp, (h,), {"negative_slope": SLOPE})
        loss = apply(CrossEntropyOp, (h, labels), {"reduction": "sum",
                                                   "scale": 1.0 / len(labels)})
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()
    return train_step


TRAINERS = {"numpy": train_mlp.numpy_trainer, "kernels": kernels_trainer,
            "engine": engine_trainer, "ours": train_mlp.ours_trainer}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=40,
                        help=f"timed rounds (after {WARMUP_ROUNDS} untimed ones)")
    parser.add_argument("--steps", type=int, default=30, help="steps per implementation "
                        "and round")
    args = parser.parse_args()
    nn.set_num_threads(1)
    images, labels = train_mlp.load_training_set()
    weights = train_mlp.initial_weights()
    steps = {name: make(weights) for name, make in TRAINERS.items()}
    names = list(steps)
    per_step = {name: [] for name in names}  # one median per round
    last_loss = {}
    order = {name: train_mlp.batches(len(images), args.batch) for name in names}
    clock = time.perf_counter
    for round_index in range(WARMUP_ROUNDS + args.rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            step, batches, seconds, losses = steps[name], order[name], [], []
            for _ in range(args.steps):
                rows = next(batches)  # the same batches in the same order for each
                x, y = train_mlp.as_float_batch(images[rows]), labels[rows]
                start = clock()
                losses.append(step(x, y))
                seconds.append(clock() - start)
            last_loss[name] = statistics.fmean(losses)
            if round_index >= WARMUP_ROUNDS:
                per_step[name].append(statistics.median(seconds))
    print(f"MLP {'-'.join(map(str, SIZES))}, batch {args.batch}, float32, one BLAS thread; "
          f"{args.rounds} rounds of {args.steps} steps each, rotating order")
    print(f"{'':8} {'ms/step':>8} {'/ numpy':>8}   mean loss, last round")
    for name in names:
        milliseconds = statistics.median(per_step[name]) * 1e3
        ratio = statistics.median(a / b for a, b in zip(per_step[name], per_step["numpy"]))
        print(f"{name:8} {milliseconds:8.3f} {ratio:8.3f}   {last_loss[name]:.4f}")
    def difference(more, less):  # the median of per-round differences: paired, as the ratios
        paired = statistics.median(a - b for a, b in zip(per_step[more], per_step[less]))
        return f"{paired * 1e6:.0f} us/step"
    print(f"graph recorded and swept (engine - kernels): {difference('engine', 'kernels')}; "
          f"modules and loss checks (ours - engine): {difference('ours', 'engine')}")
    print(f"what the graph and the modules may cost together for ours to match numpy "
          f"(numpy - kernels): {difference('numpy', 'kernels')}")


if __name__ == "__main__":
    main()
