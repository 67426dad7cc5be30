"""What anomaly mode costs when it is off: nothing measurable.

Run by hand:  python benchmarks/anomaly_overhead.py [--rounds 15] [--pairs 5000]

Workload: a chain of 10,000 small ops (``y = y * w + b`` 5,000 times on shape (4,)),
forward then backward: per-op engine overhead dominates, so any cost of the anomaly
checks would show here first. Conditions, interleaved round by round so that load
on the machine hits all of them alike:

- baseline (x2): ``apply`` and ``run_backward`` recompiled from their own source with
  every anomaly line removed, i.e. the engine as if anomaly mode did not exist. Run
  twice to show the noise floor.
- off: the real engine, anomaly mode never used.
- off after use: the real engine after a ``with detect_anomaly():`` block (hooks
  installed, mode off again), so nothing lingers.
- on: anomaly mode on (checks every output and gradient, captures creation stacks):
  the price of the debugging tool itself, for reference.

Rounds run the conditions in a shuffled order. Prints the median milliseconds of
each and the overhead of "off" against the baseline next to the baseline-vs-baseline
noise.
"""
import argparse
import gc
import inspect
import random
import statistics
import time

import numpy as np

import autograd as ag
from autograd import backward as backward_module
from autograd import op as op_module

ANOMALY_WORDS = ("anomaly", "check_seeds", "check_backward")


def without_anomaly_lines(module, name):
    """``module.name`` recompiled from its source with every anomaly line dropped."""
    source = inspect.getsource(getattr(module, name))
    lines = source.splitlines(keepends=True)
    kept = [line for line in lines if not any(word in line for word in ANOMALY_WORDS)]
    if len(kept) == len(lines):
        raise RuntimeError(f"{module.__name__}.{name} has no anomaly lines to remove")
    namespace = dict(vars(module))
    exec(compile("".join(kept), f"<{name} without anomaly checks>", "exec"), namespace)
    return namespace[name]


REAL = {"apply": op_module.apply, "run_backward": backward_module.run_backward}
STRIPPED = {"apply": without_anomaly_lines(op_module, "apply"),
            "run_backward": without_anomaly_lines(backward_module, "run_backward")}


def use_engine(engine):
    # Registered functions and operators look ``apply`` up in autograd.op's globals,
    # and Tensor.backward imports run_backward from autograd.backward at each call.
    op_module.apply = engine["apply"]
    backward_module.run_backward = engine["run_backward"]


def workload(pairs):
    """CPU seconds of this process for the forward and backward of ``2 * pairs`` small
    ops (process time: less disturbed than wall time by other work on the machine)."""
    rng = np.random.default_rng(0)
    x = ag.Tensor(rng.standard_normal(4), requires_grad=True)
    w = ag.Tensor(rng.uniform(0.5, 0.9, 4), requires_grad=True)
    b = ag.Tensor(rng.standard_normal(4), requires_grad=True)
    gc.collect()
    gc.disable()
    try:
        start = time.process_time()
        y = x
        for _ in range(pairs):
            y = y * w + b
        y.sum().backward()
        return time.process_time() - start
    finally:
        gc.enable()


def run_condition(name, pairs):
    if name.startswith("baseline"):
        use_engine(STRIPPED)
        try:
            return workload(pairs)
        finally:
            use_engine(REAL)
    if name == "on":
        with ag.detect_anomaly():
            return workload(pairs)
    return workload(pairs)


def main(rounds=15, pairs=5000, seed=0):
    """Measure every condition ``rounds`` times; returns {condition: median seconds}."""
    order = random.Random(seed)
    samples = {name: [] for name in ("baseline", "baseline again", "off", "off after use",
                                     "on")}
    workload(pairs // 10)                                   # warm up
    phases = (("baseline", "baseline again", "off"),
              ("baseline", "baseline again", "off after use", "on"))
    for phase in phases:
        if "off after use" in phase:
            with ag.detect_anomaly():
                pass                                        # install the hooks, then off
        for _ in range(rounds):
            for name in order.sample(phase, len(phase)):
                samples[name].append(run_condition(name, pairs))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    base = medians["baseline"]
    noise = abs(medians["baseline again"] - base) / base
    print(f"{2 * pairs:,} small ops forward+backward, CPU ms, medians over {rounds} rounds "
          f"per phase")
    for name, seconds in medians.items():
        relative = "" if name == "baseline" else f"  ({(seconds / base - 1) * 100:+.1f}%)"
        print(f"  {name:15s} {seconds * 1e3:8.2f} ms{relative}")
    print(f"anomaly mode off vs baseline: {(medians['off'] / base - 1) * 100:+.1f}% and "
          f"{(medians['off after use'] / base - 1) * 100:+.1f}% after use; "
          f"baseline vs itself: {noise * 100:.1f}%")
    return medians


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--pairs", type=int, default=5000, help="multiply+add pairs per run")
    arguments = parser.parse_args()
    main(arguments.rounds, arguments.pairs)
