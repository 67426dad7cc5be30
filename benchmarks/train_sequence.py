"""Training step time of sequence models: ours vs PyTorch, single-threaded, same run.

    python benchmarks/train_sequence.py [--steps 30] [--rounds 5] [--models GRU]

Each model in MODELS is built from one definition for both libraries (``build(lib,
vocab_size)``, as in ``examples/char_models.py``), starts from the same float32 weights,
and takes Adam steps (forward, cross-entropy, backward, gradient clipping, update) on
the same random batches of character ids. Ours and PyTorch's alternate in rounds of
``--steps`` steps, so that both see the same machine load; the report gives the median
step time of each over all rounds, and the ratio. PyTorch runs with one thread
(``torch.set_num_threads(1)``), ours with single-threaded BLAS.

Adding a model is one more entry in MODELS: a builder and a batch maker.
"""
import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Callable  # noqa: E402

import numpy as np  # noqa: E402

import nn  # noqa: E402

VOCAB_SIZE = 27
LEARNING_RATE, CLIP = 1e-3, 1.0


def _char_models():
    """examples/char_models.py, for its model definitions (the sizes benchmarked are the
    example's)."""
    path = Path(__file__).resolve().parent.parent / "examples" / "char_models.py"
    spec = importlib.util.spec_from_file_location("char_models_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Benchmark:
    """build(lib, vocab_size) -> module of ``lib`` (our nn or torch.nn) mapping int ids
    (batch, time) to logits (batch, time, vocab); batch(rng) -> (ids, next ids)."""
    build: Callable
    batch: Callable
    description: str


def word_batches(batch_size, length):
    """Random (inputs, targets) like makemore's padded words: targets are inputs shifted."""
    def make(rng):
        ids = rng.integers(0, VOCAB_SIZE, (batch_size, length + 1))
        return ids[:, :-1], ids[:, 1:]
    return make


def models():
    char_models = _char_models()
    return {
        "GRU": Benchmark(char_models.gru, word_batches(32, 23),
                         "char_models.py's GRU: embedding 16, hidden 64, batch 32 x 23 steps"),
        "Transformer": Benchmark(char_models.transformer, word_batches(32, 23),
                                 "char_models.py's Transformer: 2 pre-norm layers, 4 heads, "
                                 "64 wide, batch 32 x 23 positions"),
        "tiny GPT": Benchmark(
            lambda lib, vocab_size: char_models.transformer(lib, vocab_size, width=128, heads=4,
                                                            layers=4, context=64),
            word_batches(12, 64), "examples/tiny_gpt.py's size: 4 pre-norm layers, 4 heads, "
                                  "128 wide, batch 12 x 64 positions"),
    }


def train_step_ours(model, optimizer):
    def step(inputs, targets):
        logits = model(inputs)
        loss = nn.functional.cross_entropy(logits.reshape(-1, VOCAB_SIZE), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.optim.clip_grad_norm_(model.parameters(), CLIP)
        optimizer.step()
        return loss.item()
    return step


def train_step_torch(torch, model, optimizer):
    def step(inputs, targets):
        logits = model(torch.from_numpy(inputs))
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB_SIZE),
                                                 torch.from_numpy(targets).reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        optimizer.step()
        return loss.item()
    return step


def time_steps(step, batches):
    """Seconds of each step on the given batches."""
    times = []
    for inputs, targets in batches:
        start = time.perf_counter()
        step(inputs, targets)
        times.append(time.perf_counter() - start)
    return times


def run(name, benchmark, steps, rounds, seed=0):
    import torch
    torch.set_num_threads(1)
    nn.manual_seed(seed)
    ours = benchmark.build(nn, VOCAB_SIZE)
    theirs = benchmark.build(torch.nn, VOCAB_SIZE)
    theirs.load_state_dict({key: torch.from_numpy(np.array(value))
                            for key, value in ours.state_dict().items()})
    our_step = train_step_ours(ours, nn.optim.Adam(ours.parameters(), lr=LEARNING_RATE))
    their_step = train_step_torch(torch, theirs,
                                  torch.optim.Adam(theirs.parameters(), lr=LEARNING_RATE))
    rng = np.random.default_rng(seed)
    warmup = [benchmark.batch(rng) for _ in range(3)]
    time_steps(our_step, warmup)
    time_steps(their_step, warmup)
    our_times, their_times = [], []
    for _ in range(rounds):
        batches = [benchmark.batch(rng) for _ in range(steps)]
        our_times += time_steps(our_step, batches)
        their_times += time_steps(their_step, batches)
    ours_ms = 1e3 * statistics.median(our_times)
    theirs_ms = 1e3 * statistics.median(their_times)
    print(f"| {name} | {benchmark.description} | {ours_ms:.2f} | {theirs_ms:.2f} | "
          f"{ours_ms / theirs_ms:.2f}x |")
    return {"ours_ms": ours_ms, "torch_ms": theirs_ms, "ratio": ours_ms / theirs_ms}


def main(steps=30, rounds=5, names=None):
    available = models()
    print(f"median ms per training step over {rounds} rounds of {steps} steps, one thread\n")
    print("| model | size | ours (ms) | PyTorch (ms) | ours / PyTorch |\n"
          "| --- | --- | --- | --- | --- |")
    return {name: run(name, benchmark, steps, rounds)
            for name, benchmark in available.items() if names is None or name in names}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="steps per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--models", nargs="*", default=None, help="names in MODELS (default all)")
    args = parser.parse_args()
    main(args.steps, args.rounds, args.models)
