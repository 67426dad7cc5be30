"""Instructions per op and per training step, counted by valgrind: a figure that does not
move with the machine's load, where wall time on a shared 2-core VM moves by 15% or more.

Run by hand:  python benchmarks/instructions.py [--baseline CHECKOUT] [--chain 3000] [--steps 40]

1. A chain of small elementwise ops, ``(y * c + d).tanh()`` on shape (8,), forward and
   backward: instructions per op.
2. The notes' MLP training step at batch 10 (``benchmarks/train_mlp.py``'s trainers, float32):
   instructions per step for ours and for the hand-written NumPy trainer.
Each figure is the difference between a run with the work and the same run without it
(imports and start-up cancel), under ``valgrind --tool=cachegrind --cache-sim=no``. With
``--baseline`` the same children run in another checkout (e.g. the previous release, from
``git worktree add``), for before/after figures. Counts still vary by 1-3% between runs
(hash seeds are fixed; address layout is not). Needs valgrind (Debian: ``valgrind``).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHAIN = """
import sys, numpy as np
import autograd as ag
def run(length):
    x = ag.Tensor(np.linspace(0.1, 1.0, 8), requires_grad=True)
    y = x
    for _ in range(length // 3):
        y = (y * 1.0001 + 0.001).tanh()
    y.sum().backward()
run(int(sys.argv[1])); run(int(sys.argv[1]))
"""

TRAINING = """
import sys
sys.path.insert(0, "benchmarks")
import train_mlp
name, steps = sys.argv[1], int(sys.argv[2])
images, labels = train_mlp.load_training_set(2000)
step = train_mlp.TRAINERS[name](train_mlp.initial_weights())
order = train_mlp.batches(len(images), 10)
for _ in range(5 + steps):  # five warm-up steps in both runs
    batch = next(order)
    step(train_mlp.as_float_batch(images[batch]), labels[batch])
"""


def instructions(checkout, code, *arguments):
    """Instructions executed by ``python -c code arguments`` in ``checkout``."""
    environment = dict(os.environ, PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1",
                       PYTHONPATH=checkout, TRAIN_MLP_CHECKOUT=checkout)
    completed = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         sys.executable, "-c", code, *map(str, arguments)],
        cwd=checkout, env=environment, capture_output=True, text=True, check=False)
    found = re.search(r"I\s+refs:\s+([\d,]+)", completed.stderr)
    if completed.returncode != 0 or found is None:
        raise RuntimeError(f"valgrind run in {checkout} failed:\n{completed.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def per_op(checkout, length):
    return (instructions(checkout, CHAIN, length) - instructions(checkout, CHAIN, 0)) / (2 * length)


def per_step(checkout, name, steps):
    return (instructions(checkout, TRAINING, name, steps)
            - instructions(checkout, TRAINING, name, 0)) / steps


def main(baseline=None, length=3000, steps=40):
    if shutil.which("valgrind") is None:
        sys.exit("benchmarks/instructions.py needs valgrind (apt-get install valgrind)")
    checkouts = {"ours": HERE}
    if baseline:
        checkouts["baseline"] = os.path.abspath(baseline)
    for label, checkout in checkouts.items():
        print(f"{label} ({checkout}): chain of small ops {per_op(checkout, length) / 1e3:.1f}k "
              f"instructions per op (fwd+bwd); MLP step at batch 10 "
              f"{per_step(checkout, 'ours', steps) / 1e6:.2f}M per step")
    print(f"hand-written NumPy MLP step at batch 10: {per_step(HERE, 'numpy', steps) / 1e6:.2f}M "
          f"per step")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", metavar="CHECKOUT")
    parser.add_argument("--chain", type=int, default=3000, help="ops in the chain")
    parser.add_argument("--steps", type=int, default=40, help="training steps counted")
    args = parser.parse_args()
    main(args.baseline, args.chain, args.steps)
