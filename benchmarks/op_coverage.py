"""Large-array forward + backward of the op-coverage ops against hand-written NumPy.

Run by hand:  python benchmarks/op_coverage.py [--repeats 7] [--size 1000000] [--side 200]

For each op: autograd's forward + backward (from a random cotangent) against the same
forward and its derivative written directly in NumPy; target ratio <= 1.5. Also times
einsum with optimize=False/True on a 3-operand contraction, forward + backward, to see
whether optimize pays. Medians over repeats; every ratio comes from the same run.
"""
import argparse
import statistics
import time

import numpy as np

import autograd as ag


def median_seconds(fn, repeats):
    """Median wall time of ``fn()`` after one warm-up call."""
    fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def ours(function, data, cotangent):
    """The op forward, then backward from ``cotangent`` (its VJP plus the engine)."""
    def run():
        x = ag.Tensor(data, requires_grad=True)
        function(x).backward(cotangent)
        return x.grad
    return run


def numpy_cumsum(data, cotangent):
    def run():
        out = np.cumsum(data)
        return out, np.cumsum(cotangent[::-1])[::-1]     # reverse cumsum of g
    return run


def numpy_sort(data, cotangent):
    def run():
        order = np.argsort(data, kind="stable")
        out = data[order]
        grad = np.empty_like(data)
        grad[order] = cotangent                           # scatter g back
        return out, grad
    return run


def numpy_inv(data, cotangent):
    def run():
        inverse = np.linalg.inv(data)
        return inverse, -(inverse.T @ cotangent @ inverse.T)
    return run


def einsum_runs(optimize, operands, cotangent):
    def run():
        leaves = [ag.Tensor(a, requires_grad=True) for a in operands]
        (ag.einsum("ij,jk,kl->il", *leaves, optimize=optimize) * cotangent).sum().backward()
    return run


def main(repeats=7, size=1_000_000, side=200):
    rng = np.random.default_rng(0)
    vector, vector_cot = rng.standard_normal(size), rng.standard_normal(size)
    matrix = rng.standard_normal((side, side)) + side ** 0.5 * np.eye(side)
    matrix_cot = rng.standard_normal((side, side))
    cases = [
        (f"cumsum ({size:,})", ours(ag.cumsum, vector, vector_cot), numpy_cumsum(vector, vector_cot)),
        (f"sort ({size:,})", ours(ag.sort, vector, vector_cot), numpy_sort(vector, vector_cot)),
        (f"inv ({side}x{side})", ours(ag.linalg.inv, matrix, matrix_cot),
         numpy_inv(matrix, matrix_cot)),
    ]
    print(f"{'op':<22}{'autograd ms':>14}{'NumPy ms':>12}{'ratio':>8}")
    rows = {}
    for name, mine, reference in cases:
        ours_s, numpy_s = median_seconds(mine, repeats), median_seconds(reference, repeats)
        rows[name] = ours_s / numpy_s
        print(f"{name:<22}{ours_s * 1e3:>14.2f}{numpy_s * 1e3:>12.2f}{ours_s / numpy_s:>8.2f}")

    # a chain whose best order matters: (64x512)(512x512)(512x8)
    operands = [rng.standard_normal((64, 512)), rng.standard_normal((512, 512)),
                rng.standard_normal((512, 8))]
    cotangent = rng.standard_normal((64, 8))
    plain = median_seconds(einsum_runs(False, operands, cotangent), repeats)
    optimized = median_seconds(einsum_runs(True, operands, cotangent), repeats)
    print(f"einsum ij,jk,kl->il fwd+bwd: optimize=False {plain * 1e3:.2f} ms, "
          f"optimize=True {optimized * 1e3:.2f} ms ({plain / optimized:.1f}x)")
    small = [rng.standard_normal((4, 5)), rng.standard_normal((5, 6)), rng.standard_normal((6, 3))]
    small_cot = rng.standard_normal((4, 3))
    small_plain = median_seconds(einsum_runs(False, small, small_cot), repeats)
    small_opt = median_seconds(einsum_runs(True, small, small_cot), repeats)
    print(f"einsum small (4x5,5x6,6x3) fwd+bwd: optimize=False {small_plain * 1e6:.0f} us, "
          f"optimize=True {small_opt * 1e6:.0f} us ({small_plain / small_opt:.2f}x)")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--side", type=int, default=200)
    arguments = parser.parse_args()
    main(arguments.repeats, arguments.size, arguments.side)
