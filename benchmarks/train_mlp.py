"""Training speed and peak memory: the source notes' Fashion-MNIST MLP, three ways.

784-256-128-64-32-10, BatchNorm1d before LeakyReLU(0.01) in every hidden layer, He
initialisation, softmax cross-entropy, Adam lr 1e-3, batch 100, float32, 60,000
training images. The same initial weights and batch order go to:

    ours   autograd + nn (nn.Sequential, nn.CrossEntropyLoss, nn.optim.Adam)
    numpy  a hand-written NumPy forward/backward of the same model (same math)
    torch  PyTorch on the CPU, torch.set_num_threads(all cores, or --threads)

Each runs in its own subprocess (so that peak RSS, VmHWM, is its own), in one run of
this script; the report gives the median epoch time over --epochs epochs, the ratios,
and the peak memory of each process. Images are kept as uint8 and scaled per batch
(--preload-float32 converts the whole set first), identically for all three.

Run by hand:  python benchmarks/train_mlp.py [--epochs 3] [--limit 60000] [--preload-float32]
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

DATA_DIR = "/usr/share/datasets/fashion-mnist"
SIZES = (784, 256, 128, 64, 32, 10)
BATCH = 100
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


def epoch_order(n, epoch):
    """The batch order of one epoch: the same permutation for every implementation."""
    return np.random.default_rng(SEED + 1 + epoch).permutation(n).reshape(-1, BATCH)


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
def ours_trainer(weights):
    import nn
    from autograd import Tensor
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
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", os.cpu_count())))
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


def run_one(name, epochs, limit, preload_float32=False):
    """Train ``epochs`` epochs with one implementation; a dict of timings and losses."""
    x, labels = load_training_set(limit, preload_float32)
    train_step = TRAINERS[name](initial_weights())
    times, cpu_times, losses = [], [], []
    for epoch in range(epochs):
        order = epoch_order(len(x), epoch)
        start, start_cpu, total = time.perf_counter(), time.process_time(), 0.0
        for batch in order:
            total += train_step(as_float_batch(x[batch]), labels[batch])
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - start_cpu)
        losses.append(total / len(order))
    return {"name": name, "epoch_seconds": times, "epoch_cpu_seconds": cpu_times,
            "mean_losses": losses, "peak_rss_mb": peak_rss_mb()}


def run_in_subprocess(name, epochs, limit, preload_float32=False, threads=None):
    command = [sys.executable, os.path.abspath(__file__), "--child", name,
               "--epochs", str(epochs)] + (["--limit", str(limit)] if limit else []) + (
               ["--preload-float32"] if preload_float32 else [])
    # BLAS and OpenMP read their thread counts when they load: set them for the child.
    threads = str(threads or os.cpu_count())
    env = dict(os.environ, OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads,
               MKL_NUM_THREADS=threads)
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{name} run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(results):
    by_name = {result["name"]: result for result in results}
    medians = {name: statistics.median(result["epoch_seconds"]) for name, result in by_name.items()}
    cpu = {name: statistics.median(result["epoch_cpu_seconds"]) for name, result in by_name.items()}
    lines = [f"{'impl':<7}{'median epoch s':>15}{'(CPU s)':>9}{'epochs s':>22}{'peak RSS MiB':>14}"
             f"{'mean loss per epoch':>24}"]
    for name, result in by_name.items():
        epochs = " ".join(f"{t:.2f}" for t in result["epoch_seconds"])
        losses = " ".join(f"{loss:.4f}" for loss in result["mean_losses"])
        lines.append(f"{name:<7}{medians[name]:>15.3f}{cpu[name]:>9.2f}{epochs:>22}"
                     f"{result['peak_rss_mb']:>14.0f}{losses:>24}")
    if "ours" in medians:
        for other in ("numpy", "torch"):
            if other in medians:
                memory = by_name["ours"]["peak_rss_mb"] / by_name[other]["peak_rss_mb"]
                lines.append(f"ours / {other}: epoch time x{medians['ours'] / medians[other]:.3f} "
                             f"(CPU time x{cpu['ours'] / cpu[other]:.3f}), peak RSS x{memory:.3f}")
    return "\n".join(lines)


def main(epochs=3, limit=None, implementations=IMPLEMENTATIONS, preload_float32=False,
         threads=None):
    """Run each implementation in its own process; returns (report text, results)."""
    results = [run_in_subprocess(name, epochs, limit, preload_float32, threads)
               for name in implementations]
    return report(results), results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None,
                        help="use only the first N images (a multiple of 100), for a quick run")
    parser.add_argument("--impl", nargs="+", choices=IMPLEMENTATIONS, default=list(IMPLEMENTATIONS))
    parser.add_argument("--preload-float32", action="store_true",
                        help="convert the whole training set to float32 up front")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS/torch threads per process (default: every core)")
    parser.add_argument("--child", choices=IMPLEMENTATIONS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.epochs, args.limit, args.preload_float32)))
    else:
        print(f"Fashion-MNIST MLP {'-'.join(map(str, SIZES))}, batch {BATCH}, float32, "
              f"{os.cpu_count()} CPU cores, {args.threads or os.cpu_count()} threads, median of "
              f"{args.epochs} epochs, images "
              f"{'preloaded as float32' if args.preload_float32 else 'uint8, scaled per batch'}; "
              f"load average before: {os.getloadavg()[0]:.2f}")
        print(main(args.epochs, args.limit, args.impl, args.preload_float32, args.threads)[0])
        print(f"load average after: {os.getloadavg()[0]:.2f}")
