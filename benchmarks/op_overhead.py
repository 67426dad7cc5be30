"""Per-op overhead of autograd (forward + backward) against PyTorch and raw NumPy.

Run by hand:  python benchmarks/op_overhead.py [--repeats 7]

1. A chain of small elementwise ops (shape (8,)): microseconds per op, forward+backward,
   for autograd and PyTorch, and NumPy's forward alone (the floor any library pays).
2. A 100,000-op chain (the recursion-free backward), autograd vs PyTorch.
3. Large arrays (1,000,000 float64): each op forward+backward against the same NumPy
   computation written by hand (forward + its derivative), to show the engine adds
   nothing on big data (target ratio <= 1.2).
Medians over repeats. Sections 1 and 2 time autograd and PyTorch in alternation (the
order flips every round) and report the median of the per-round ratios: on a shared
machine whose speed drifts by 10-20% from minute to minute, only a paired ratio holds.
"""
import argparse
import statistics
import time

import numpy as np

import autograd as ag

try:
    import torch
    torch.set_num_threads(1)
except ImportError:  # the comparison is optional: report ours alone
    torch = None


def median_seconds(fn, repeats):
    """Median wall time of ``fn()``. Each call's result stays alive until the next call
    returns, as a training loop keeps its gradients, so that both sides of a comparison
    allocate fresh memory under the same conditions."""
    result = fn()  # warm up
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - start)
    del result
    return statistics.median(samples)


def paired_seconds(first, second, rounds):
    """Median times of ``first()`` and ``second()`` run in alternation, and the median of
    their per-round ratios (first / second)."""
    first(), second()  # warm up
    times = ([], [])
    for round_index in range(rounds):
        order = (0, 1) if round_index % 2 else (1, 0)
        for which in order:
            start = time.perf_counter()
            (first, second)[which]()
            times[which].append(time.perf_counter() - start)
    ratio = statistics.median(a / b for a, b in zip(*times))
    return statistics.median(times[0]), statistics.median(times[1]), ratio


def small_chain_ours(length):
    def run():
        x = ag.Tensor(np.linspace(0.1, 1.0, 8), requires_grad=True)
        y = x
        for i in range(length // 3):
            y = (y * 1.0001 + 0.001).tanh()
        y.sum().backward()
    return run


def small_chain_torch(length):
    def run():
        x = torch.linspace(0.1, 1.0, 8, dtype=torch.float64, requires_grad=True)
        y = x
        for i in range(length // 3):
            y = (y * 1.0001 + 0.001).tanh()
        y.sum().backward()
    return run


def small_chain_numpy(length):
    def run():
        y = np.linspace(0.1, 1.0, 8)
        for i in range(length // 3):
            y = np.tanh(y * 1.0001 + 0.001)
        y.sum()
    return run


def long_chain_ours(length):
    def run():
        x = ag.Tensor(np.ones(1), requires_grad=True)
        y = x
        for _ in range(length):
            y = y * 1.000001
        y.sum().backward()
    return run


def long_chain_torch(length):
    def run():
        x = torch.ones(1, dtype=torch.float64, requires_grad=True)
        y = x
        for _ in range(length):
            y = y * 1.000001
        y.sum().backward()
    return run


LARGE_CASES = {
    # name: (autograd forward+backward, hand-written NumPy forward+backward)
    "multiply": (lambda a, b: (a * b).backward(np.ones_like(a.data)),
                 lambda a, b: (a * b, np.ones_like(a) * b, np.ones_like(a) * a)),
    "exp": (lambda a, b: a.exp().backward(np.ones_like(a.data)),
            lambda a, b: (lambda out: (out, np.ones_like(a) * out))(np.exp(a))),
    "tanh": (lambda a, b: a.tanh().backward(np.ones_like(a.data)),
             lambda a, b: (lambda out: (out, np.ones_like(a) * (1.0 - out * out)))(np.tanh(a))),
    "sum": (lambda a, b: a.sum().backward(),
            lambda a, b: (a.sum(), np.broadcast_to(np.ones(()), a.shape).copy())),
    "relu": (lambda a, b: a.relu().backward(np.ones_like(a.data)),
             lambda a, b: (lambda out: (out, np.ones_like(a) * (out > 0)))(np.maximum(a, 0))),
}


def large_arrays(repeats, size=1_000_000):
    rng = np.random.default_rng(0)
    a_data, b_data = rng.standard_normal(size), rng.standard_normal(size)
    rows = []
    for name, (ours, by_hand) in LARGE_CASES.items():
        def run_ours():
            a = ag.Tensor(a_data, requires_grad=True)
            b = ag.Tensor(b_data, requires_grad=True)
            ours(a, b)
            return a.grad, b.grad
        ours_s = median_seconds(run_ours, repeats)
        numpy_s = median_seconds(lambda: by_hand(a_data, b_data), repeats)
        rows.append((name, ours_s * 1e3, numpy_s * 1e3, ours_s / numpy_s))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--small-length", type=int, default=3000)
    parser.add_argument("--long-length", type=int, default=100_000)
    args = parser.parse_args()

    print(f"numpy {np.__version__}" + (f", torch {torch.__version__}" if torch else ", torch absent"))
    n = args.small_length
    numpy_fwd = median_seconds(small_chain_numpy(n), args.repeats) / n * 1e6
    print(f"\n1. small elementwise ops, shape (8,), chain of {n}: median us per op (forward+backward)")
    if torch:
        ours, theirs, ratio = paired_seconds(small_chain_ours(n), small_chain_torch(n),
                                             args.repeats)
        print(f"   autograd          {ours / n * 1e6:8.2f}")
        print(f"   numpy forward     {numpy_fwd:8.2f}   (no backward: the floor)")
        print(f"   pytorch           {theirs / n * 1e6:8.2f}")
        print(f"   ratio autograd / pytorch = {ratio:.2f}   (median of per-round ratios)")
    else:
        ours = median_seconds(small_chain_ours(n), args.repeats) / n * 1e6
        print(f"   autograd          {ours:8.2f}")
        print(f"   numpy forward     {numpy_fwd:8.2f}   (no backward: the floor)")

    n = args.long_length
    print(f"\n2. {n:,}-op chain: median us per op (forward+backward)")
    rounds = max(3, args.repeats // 2)
    if torch:
        ours, theirs, ratio = paired_seconds(long_chain_ours(n), long_chain_torch(n), rounds)
        print(f"   autograd          {ours / n * 1e6:8.2f}")
        print(f"   pytorch           {theirs / n * 1e6:8.2f}")
        print(f"   ratio autograd / pytorch = {ratio:.2f}   (median of per-round ratios)")
    else:
        print(f"   autograd          {median_seconds(long_chain_ours(n), rounds) / n * 1e6:8.2f}")

    print("\n3. large arrays (1e6 float64), forward+backward, median ms")
    print(f"   {'op':10s} {'autograd':>10s} {'numpy':>10s} {'ratio':>7s}")
    for name, ours_ms, numpy_ms, ratio in large_arrays(args.repeats):
        print(f"   {name:10s} {ours_ms:10.2f} {numpy_ms:10.2f} {ratio:7.2f}")


if __name__ == "__main__":
    main()
