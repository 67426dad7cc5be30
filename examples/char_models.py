"""makemore's ladder on English words: bigram counts, bigram net, MLP, GRU, Transformer.

    python examples/char_models.py                  # the ladder, a few minutes on one core
    python examples/char_models.py --smoke          # tiny, seconds, for tests
    python examples/char_models.py --compare-torch  # also train each net in PyTorch (float64)

Character-level models of the words of Debian's wamerican list (``nn.datasets.char_words``:
lowercase a-z, no possessives, split 80/10/10 by word with one seed, so every model is
tested on the same 7,345 words). Each model predicts the next character of ``.word.``
from what came before: the last character (bigrams), the last three (Bengio et al.
2003's MLP), or the whole prefix (GRU; a small causal Transformer). The table gives the test loss in nats per
character (the end-of-word ``.`` included), and each model writes 20 words.

Every network is written once against a library argument, ``lib``: our ``nn`` or
``torch.nn``. With ``--compare-torch`` both copies start from the same weights (ours,
copied by state_dict key) and take the same Adam steps on the same batches in float64;
their per-step losses must agree to 1e-6 relative. A new rung is one more ``Rung`` in
``RUNGS``.
"""
import os

# Small matrices: BLAS threads only add synchronisation. Set before NumPy loads.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Callable, Optional  # noqa: E402

import numpy as np  # noqa: E402

import autograd as ag  # noqa: E402
import nn  # noqa: E402
from autograd import Tensor  # noqa: E402
from nn.datasets import char_words  # noqa: E402

SEED = 0
SAMPLES, MAX_SAMPLE_LENGTH = 20, 30
COMPARE_STEPS, COMPARE_RTOL = 300, 1e-6
EVAL_BATCH = 2048


# --- the networks, each written once for either library --------------------------------------
def bigram_net(lib, vocab_size):
    """One linear layer on the one-hot last character: its weight row is the logits."""
    class BigramNet(lib.Module):
        def __init__(self):
            super().__init__()
            self.logits = lib.Embedding(vocab_size, vocab_size)

        def forward(self, context):                  # (N, 1) -> (N, vocab)
            return self.logits(context[:, -1])
    return BigramNet()


def mlp(lib, vocab_size, context=3, embedding=16, hidden=200):
    """Bengio et al. (2003): embed each of the last ``context`` characters, concatenate,
    one tanh layer, logits."""
    class MLP(lib.Module):
        def __init__(self):
            super().__init__()
            self.wte = lib.Embedding(vocab_size, embedding)
            self.hidden = lib.Linear(context * embedding, hidden)
            self.lm_head = lib.Linear(hidden, vocab_size)

        def forward(self, context_ids):              # (N, context) -> (N, vocab)
            embedded = self.wte(context_ids)
            flat = embedded.reshape(embedded.shape[0], -1)
            return self.lm_head(self.hidden(flat).tanh())
    return MLP()


def gru(lib, vocab_size, embedding=16, hidden=64):
    """Embedding, one GRU layer over the whole prefix, logits at every step."""
    class GRULanguageModel(lib.Module):
        def __init__(self):
            super().__init__()
            self.wte = lib.Embedding(vocab_size, embedding)
            self.rnn = lib.GRU(embedding, hidden, batch_first=True)
            self.lm_head = lib.Linear(hidden, vocab_size)

        def forward(self, ids):                      # (N, T) -> (N, T, vocab)
            output, _ = self.rnn(self.wte(ids))
            return self.lm_head(output)
    return GRULanguageModel()


def causal_mask(lib, length):
    """(length, length) booleans, True above the diagonal: position i may not attend to
    j > i (PyTorch's convention for a boolean attention mask), for either library."""
    mask = np.triu(np.ones((length, length), dtype=bool), k=1)
    if lib is nn:
        return mask
    import torch
    return torch.from_numpy(mask)


def transformer(lib, vocab_size, width=64, heads=4, layers=2, context=32):
    """A small causal Transformer over the whole prefix (GPT's layout: token and learned
    position embeddings, pre-norm blocks with GELU, a final LayerNorm), logits at every
    step. ``context`` bounds the prefix (the longest word and its start token fit)."""
    class TransformerLanguageModel(lib.Module):
        def __init__(self):
            super().__init__()
            self.wte = lib.Embedding(vocab_size, width)
            self.wpe = lib.Embedding(context, width)
            block = lib.TransformerEncoderLayer(width, heads, 4 * width, dropout=0.0,
                                                activation="gelu", batch_first=True,
                                                norm_first=True)
            self.blocks = lib.TransformerEncoder(block, layers, enable_nested_tensor=False)
            self.norm = lib.LayerNorm(width)
            self.lm_head = lib.Linear(width, vocab_size)

        def forward(self, ids):                      # (N, T) -> (N, T, vocab)
            length = ids.shape[1]
            x = self.wte(ids) + self.wpe.weight[:length]
            return self.lm_head(self.norm(self.blocks(x, mask=causal_mask(lib, length))))
    return TransformerLanguageModel()


@dataclass
class Rung:
    """One model of the ladder and how it is trained.

    inputs: "windows" (the last ``context`` characters -> the next one) or "sequences"
        (the whole word, a prediction at every position; padding targets are -1).
    build: ``build(lib, vocab_size)`` -> a module of ``lib`` (our nn or torch.nn); None
        for the counting model.
    """
    inputs: str
    context: int = 0
    build: Optional[Callable] = None
    steps: int = 0
    batch_size: int = 32
    learning_rate: float = 1e-2
    clip: Optional[float] = None


RUNGS = {
    "bigram counts": Rung("windows", context=1),
    "bigram net": Rung("windows", context=1, build=bigram_net, steps=1500, batch_size=256,
                       learning_rate=0.1),
    "MLP": Rung("windows", context=3, build=mlp, steps=6000, batch_size=64,
                learning_rate=1e-2),
    "GRU": Rung("sequences", build=gru, steps=2500, batch_size=32, learning_rate=1e-2,
                clip=1.0),
    "Transformer": Rung("sequences", build=transformer, steps=2000, batch_size=32,
                        learning_rate=3e-3, clip=1.0),
}
SMOKE = dict(steps=20, words=300, compare_steps=5)


# --- training and evaluation ----------------------------------------------------------------
def training_arrays(data, rung, split):
    """(inputs, targets) of a split, the way ``rung`` reads words."""
    if rung.inputs == "windows":
        return data.windows(split, rung.context)
    return data.sequences(split)


def loss_of(lib_functional, logits, targets):
    """Mean cross-entropy over every real target (padding targets are -1)."""
    vocab = logits.shape[-1]
    return lib_functional.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1),
                                        ignore_index=-1)


def batch_indices(count, rung, steps, seed):
    """The same batch order for both libraries."""
    rng = np.random.default_rng(seed)
    return [rng.integers(0, count, rung.batch_size) for _ in range(steps)]


def train_ours(model, rung, inputs, targets, steps, seed=SEED):
    optimizer = nn.optim.Adam(model.parameters(), lr=rung.learning_rate)
    schedule = nn.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps,
                                                       eta_min=rung.learning_rate / 10)
    losses = []
    for rows in batch_indices(len(inputs), rung, steps, seed):
        loss = loss_of(nn.functional, model(inputs[rows]), targets[rows])
        optimizer.zero_grad()
        loss.backward()
        if rung.clip:
            nn.optim.clip_grad_norm_(model.parameters(), rung.clip)
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
    return losses


def train_torch(torch, model, rung, inputs, targets, steps, seed=SEED):
    """``train_ours`` line for line in PyTorch."""
    optimizer = torch.optim.Adam(model.parameters(), lr=rung.learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps,
                                                          eta_min=rung.learning_rate / 10)
    losses = []
    for rows in batch_indices(len(inputs), rung, steps, seed):
        loss = loss_of(torch.nn.functional, model(torch.from_numpy(inputs[rows])),
                       torch.from_numpy(targets[rows]))
        optimizer.zero_grad()
        loss.backward()
        if rung.clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), rung.clip)
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
    return losses


class BigramCounts:
    """Bigram probabilities from counts with add-one smoothing; called like a model."""

    def __init__(self, inputs, targets, vocab_size):
        counts = np.ones((vocab_size, vocab_size))
        np.add.at(counts, (inputs[:, -1], targets), 1)
        self.log_probs = np.log(counts / counts.sum(axis=1, keepdims=True))

    def __call__(self, context):
        return Tensor(self.log_probs[context[:, -1]])


def test_loss(model, rung, inputs, targets):
    """Mean nats per character over the split (every real target counts once)."""
    total, count = 0.0, 0
    with ag.no_grad():
        for start in range(0, len(inputs), EVAL_BATCH):
            logits = model(inputs[start:start + EVAL_BATCH])
            rows = targets[start:start + EVAL_BATCH]
            counted = int((rows != -1).sum())
            total += loss_of(nn.functional, logits, rows).item() * counted
            count += counted
    return total / count


def sample_words(model, rung, vocab, count=SAMPLES, seed=SEED):
    """``count`` words drawn character by character from the model, stopped at ``.``."""
    rng = np.random.default_rng(seed)
    prefixes = np.zeros((count, 1), dtype=np.int64)            # every word starts with "."
    done = np.zeros(count, dtype=bool)
    with ag.no_grad():
        for _ in range(MAX_SAMPLE_LENGTH):
            if rung.inputs == "windows":
                padded = np.pad(prefixes, ((0, 0), (rung.context, 0)))
                logits = model(padded[:, -rung.context:]).data.astype(np.float64)
            else:
                logits = model(prefixes).data[:, -1].astype(np.float64)
            probs = np.exp(logits - logits.max(axis=1, keepdims=True))
            probs /= probs.sum(axis=1, keepdims=True)
            chosen = np.array([rng.choice(len(vocab), p=p) for p in probs])
            chosen[done] = 0
            prefixes = np.concatenate([prefixes, chosen[:, None]], axis=1)
            done |= chosen == 0
            if done.all():
                break
    return [vocab.decode(row[1:]).split(".")[0] for row in prefixes]


def compare_with_torch(name, rung, vocab_size, inputs, targets, steps):
    """Train copies of one network in both libraries from the same float64 weights;
    returns the largest relative difference of the per-step losses."""
    import torch
    nn.manual_seed(SEED)
    ours = rung.build(nn, vocab_size).to(np.float64)
    theirs = rung.build(torch.nn, vocab_size).double()
    theirs.load_state_dict({key: torch.from_numpy(np.array(value, dtype=np.float64))
                            for key, value in ours.state_dict().items()})
    our_losses = np.array(train_ours(ours, rung, inputs, targets, steps))
    their_losses = np.array(train_torch(torch, theirs, rung, inputs, targets, steps))
    worst = float(np.max(np.abs(our_losses - their_losses) / np.abs(their_losses)))
    verdict = "agree" if worst <= COMPARE_RTOL else "DISAGREE"
    print(f"  {name}: {steps} float64 Adam steps, per-step losses {verdict} with PyTorch "
          f"(max relative difference {worst:.1e})")
    return worst


def main(smoke=False, compare_torch=False, words_path=None, rungs=None):
    """Train every rung (or those named in ``rungs``); returns per model the test loss,
    the samples, the seconds and (with ``compare_torch``) the largest relative loss
    difference to PyTorch."""
    data = char_words(words_path, seed=SEED)
    if smoke:
        data.train, data.val, data.test = (split[:SMOKE["words"]]
                                           for split in (data.train, data.val, data.test))
    vocab = data.vocab
    print(f"{len(data.train)} training, {len(data.val)} validation, {len(data.test)} test words; "
          f"vocabulary {''.join(vocab.itos)!r}")
    results = {}
    for name, rung in RUNGS.items():
        if rungs is not None and name not in rungs:
            continue
        inputs, targets = training_arrays(data, rung, "train")
        steps = 0 if rung.build is None else SMOKE["steps"] if smoke else rung.steps
        start = time.perf_counter()
        if rung.build is None:
            model, losses = BigramCounts(inputs, targets, len(vocab)), []
        else:
            nn.manual_seed(SEED)
            model = rung.build(nn, len(vocab))
            losses = train_ours(model, rung, inputs, targets, steps)
        seconds = time.perf_counter() - start
        test = test_loss(model, rung, *training_arrays(data, rung, "test"))
        results[name] = {"test_loss": test, "seconds": seconds, "steps": steps,
                         "samples": sample_words(model, rung, vocab)}
        print(f"{name:14s} test {test:.4f} nats/char  ({steps} steps, {seconds:.0f} s)")
        if compare_torch and rung.build is not None:
            results[name]["torch_max_rel_diff"] = compare_with_torch(
                name, rung, len(vocab), inputs, targets,
                SMOKE["compare_steps"] if smoke else COMPARE_STEPS)

    print("\n| model | test loss (nats/char) | steps | seconds |\n| --- | --- | --- | --- |")
    for name, result in results.items():
        print(f"| {name} | {result['test_loss']:.4f} | {result['steps']} | "
              f"{result['seconds']:.0f} |")
    for name, result in results.items():
        print(f"\n{name}: " + " ".join(result["samples"]))
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="300 words, 20 steps per model")
    parser.add_argument("--compare-torch", action="store_true",
                        help=f"train each net in PyTorch too ({COMPARE_STEPS} float64 steps)")
    parser.add_argument("--words", default=None, help="a one-word-per-line file "
                        "(default: Debian's wamerican list)")
    args = parser.parse_args()
    main(args.smoke, args.compare_torch, args.words)
