"""Time per training step of examples/tiny_gpt.py's model: ours against PyTorch, one run.

nanoGPT's baby GPT for the CPU (4 layers, 4 heads, 128 wide, context 64, batch 12,
27-character vocabulary), float32, AdamW with gradient clipping, both single-threaded
(OPENBLAS/OMP threads 1, torch.set_num_threads(1)) and starting from the same weights.
Steps alternate in rounds (ours, then PyTorch, on the same batches) so that load on a
shared machine falls on both alike; the report gives the median seconds per step over
the rounds and the ratio.

Run by hand:  python benchmarks/train_gpt.py [--rounds 5] [--steps 5]
"""
import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def load_tiny_gpt():
    spec = importlib.util.spec_from_file_location("tiny_gpt", ROOT / "examples" / "tiny_gpt.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(rounds=5, steps=5, vocab_size=27):
    gpt = load_tiny_gpt()
    import nn
    nn.manual_seed(0)
    model = gpt.GPT(vocab_size)
    total = rounds * steps + 1
    twin = gpt.torch_twin(model, vocab_size, gpt.WIDTH, gpt.LAYERS, total, gpt.WARMUP)
    optimizer, scheduler = gpt.optimizer_and_schedule(model, total, gpt.WARMUP)
    rng = np.random.default_rng(0)
    stream = rng.integers(0, vocab_size, 200_000)

    def our_step(x, y):
        loss = gpt.loss_of(model, x, y)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), gpt.CLIP)
        optimizer.step()
        scheduler.step()
        return loss.item()

    batches = [gpt.random_blocks(stream, gpt.BLOCK_SIZE, gpt.BATCH_SIZE, rng) for _ in range(total)]
    our_step(*batches[0])  # warm up both (first-call allocations, lazy imports)
    twin.step(*batches[0])
    ours, theirs = [], []
    for round_ in range(rounds):
        chunk = batches[1 + round_ * steps:1 + (round_ + 1) * steps]
        start = time.perf_counter()
        our_losses = [our_step(x, y) for x, y in chunk]
        ours.append((time.perf_counter() - start) / steps)
        before = twin.seconds
        their_losses = []
        for x, y in chunk:
            twin.step(x, y)
            their_losses.append(twin.last_loss)
        theirs.append((twin.seconds - before) / steps)
    difference = max(abs(a - b) / abs(b) for a, b in zip(our_losses, their_losses))
    ours_median, theirs_median = statistics.median(ours), statistics.median(theirs)
    print(f"tiny GPT ({sum(p.size for p in model.parameters()):,} parameters, batch "
          f"{gpt.BATCH_SIZE}x{gpt.BLOCK_SIZE}), float32, 1 thread, median of {rounds} rounds "
          f"of {steps} steps")
    print(f"  ours    {ours_median * 1e3:7.1f} ms/step   (rounds: "
          + ", ".join(f"{t * 1e3:.0f}" for t in ours) + ")")
    print(f"  PyTorch {theirs_median * 1e3:7.1f} ms/step   (rounds: "
          + ", ".join(f"{t * 1e3:.0f}" for t in theirs) + f")  {twin.version}")
    print(f"  ours / PyTorch: {ours_median / theirs_median:.2f}x; last round's losses agree "
          f"to {difference:.1e} relative")
    return {"ours": ours_median, "torch": theirs_median, "ratio": ours_median / theirs_median}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    main(args.rounds, args.steps)
