"""Training speed and peak memory: the source notes' Fashion-MNIST MLP, three ways.

784-256-128-64-32-10, BatchNorm1d before LeakyReLU(0.01) in every hidden layer, He
initialisation, softmax cross-entropy, Adam lr 1e-3, float32, Fashion-MNIST's 60,000
training images (--batch 100 by default). The same initial weights and batch order go to:

    ours   autograd + nn (nn.Sequential, nn.CrossEntropyLoss, nn.optim.Adam)
    numpy  a hand-written NumPy forward/backward of the same model (same math)
    torch  PyTorch on the CPU

Each runs in its own long-lived subprocess (so that peak RSS, VmHWM, is its own). The
parent interleaves them: in each of --rounds rounds every process trains --steps steps
(a fraction of an epoch, continuing where the last round stopped), one after another,
in an order that rotates from round to round. The report gives the median time per
step, the median of the per-round ratios (paired: both measured within seconds of
each other, which cancels most of a shared machine's drift), CPU time and peak memory.

Threads: by default the children inherit this environment unchanged, so ours runs with
nn's BLAS-thread default (nn/threads.py) and torch with its own; --threads N sets
OPENBLAS/OMP/MKL_NUM_THREADS=N (and torch's threads) in every child. --thread-pair
instead times ours with the inherited environment against ours with
OPENBLAS_NUM_THREADS=1; --busy starts one CPU-bound process beside the run.

Images are kept as uint8 and scaled per batch (--preload-float32 converts the whole
set first), identically for all. This checkout's autograd and nn are the ones timed.

--baseline DIR adds "ours" from another checkout (e.g. main) for before/after figures.

Run by hand:  python benchmarks/train_mlp.py [--batch 100] [--rounds 5] [--steps 100]
"""
import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

# Time this checkout's packages (or, in a --baseline child, another checkout's).
sys.path.insert(0, os.environ.get("TRAIN_MLP_CHECKOUT")
                or os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

DATA_DIR = "/usr/share/datasets/fashion-mnist"
SIZES = (784, 256, 128, 64, 32, 10)
LR = 1e-3
BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
SLOPE = 0.01
BN_EPS = 1e-5
BN_MOMENTUM = 0.1
SEED = 0
IMPLEMENTATIONS = ("numpy", "ours", "torch")


# --- data ------------------------------------------------------------------------------------
def read_idx(path):
    """An IDX file (gzipped) as an ndarray: magic (0, 0, dtype code, ndim), big-endian dims."""
    with gzip.open(path, "rb") as file:
        magic = file.read(4)
        if len(magic) != 4 or magic[:2] != b"\0\0" or magic[2] != 0x08:
            raise ValueError(f"{path}: not an unsigned-byte IDX file")
        shape = tuple(int.from_bytes(file.read(4), "big") for _ in range(magic[3]))
        data = np.empty(shape, dtype=np.uint8)
        # Into the array in 1 MiB pieces: never a second copy of the decompressed bytes.
        view, filled = memoryview(data).cast("B"), 0
        while filled < data.size:
            got = file.readinto(view[filled:filled + (1 << 20)])
            if not got:
                raise ValueError(f"{path}: truncated IDX file")
            filled += got
    return data


def load_training_set(limit=None, preload_float32=False):
    """Images, shape (n, 784), and int64 labels.

    The images stay uint8 (47 MB) and each batch is scaled to float32 in [0, 1] as it
    is drawn, the same way for every implementation; ``preload_float32`` converts the
    whole set up front instead (188 MB more in every process).
    """
    images = read_idx(os.path.join(DATA_DIR, "train-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(DATA_DIR, "train-labels-idx1-ubyte.gz"))
    if limit:
        images, labels = images[:limit], labels[:limit]
    images = images.reshape(len(images), -1)
    if preload_float32:
        images = as_float_batch(images)
    return images, labels.astype(np.int64)


def as_float_batch(images):
    """float32 pixels in [0, 1] (a no-op on images already converted)."""
    if images.dtype == np.float32:
        return images
    batch = images.astype(np.float32)
    batch *= np.float32(1 / 255)
    return batch


def initial_weights():
    """He-normal weights (std sqrt(2 / fan_in)) and zero biases, float32, as (W, b) pairs."""
    rng = np.random.default_rng(SEED)
    return [((rng.standard_normal((fan_out, fan_in)) * np.sqrt(2.0 / fan_in)).astype(np.float32),
             np.zeros(fan_out, dtype=np.float32))
            for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:])]


def epoch_order(n, epoch, batch):
    """The batch order of one epoch: the same permutation for every implementation."""
    count = n // batch
    return np.random.default_rng(SEED + 1 + epoch).permutation(n)[:count * batch].reshape(
        count, batch)


def batches(n, batch):
    """Batch indices forever, epoch after epoch."""
    epoch = 0
    while True:
        yield from epoch_order(n, epoch, batch)
        epoch += 1


# --- hand-written NumPy ----------------------------------------------------------------------
class NumpyMLP:
    """The model with its forward, backward and Adam written out in NumPy, the way one
    would write them by hand for speed: in-place updates, batch-norm's backward from the
    two per-channel sums it shares with the gamma/beta gradients."""

    def __init__(self, weights):
        self.linear = [(w.copy(), b.copy()) for w, b in weights]
        hidden = SIZES[1:-1]
        self.norm = [(np.ones(h, np.float32), np.zeros(h, np.float32)) for h in hidden]
        self.running = [(np.zeros(h, np.float32), np.ones(h, np.float32)) for h in hidden]
        self.params = [p for pair in self.linear + self.norm for p in pair]
        self.moments = [(np.zeros_like(p), np.zeros_like(p)) for p in self.params]
        self.step_count = 0

    def train_step(self, x, labels):
        caches, h, count = [], x, len(x)
        for (weight, bias), (gamma, beta), (run_mean, run_var) in zip(
                self.linear, self.norm, self.running):
            z = h @ weight.T
            z += bias
            mean = z.mean(axis=0)
            z -= mean
            var = np.einsum("ij,ij->j", z, z) / count
            inverse_std = 1.0 / np.sqrt(var + BN_EPS)
            z *= inverse_std                                   # z is now x_hat
            normed = z * gamma
            normed += beta
            run_mean *= 1 - BN_MOMENTUM
            run_mean += BN_MOMENTUM * mean
            run_var *= 1 - BN_MOMENTUM
            run_var += (BN_MOMENTUM * count / (count - 1)) * var
            caches.append((h, z, inverse_std, normed))
            h = np.maximum(normed, normed * SLOPE)
        weight, bias = self.linear[-1]
        logits = h @ weight.T
        logits += bias
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        total = probs.sum(axis=1, keepdims=True)
        rows = np.arange(count)
        loss = float(np.mean(np.log(total[:, 0]) - logits[rows, labels]))

        probs /= total
        probs[rows, labels] -= 1
        probs /= count
        grads = [None] * len(self.params)
        grads[8], grads[9] = probs.T @ h, probs.sum(axis=0)
        grad_h = probs @ weight
        for layer in reversed(range(4)):
            h_in, x_hat, inverse_std, normed = caches[layer]
            gamma = self.norm[layer][0]
            grad_h[normed <= 0] *= SLOPE                        # through the leaky ReLU
            grad_gamma = np.einsum("ij,ij->j", grad_h, x_hat)
            grad_beta = grad_h.sum(axis=0)
            grads[10 + 2 * layer], grads[11 + 2 * layer] = grad_gamma, grad_beta
            # dz = gamma / std * (g - sum(g) / M - x_hat * sum(g * x_hat) / M)
            grad_z = grad_h - grad_beta / count
            grad_z -= x_hat * (grad_gamma / count)
            grad_z *= gamma * inverse_std
            grads[2 * layer], grads[2 * layer + 1] = grad_z.T @ h_in, grad_z.sum(axis=0)
            if layer:
                grad_h = grad_z @ self.linear[layer][0]
        self.adam(grads)
        return loss

    def adam(self, grads):
        self.step_count += 1
        beta1, beta2 = BETAS
        step_size = LR / (1 - beta1 ** self.step_count)
        root_correction = (1 - beta2 ** self.step_count) ** 0.5
        for param, grad, (exp_avg, exp_avg_sq) in zip(self.params, grads, self.moments):
            scratch = grad - exp_avg
            scratch *= 1 - beta1
            exp_avg += scratch
            exp_avg_sq *= beta2
            np.multiply(grad, grad, out=scratch)
            scratch *= 1 - beta2
            exp_avg_sq += scratch
            np.sqrt(exp_avg_sq, out=scratch)
            scratch /= root_correction
            scratch += ADAM_EPS
            np.divide(exp_avg, scratch, out=scratch)
            scratch *= step_size
            param -= scratch


def numpy_trainer(weights):
    model = NumpyMLP(weights)
    return model.train_step


# --- ours ------------------------------------------------------------------------------------
def ours_model(weights):
    """The MLP as nn modules (float32) with ``weights`` copied into its Linear layers."""
    import nn
    layers = []
    for index, (fan_in, fan_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(nn.Linear(fan_in, fan_out))
        if index < len(SIZES) - 2:
            layers += [nn.BatchNorm1d(fan_out), nn.LeakyReLU(SLOPE)]
    model = nn.Sequential(*layers).to(np.float32)
    linears = [layer for layer in model if isinstance(layer, nn.Linear)]
    for layer, (weight, bias) in zip(linears, weights):
        layer.weight.data[...] = weight
        layer.bias.data[...] = bias
    return model


def ours_trainer(weights):
    import nn
    from autograd import Tensor
    model = ours_model(weights)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = nn.optim.Adam(model.parameters(), lr=LR, betas=BETAS, eps=ADAM_EPS)

    def train_step(x, labels):
        loss = loss_fn(model(Tensor(x)), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()
    return train_step


# --- PyTorch ---------------------------------------------------------------------------------
def torch_trainer(weights):
    import torch
    if os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    layers = []
    for index, (fan_in, fan_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(torch.nn.Linear(fan_in, fan_out))
        if index < len(SIZES) - 2:
            layers += [torch.nn.BatchNorm1d(fan_out), torch.nn.LeakyReLU(SLOPE)]
    model = torch.nn.Sequential(*layers)
    linears = [layer for layer in model if isinstance(layer, torch.nn.Linear)]
    with torch.no_grad():
        for layer, (weight, bias) in zip(linears, weights):
            layer.weight.copy_(torch.from_numpy(weight))
            layer.bias.copy_(torch.from_numpy(bias))
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, betas=BETAS, eps=ADAM_EPS)

    def train_step(x, labels):
        loss = loss_fn(model(torch.from_numpy(x)), torch.from_numpy(labels))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()
    return train_step


TRAINERS = {"numpy": numpy_trainer, "ours": ours_trainer, "torch": torch_trainer}


# --- measuring -------------------------------------------------------------------------------
def peak_rss_mb():
    """This process's peak resident set size (VmHWM), in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def serve(name, batch, limit, preload_float32):
    """The child: build the trainer, then answer "run STEPS" with timings, "done" with
    the peak RSS and mean losses, one JSON line each."""
    x, labels = load_training_set(limit, preload_float32)
    train_step = TRAINERS[name](initial_weights())
    order, losses = batches(len(x), batch), []
    train_step(as_float_batch(x[:batch]), labels[:batch])  # warm-up: imports, first buffers
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        command = line.split()
        if command[0] == "run":
            start, start_cpu, total = time.perf_counter(), time.process_time(), 0.0
            for _ in range(int(command[1])):
                indices = next(order)
                total += train_step(as_float_batch(x[indices]), labels[indices])
            print(json.dumps({"seconds": time.perf_counter() - start,
                              "cpu_seconds": time.process_time() - start_cpu}), flush=True)
            losses.append(total / int(command[1]))
        else:
            print(json.dumps({"peak_rss_mb": peak_rss_mb(), "mean_losses": losses}), flush=True)
            return


class Worker:
    """One implementation in its own process, driven round by round."""

    def __init__(self, label, name, batch, limit, preload_float32, env):
        command = [sys.executable, os.path.abspath(__file__), "--child", name,
                   "--batch", str(batch)] + (["--limit", str(limit)] if limit else []) + (
                   ["--preload-float32"] if preload_float32 else [])
        self.label, self.name = label, name
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, env=env)
        self.reply()
        self.step_seconds, self.step_cpu_seconds = [], []

    def reply(self):
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.label}: the child process failed (see its stderr)")
        return json.loads(line)

    def run(self, steps):
        self.process.stdin.write(f"run {steps}\n")
        self.process.stdin.flush()
        answer = self.reply()
        self.step_seconds.append(answer["seconds"] / steps)
        self.step_cpu_seconds.append(answer["cpu_seconds"] / steps)

    def finish(self):
        self.process.stdin.write("done\n")
        self.process.stdin.flush()
        answer = self.reply()
        self.process.wait()
        self.peak_rss_mb, self.mean_losses = answer["peak_rss_mb"], answer["mean_losses"]


def child_environment(threads):
    env = dict(os.environ)
    if threads:
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = str(threads)
    return env


def measure(workers, rounds, steps):
    """Interleaved rounds; the first process of each round rotates."""
    for number in range(rounds):
        for offset in range(len(workers)):
            workers[(number + offset) % len(workers)].run(steps)
    for worker in workers:
        worker.finish()


def report(workers, batch):
    lines = [f"{'run':<12}{'ms/step':>9}{'(CPU ms)':>10}{'peak RSS MiB':>14}"
             f"{'mean loss, first/last round':>29}   ms/step in each round"]
    for worker in workers:
        rounds = " ".join(f"{1e3 * t:.2f}" for t in worker.step_seconds)
        lines.append(f"{worker.label:<12}{1e3 * statistics.median(worker.step_seconds):>9.3f}"
                     f"{1e3 * statistics.median(worker.step_cpu_seconds):>10.3f}"
                     f"{worker.peak_rss_mb:>14.0f}{worker.mean_losses[0]:>21.4f} "
                     f"{worker.mean_losses[-1]:.4f}   {rounds}")
    first = workers[0]
    for other in workers[1:]:
        paired = statistics.median(a / b for a, b in zip(first.step_seconds, other.step_seconds))
        cpu = statistics.median(a / b for a, b in zip(first.step_cpu_seconds,
                                                      other.step_cpu_seconds))
        memory = first.peak_rss_mb / other.peak_rss_mb
        lines.append(f"{first.label} / {other.label} (batch {batch}): time x{paired:.3f} (median of "
                     f"per-round ratios), CPU time x{cpu:.3f}, peak RSS x{memory:.3f}")
    return "\n".join(lines)


def main(batch=100, rounds=5, steps=100, limit=None, implementations=IMPLEMENTATIONS,
         preload_float32=False, threads=None, thread_pair=False, baseline=None):
    """Run the interleaved measurement; returns (report text, workers)."""
    if thread_pair:
        plans = [("ours", "ours", child_environment(None)),
                 ("ours 1 thr", "ours", child_environment(1))]
    else:
        names = ["ours"] + [name for name in implementations if name != "ours"] \
            if "ours" in implementations else list(implementations)
        plans = [(name, name, child_environment(threads)) for name in names]
        if baseline:
            plans.append(("ours@base", "ours", dict(child_environment(threads),
                                                    TRAIN_MLP_CHECKOUT=baseline)))
    workers = [Worker(label, name, batch, limit, preload_float32, env)
               for label, name, env in plans]
    measure(workers, rounds, steps)
    return report(workers, batch), workers


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=100, help="training steps per round")
    parser.add_argument("--limit", type=int, default=None,
                        help="use only the first N images, for a quick run")
    parser.add_argument("--impl", nargs="+", choices=IMPLEMENTATIONS, default=list(IMPLEMENTATIONS))
    parser.add_argument("--preload-float32", action="store_true",
                        help="convert the whole training set to float32 up front")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS/OpenMP/torch threads in every child (default: inherit the "
                             "environment, i.e. each library's own default)")
    parser.add_argument("--thread-pair", action="store_true",
                        help="time ours with the inherited environment against ours with "
                             "OPENBLAS_NUM_THREADS=1")
    parser.add_argument("--baseline", metavar="CHECKOUT",
                        help="also time ours from another checkout of the project (a "
                             "before/after comparison in one run), e.g. the main branch")
    parser.add_argument("--busy", action="store_true",
                        help="keep one CPU-bound process running beside the measurement")
    parser.add_argument("--child", choices=IMPLEMENTATIONS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        serve(args.child, args.batch, args.limit, args.preload_float32)
        sys.exit()
    blas_variables = {name: os.environ[name] for name in ("OPENBLAS_NUM_THREADS",
                      "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NN_NUM_THREADS",
                      "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if name in os.environ}
    print(f"Fashion-MNIST MLP {'-'.join(map(str, SIZES))}, batch {args.batch}, float32, "
          f"{os.cpu_count()} CPU cores, threads: "
          f"{args.threads or 'inherited'} {blas_variables or '(no thread variables set)'}; "
          f"{args.rounds} interleaved rounds of {args.steps} steps"
          f"{', one busy process beside' if args.busy else ''}; images "
          f"{'preloaded as float32' if args.preload_float32 else 'uint8, scaled per batch'}; "
          f"load average before: {os.getloadavg()[0]:.2f}")
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
    try:
        print(main(args.batch, args.rounds, args.steps, args.limit, args.impl,
                   args.preload_float32, args.threads, args.thread_pair, args.baseline)[0])
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()
    print(f"load average after: {os.getloadavg()[0]:.2f}")
