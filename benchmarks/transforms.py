"""Function transforms: forward mode, jacfwd vs jacrev, per-example gradients.

Run by hand:  python benchmarks/transforms.py [--repeats 5]

1. ``jvp`` of a two-layer tanh network on a batch (x: 256 x 512) against one plain
   forward pass of it (target: jvp <= 2x the forward).
2. The Jacobian of R^10 -> R^1000 (a tanh layer): ``jacfwd`` (vmap of jvp over the 10
   basis vectors) against ``jacrev`` (vmap of vjp over the 1000 output basis vectors);
   target: jacfwd faster. Each against its per-element loop (10 jvps; one forward and
   1000 backward passes), the way both ran before they were mapped, timed alternately.
3. Per-example gradients of the notes' MLP (784-256-10, LeakyReLU, cross-entropy) for a
   batch of 100: ``vmap(grad(loss))`` against the Python loop of one ``grad`` per
   example (target: >= 10x) and against ``torch.func.vmap(torch.func.grad(...))``; and
   the same with 32 hidden units, where the per-example gradients fit in cache (with 256
   they are 100 x 200,960 float64 = 160 MB, written once: memory-bound on both sides), and
   against the same gradients in vectorised hand-written NumPy, the ceiling of any vmap.
Medians over repeats, float64, single-threaded BLAS; every ratio comes from the same run.
"""
import argparse
import os
import statistics
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402

import autograd as ag  # noqa: E402
import nn  # noqa: E402
from autograd.functional import grad, jacfwd, jacrev, jvp, vjp, vmap  # noqa: E402

try:
    import torch
    torch.set_num_threads(1)
except ImportError:  # the comparison is optional: report ours alone
    torch = None


def median_seconds(fn, repeats):
    return interleaved_medians({"only": fn}, repeats)["only"]


def interleaved_medians(functions, repeats):
    """Median seconds of each function, called in turn within each repeat, so that all of
    them meet the same machine state (the allocator's and the OS's page cache included)."""
    for fn in functions.values():
        fn()  # warm up
    samples = {name: [] for name in functions}
    for _ in range(repeats):
        for name, fn in functions.items():
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(times) for name, times in samples.items()}


def forward_mode(repeats):
    rng = np.random.default_rng(0)
    x = ag.Tensor(rng.standard_normal((256, 512)))
    w1, w2 = (ag.Tensor(rng.standard_normal((512, 512)) / 23) for _ in range(2))
    tangent = rng.standard_normal((256, 512))

    def network(v):
        return ((v @ w1).tanh() @ w2).tanh().sum(axis=-1)
    forward = median_seconds(lambda: network(x), repeats)
    forward_tangent = median_seconds(lambda: jvp(network, (x,), (tangent,)), repeats)
    return forward, forward_tangent


def jacobians(repeats):
    rng = np.random.default_rng(1)
    a = ag.Tensor(rng.standard_normal((1000, 10)))
    x = rng.standard_normal(10)

    def wide(v):
        return (a @ v).tanh() * 2.0

    def jacfwd_loop():
        columns = [jvp(wide, (x,), (basis,))[1].data for basis in np.eye(10)]
        return np.stack(columns, axis=-1)

    def jacrev_loop():
        _, vjp_fn = vjp(wide, x)
        return np.stack([vjp_fn(basis)[0].data for basis in np.eye(1000)])
    variants = {"jacfwd": lambda: jacfwd(wide)(x), "jacfwd loop": jacfwd_loop,
                "jacrev": lambda: jacrev(wide)(x), "jacrev loop": jacrev_loop}
    expected = jacrev_loop()
    for variant in variants.values():
        found = variant()
        assert np.allclose(found.data if isinstance(found, ag.Tensor) else found, expected)
    return alternated(variants, repeats)


def alternated(variants, repeats):
    """Median seconds of each variant, run in turn within each repeat (so that a change
    of load on the machine falls on all of them alike)."""
    samples = {name: [] for name in variants}
    for _ in range(repeats):
        for name, fn in variants.items():
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(times) for name, times in samples.items()}


def mlp_problem(batch=100, hidden=256):
    nn.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, hidden), nn.LeakyReLU(0.01),
                          nn.Linear(hidden, 10)).to(np.float64)
    rng = np.random.default_rng(2)
    x = rng.random((batch, 784))
    targets = np.eye(10)[rng.integers(0, 10, batch)]
    return model, x, targets


def per_example_ours(model, x, targets, repeats):
    names, values = zip(*[(n, p.detach()) for n, p in model.named_parameters()])

    def loss(*args):
        *parameters, example, target = args
        logits = nn.functional_call(model, dict(zip(names, parameters)), (example,))
        return -(ag.log_softmax(logits) * target).sum()
    positions = tuple(range(len(values)))
    batched = vmap(grad(loss, argnums=positions), in_axes=(None,) * len(values) + (0, 0))
    single = grad(loss, argnums=positions)

    def loop():
        return [single(*values, x[i], targets[i]) for i in range(len(x))]
    by_hand = per_example_by_hand(model, x, targets)
    times = interleaved_medians({"vmap": lambda: batched(*values, x, targets),
                                 "numpy": by_hand}, repeats)
    looped = median_seconds(loop, max(1, repeats // 2))
    reference = loop()
    result = batched(*values, x, targets)
    for k, g in enumerate(result):
        assert np.allclose(g.data, np.stack([row[k].data for row in reference]))
    for numpy_gradient, mine in zip(by_hand(), result):
        assert np.allclose(numpy_gradient, mine.data)
    return times["vmap"], looped, times["numpy"], result


def per_example_by_hand(model, x, targets):
    """The same per-example gradients in vectorised hand-written NumPy: the ceiling of any
    vmap here, since writing the 100 per-example weight gradients is most of the work."""
    (w1, b1), (w2, b2) = [(layer.weight.data, layer.bias.data) for layer in (model[0], model[2])]

    def gradients():
        hidden = x @ w1.T + b1
        active = np.where(hidden > 0, hidden, 0.01 * hidden)
        logits = active @ w2.T + b2
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        error = shifted / shifted.sum(axis=1, keepdims=True) * targets.sum(axis=1, keepdims=True)
        error -= targets
        hidden_error = (error @ w2) * np.where(hidden > 0, 1.0, 0.01)
        return (hidden_error[:, :, None] * x[:, None, :], hidden_error,
                error[:, :, None] * active[:, None, :], error)
    return gradients


def per_example_torch(model, x, targets, repeats, ours):
    from torch.func import functional_call, grad as torch_grad, vmap as torch_vmap
    hidden = model[0].out_features
    torch_model = torch.nn.Sequential(torch.nn.Linear(784, hidden), torch.nn.LeakyReLU(0.01),
                                      torch.nn.Linear(hidden, 10)).double()
    torch_model.load_state_dict({k: torch.as_tensor(v.data) for k, v in model.state_dict().items()})
    parameters = {k: v.detach() for k, v in torch_model.named_parameters()}

    def loss(params, example, target):
        logits = functional_call(torch_model, params, (example,))
        return -(torch.log_softmax(logits, -1) * target).sum()
    batched = torch_vmap(torch_grad(loss), in_dims=(None, 0, 0))
    xs, ts = torch.as_tensor(x), torch.as_tensor(targets)
    seconds = median_seconds(lambda: batched(parameters, xs, ts), repeats)
    result = batched(parameters, xs, ts)
    for (name, g), mine in zip(result.items(), ours):
        assert np.allclose(g.numpy(), mine.data), name
    return seconds


def main(repeats=5):
    forward, forward_tangent = forward_mode(repeats)
    print(f"1. jvp of a 2-layer tanh network (256 x 512): forward {forward * 1e3:.2f} ms, "
          f"jvp {forward_tangent * 1e3:.2f} ms -> {forward_tangent / forward:.2f}x a forward "
          f"(target <= 2x)")
    times = jacobians(repeats)
    ms = {name: seconds * 1e3 for name, seconds in times.items()}
    print(f"2. Jacobian of R^10 -> R^1000: jacfwd {ms['jacfwd']:.2f} ms (loop of 10 jvps "
          f"{ms['jacfwd loop']:.2f} ms, {ms['jacfwd loop'] / ms['jacfwd']:.1f}x), jacrev "
          f"{ms['jacrev']:.1f} ms (loop of 1000 backward passes {ms['jacrev loop']:.1f} ms, "
          f"{ms['jacrev loop'] / ms['jacrev']:.1f}x) -> jacfwd {ms['jacrev'] / ms['jacfwd']:.1f}x "
          f"faster than jacrev")
    for hidden in (256, 32):
        model, x, targets = mlp_problem(hidden=hidden)
        mapped, looped, by_hand, result = per_example_ours(model, x, targets, repeats)
        line = (f"3. per-example gradients, MLP 784-{hidden}-10, batch 100: vmap(grad) "
                f"{mapped * 1e3:.1f} ms, Python loop {looped * 1e3:.1f} ms -> "
                f"{looped / mapped:.1f}x (target >= 10x)")
        line += (f"; hand-written vectorised NumPy {by_hand * 1e3:.1f} ms, timed in turn with "
                 f"vmap (loop / NumPy "
                 f"{looped / by_hand:.1f}x: the most any vmap can gain here; ours / NumPy "
                 f"{mapped / by_hand:.2f}x)")
        if torch is not None:
            theirs = per_example_torch(model, x, targets, repeats, result)
            line += f"; torch.func {theirs * 1e3:.1f} ms (ours / torch {mapped / theirs:.1f}x)"
        print(line)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    main(parser.parse_args().repeats)
