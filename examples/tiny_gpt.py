"""A tiny GPT: nanoGPT's "baby GPT" for the CPU, character by character.

    python examples/tiny_gpt.py                      # the word list, 2,000 steps
    python examples/tiny_gpt.py --text input.txt     # any text file (e.g. tiny Shakespeare)
    python examples/tiny_gpt.py --compare-torch      # the same model trained in PyTorch beside it
    python examples/tiny_gpt.py --smoke              # seconds, for tests

A decoder-only Transformer as nanoGPT's CPU recipe: 4 layers, 4 heads, 128 wide, context
64, batches of 12, dropout 0, AdamW (lr 1e-3, betas (0.9, 0.99), weight decay 0.1 on the
matrices only) with 100 warmup steps then cosine decay to 1e-4, gradient clipping at 1.0.
Blocks are pre-norm ``nn.TransformerEncoderLayer``s with a causal mask. Data: Debian's
word list as one stream ``.word.word.`` (``nn.datasets.char_words``) or a text file.

The best weights (by validation loss) are saved with ``nn.save`` and loaded back for
sampling (temperature and top-k); the first layer's attention on the sample is drawn
with ``viz.plot_attention``. ``--compare-torch`` builds the same model in PyTorch
from the same initial weights, trains it on the same batches in the same run, and
reports both validation losses and seconds per step (both single-threaded).
"""
import os
from pathlib import Path

# Small matrices: BLAS threads only add synchronisation on a shared machine.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import nn  # noqa: E402
import nn.functional as F  # noqa: E402
import viz  # noqa: E402
from autograd import no_grad  # noqa: E402
from nn.datasets.text import char_text, char_words, random_blocks  # noqa: E402

BLOCK_SIZE, WIDTH, LAYERS, HEADS, DROPOUT = 64, 128, 4, 4, 0.0
BATCH_SIZE, STEPS, WARMUP = 12, 2000, 100
LEARNING_RATE, MIN_LR, WEIGHT_DECAY, BETAS, CLIP = 1e-3, 1e-4, 0.1, (0.9, 0.99), 1.0
EVAL_EVERY, EVAL_BATCHES = 250, 20
OUT_DIR = Path("outputs/tiny_gpt")


class GPT(nn.Module):
    """Token embedding + learned positions, pre-norm causal blocks, final norm, logits."""

    def __init__(self, vocab_size, block_size=BLOCK_SIZE, width=WIDTH, layers=LAYERS,
                 heads=HEADS, dropout=DROPOUT):
        super().__init__()
        self.block_size = block_size
        self.token_embedding = nn.Embedding(vocab_size, width)
        self.position = nn.LearnedPositionalEmbedding(block_size, width, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        block = nn.TransformerEncoderLayer(width, heads, 4 * width, dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(block, layers)
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab_size, bias=False)
        gpt2_init(self, layers)

    def forward(self, ids):
        length = ids.shape[1]
        x = self.dropout(self.position(self.token_embedding(ids)))
        x = self.blocks(x, mask=causal_mask(length))
        return self.head(self.norm(x))


_MASKS = {}


def causal_mask(length):
    if length not in _MASKS:
        _MASKS[length] = nn.generate_square_subsequent_mask(length, np.float32)
    return _MASKS[length]


def gpt2_init(model, layers):
    """GPT-2's: N(0, 0.02) weights, zero biases, residual projections N(0, 0.02 / sqrt(2L))."""
    rng = np.random.default_rng(0)
    for name, parameter in model.named_parameters():
        if parameter.ndim == 1:
            parameter.data[...] = 0.0 if name.endswith("bias") else 1.0
            continue
        std = 0.02 / math.sqrt(2 * layers) if name.endswith(("out_proj.weight",
                                                             "linear2.weight")) else 0.02
        parameter.data[...] = rng.normal(0.0, std, parameter.shape)


def load_data(text=None, seed=0):
    """(vocab, train stream, val stream): the word list as ``.w1.w2.``, or a text file."""
    if text is not None:
        data = char_text(text)
        return data.vocab, data.train, data.val
    words = char_words(seed=seed)
    return words.vocab, words.stream("train"), words.stream("val")


def optimizer_and_schedule(model, steps, warmup):
    """AdamW with weight decay on matrices only; linear warmup, then cosine to MIN_LR."""
    matrices = [p for p in model.parameters() if p.ndim >= 2]
    vectors = [p for p in model.parameters() if p.ndim < 2]
    optimizer = nn.optim.AdamW([{"params": matrices, "weight_decay": WEIGHT_DECAY},
                                {"params": vectors, "weight_decay": 0.0}],
                               lr=LEARNING_RATE, betas=BETAS)
    schedule = nn.optim.lr_scheduler
    scheduler = schedule.SequentialLR(optimizer, [
        schedule.LinearWarmup(optimizer, warmup, start_factor=1.0 / warmup),
        schedule.CosineAnnealingLR(optimizer, max(steps - warmup, 1), eta_min=MIN_LR)],
        milestones=[warmup])
    return optimizer, scheduler


def loss_of(model, x, y):
    logits = model(x)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


def evaluate(loss_fn, batches):
    """Mean loss over fixed batches (no graph)."""
    return float(np.mean([loss_fn(x, y) for x, y in batches]))


@no_grad()
def sample(model, vocab, start, length, temperature=1.0, top_k=None, rng=None):
    """``length`` characters after ``start``: the last position's logits / temperature,
    only the ``top_k`` largest kept, then a draw from their softmax."""
    rng = rng or np.random.default_rng(0)
    model.eval()
    ids = list(vocab.encode(start))
    for _ in range(length):
        context = np.array(ids[-model.block_size:])[None]
        logits = model(context).data[0, -1].astype(np.float64) / temperature
        if top_k is not None and top_k < len(logits):
            logits[logits < np.sort(logits)[-top_k]] = -np.inf
        probabilities = np.exp(logits - logits.max())
        ids.append(int(rng.choice(len(logits), p=probabilities / probabilities.sum())))
    model.train()
    return vocab.decode(ids)


def main(smoke=False, text=None, steps=STEPS, compare_torch=False, out_dir=OUT_DIR,
         temperature=0.8, top_k=10):
    """Train, checkpoint the best weights, sample; returns a dict of the figures."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if smoke:
        steps, width, layers, eval_every, eval_batches, warmup = 6, 32, 2, 3, 2, 2
    else:
        width, layers, eval_every, eval_batches, warmup = WIDTH, LAYERS, EVAL_EVERY, EVAL_BATCHES, WARMUP
    vocab, train, val = load_data(text)
    nn.manual_seed(0)
    model = GPT(len(vocab), width=width, layers=layers, heads=HEADS)
    twin = torch_twin(model, len(vocab), width, layers, steps, warmup) if compare_torch else None
    optimizer, scheduler = optimizer_and_schedule(model, steps, warmup)
    rng, val_rng = np.random.default_rng(1), np.random.default_rng(2)
    val_batches = [random_blocks(val, BLOCK_SIZE, BATCH_SIZE, val_rng) for _ in range(eval_batches)]
    print(f"{sum(p.size for p in model.parameters()):,} parameters; vocabulary {len(vocab)}; "
          f"{len(train):,} training characters; {steps} steps of {BATCH_SIZE}x{BLOCK_SIZE}")
    checkpoint = out_dir / "tiny_gpt.npz"
    best, seconds = float("inf"), 0.0
    for step in range(1, steps + 1):
        x, y = random_blocks(train, BLOCK_SIZE, BATCH_SIZE, rng)
        start = time.perf_counter()
        loss = loss_of(model, x, y)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        optimizer.step()
        scheduler.step()
        seconds += time.perf_counter() - start
        if twin is not None:
            twin.step(x, y)
        if step % eval_every == 0 or step == steps:
            with no_grad():
                val_loss = evaluate(lambda a, b: loss_of(model, a, b).item(), val_batches)
            line = f"step {step:5d}  train {loss.item():.4f}  val {val_loss:.4f}"
            if twin is not None:
                line += f"  |  PyTorch train {twin.last_loss:.4f}  val {twin.evaluate(val_batches):.4f}"
            print(line + f"  ({seconds / step:.3f} s/step)", flush=True)
            if val_loss < best:
                best = val_loss
                nn.save(model.state_dict(), checkpoint)
    model.load_state_dict(nn.load(checkpoint))
    with no_grad():
        final_val = evaluate(lambda a, b: loss_of(model, a, b).item(), val_batches)
    results = {"val_loss": final_val, "seconds_per_step": seconds / steps}
    print(f"best checkpoint {checkpoint}: val loss {final_val:.4f} nats/char, "
          f"{results['seconds_per_step']:.3f} s/step")
    if twin is not None:
        results.update(torch_val_loss=twin.evaluate(val_batches),
                       torch_seconds_per_step=twin.seconds / steps)
        print(f"PyTorch {twin.version}: val loss {results['torch_val_loss']:.4f}, "
              f"{results['torch_seconds_per_step']:.3f} s/step; ours / PyTorch time per step "
              f"{results['seconds_per_step'] / results['torch_seconds_per_step']:.2f}x")
    generated = sample(model, vocab, "." if text is None else "\n", 40 if smoke else 400,
                       temperature, top_k, np.random.default_rng(3))
    shown = [w for w in generated.split(".") if w][:20] if text is None else [generated]
    print(f"samples (temperature {temperature}, top-k {top_k}):\n" + "\n".join(shown))
    results["samples"] = shown
    (out_dir / "samples.txt").write_text("\n".join(shown) + "\n")
    prompt = generated[:24]
    plt.close(viz.plot_attention(first_layer_attention(model, vocab.encode(prompt)),
                                 query_labels=list(prompt), ncols=2, path=out_dir / "attention.png",
                                 title="tiny GPT, layer 0 attention on its own sample"))
    print(f"wrote {out_dir}/samples.txt, attention.png")
    return results


@no_grad()
def first_layer_attention(model, ids):
    """The per-head attention weights (heads, T, T) of the first block on ``ids``."""
    model.eval()
    x = model.position(model.token_embedding(np.asarray(ids)[None]))
    block = model.blocks.layers[0]
    _, weights = block.self_attn(*(block.norm1(x),) * 3, attn_mask=causal_mask(len(ids)),
                                 average_attn_weights=False)
    model.train()
    return weights.data[0]


def torch_twin(model, vocab_size, width, layers, steps, warmup):
    """The same GPT in PyTorch (float32, one thread) holding ``model``'s initial weights,
    trained step by step on the batches ours sees."""
    import torch
    torch.set_num_threads(1)
    tnn = torch.nn

    class LearnedPositions(tnn.Module):
        def __init__(self):
            super().__init__()
            self.weight = tnn.Parameter(torch.zeros(model.block_size, width))

        def forward(self, x):
            return x + self.weight[:x.shape[1]]

    class TorchGPT(tnn.Module):
        def __init__(self):
            super().__init__()
            self.token_embedding = tnn.Embedding(vocab_size, width)
            self.position = LearnedPositions()
            self.dropout = tnn.Dropout(DROPOUT)
            block = tnn.TransformerEncoderLayer(width, HEADS, 4 * width, DROPOUT,
                                                activation="gelu", batch_first=True,
                                                norm_first=True)
            self.blocks = tnn.TransformerEncoder(block, layers, enable_nested_tensor=False)
            self.norm = tnn.LayerNorm(width)
            self.head = tnn.Linear(width, vocab_size, bias=False)

        def forward(self, ids):
            x = self.dropout(self.position(self.token_embedding(ids)))
            mask = tnn.Transformer.generate_square_subsequent_mask(ids.shape[1])
            return self.head(self.norm(self.blocks(x, mask=mask, is_causal=True)))

    class Twin:
        version = torch.__version__

        def __init__(self):
            self.model = TorchGPT()
            self.model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in
                                        model.state_dict().items()})
            params = list(self.model.parameters())
            self.optimizer = torch.optim.AdamW(
                [{"params": [p for p in params if p.ndim >= 2], "weight_decay": WEIGHT_DECAY},
                 {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}],
                lr=LEARNING_RATE, betas=BETAS)
            self.scheduler = _torch_schedule(torch, self.optimizer, steps, warmup)
            self.seconds, self.last_loss = 0.0, float("nan")

        def loss(self, x, y):
            logits = self.model(torch.from_numpy(x))
            return tnn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                torch.from_numpy(y).reshape(-1))

        def step(self, x, y):
            start = time.perf_counter()
            loss = self.loss(x, y)
            self.optimizer.zero_grad()
            loss.backward()
            tnn.utils.clip_grad_norm_(self.model.parameters(), CLIP)
            self.optimizer.step()
            self.scheduler.step()
            self.seconds += time.perf_counter() - start
            self.last_loss = loss.item()

        def evaluate(self, batches):
            with torch.no_grad():
                return evaluate(lambda a, b: self.loss(a, b).item(), batches)
    return Twin()


def _torch_schedule(torch, optimizer, steps, warmup):
    schedule = torch.optim.lr_scheduler
    return schedule.SequentialLR(optimizer, [
        schedule.LinearLR(optimizer, 1.0 / warmup, 1.0, warmup),
        schedule.CosineAnnealingLR(optimizer, max(steps - warmup, 1), eta_min=MIN_LR)],
        milestones=[warmup])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a 2-layer model, 6 steps")
    parser.add_argument("--text", type=Path, help="train on this text file, not the word list")
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--compare-torch", action="store_true",
                        help="train the same model in PyTorch beside it")
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    main(args.smoke, args.text, args.steps, args.compare_torch, args.out, args.temperature,
         args.top_k)
