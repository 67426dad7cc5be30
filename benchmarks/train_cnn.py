"""Training-step speed and peak memory: the CNN of examples/cnn_fashion.py, ours and PyTorch's.

(N, 1, 28, 28) -> [Conv3x3(pad 1) -> BatchNorm2d -> ReLU -> MaxPool2] x 2 (32, 64 channels)
-> Flatten -> Linear(3136, 128) -> ReLU -> Dropout(0.3) -> Linear(128, 10), cross-entropy,
Adam lr 1e-3, batch 128, float32, Fashion-MNIST training images. One step is forward,
backward and the optimizer step. Both models get the same initial weights (PyTorch's
default initialisation drawn once with NumPy, loaded by state_dict key into each), which
the report proves by their equal eval-mode loss on the first batch before training.

Each implementation lives in its own subprocess (so that its peak RSS, VmHWM, is its own),
and the two are driven in interleaved rounds: every round runs --steps steps in one and
then in the other, the order alternating between rounds, so that the load of a shared
machine falls on both alike. The report gives the median step time of each, the ratio
ours / PyTorch, the median of the per-round ratios, and each process's peak RSS. It does
this twice: single-threaded (OMP/OPENBLAS/MKL_NUM_THREADS=1, torch.set_num_threads(1))
and with default threads (those variables removed from the children's environment).

Run by hand:  python benchmarks/train_cnn.py [--rounds 7] [--steps 3] [--threads single default]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

DATA_DIR = "/usr/share/datasets/fashion-mnist"
CHANNELS, HIDDEN, CLASSES, DROPOUT = (32, 64), 128, 10, 0.3
BATCH, LR, SEED = 128, 1e-3, 0
N_BATCHES = 16          # the training batches cycled through (enough to defeat any cache)
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
IMPLEMENTATIONS = ("ours", "torch")


# --- shared inputs ---------------------------------------------------------------------------
def load_batches():
    """N_BATCHES batches of float32 images (N, 1, 28, 28) in [0, 1] and int64 labels."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from train_mlp import read_idx
    count = N_BATCHES * BATCH
    images = read_idx(os.path.join(DATA_DIR, "train-images-idx3-ubyte.gz"))[:count]
    labels = read_idx(os.path.join(DATA_DIR, "train-labels-idx1-ubyte.gz"))[:count]
    images = (images.astype(np.float32) / np.float32(255)).reshape(N_BATCHES, BATCH, 1, 28, 28)
    return list(zip(images, labels.astype(np.int64).reshape(N_BATCHES, BATCH)))


def initial_state():
    """The model's state_dict as NumPy arrays, PyTorch's default initialisation
    (weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)), batch norm 1/0/0/1)."""
    rng = np.random.default_rng(SEED)

    def uniform(shape, fan_in):
        bound = 1.0 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, shape).astype(np.float32)
    state, width, index = {}, 1, 0
    for size in CHANNELS:
        state[f"{index}.weight"] = uniform((size, width, 3, 3), width * 9)
        state[f"{index}.bias"] = uniform((size,), width * 9)
        state[f"{index + 1}.weight"] = np.ones(size, np.float32)
        state[f"{index + 1}.bias"] = np.zeros(size, np.float32)
        state[f"{index + 1}.running_mean"] = np.zeros(size, np.float32)
        state[f"{index + 1}.running_var"] = np.ones(size, np.float32)
        state[f"{index + 1}.num_batches_tracked"] = np.zeros((), np.int64)
        width, index = size, index + 4
    flat = width * (28 // 2 ** len(CHANNELS)) ** 2
    for key, (fan_in, fan_out) in ((f"{index + 1}", (flat, HIDDEN)),
                                   (f"{index + 4}", (HIDDEN, CLASSES))):
        state[f"{key}.weight"] = uniform((fan_out, fan_in), fan_in)
        state[f"{key}.bias"] = uniform((fan_out,), fan_in)
    return state


# --- the two implementations -----------------------------------------------------------------
def ours_trainer(state):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import nn
    from autograd import Tensor, no_grad
    from examples.cnn_fashion import build_cnn
    model = build_cnn(CHANNELS, HIDDEN, DROPOUT, CLASSES).to(np.float32)
    model.load_state_dict(state)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = nn.optim.Adam(model.parameters(), lr=LR)

    def eval_loss(x, labels):
        model.eval()
        with no_grad():
            loss = loss_fn(model(Tensor(x)), labels).item()
        model.train()
        return loss

    def train_step(x, labels):
        loss = loss_fn(model(Tensor(x)), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()
    return eval_loss, train_step


def torch_trainer(state):
    import torch
    tnn = torch.nn
    if os.environ.get("OMP_NUM_THREADS") == "1":
        torch.set_num_threads(1)
    layers, width = [], 1
    for size in CHANNELS:
        layers += [tnn.Conv2d(width, size, 3, padding=1), tnn.BatchNorm2d(size), tnn.ReLU(),
                   tnn.MaxPool2d(2)]
        width = size
    flat = width * (28 // 2 ** len(CHANNELS)) ** 2
    model = tnn.Sequential(*layers, tnn.Flatten(), tnn.Linear(flat, HIDDEN), tnn.ReLU(),
                           tnn.Dropout(DROPOUT), tnn.Linear(HIDDEN, CLASSES))
    model.load_state_dict({key: torch.from_numpy(value) for key, value in state.items()})
    loss_fn = tnn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)

    def eval_loss(x, labels):
        model.eval()
        with torch.no_grad():
            loss = loss_fn(model(torch.from_numpy(x)), torch.from_numpy(labels)).item()
        model.train()
        return loss

    def train_step(x, labels):
        loss = loss_fn(model(torch.from_numpy(x)), torch.from_numpy(labels))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()
    return eval_loss, train_step


TRAINERS = {"ours": ours_trainer, "torch": torch_trainer}


# --- the child: steps on request -------------------------------------------------------------
def peak_rss_mb():
    """This process's peak resident set size (VmHWM), in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def serve(name):
    """Answer the parent's requests on stdin: ``run K`` trains K steps and answers their
    seconds; ``quit`` answers the peak RSS and exits. The first answer is the
    eval-mode loss of the first batch under the initial weights."""
    batches = load_batches()
    eval_loss, train_step = TRAINERS[name](initial_state())
    answer({"initial_eval_loss": eval_loss(*batches[0])})
    step = 0
    for line in sys.stdin:
        command = line.split()
        if command[0] == "quit":
            answer({"peak_rss_mb": peak_rss_mb()})
            return
        seconds, losses = [], []
        for _ in range(int(command[1])):
            x, labels = batches[step % N_BATCHES]
            start = time.perf_counter()
            losses.append(train_step(x, labels))
            seconds.append(time.perf_counter() - start)
            step += 1
        answer({"seconds": seconds, "losses": losses})


def answer(message):
    print(json.dumps(message), flush=True)


# --- the parent: interleaved rounds ----------------------------------------------------------
class Child:
    def __init__(self, name, threads):
        env = dict(os.environ)
        for variable in THREAD_VARIABLES:
            env.pop(variable, None)
            if threads == "single":
                env[variable] = "1"
        self.name = name
        self.process = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--child",
                                         name], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, env=env)
        self.initial_eval_loss = self.receive()["initial_eval_loss"]

    def request(self, line):
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self.receive()

    def receive(self):
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.name} child exited (code {self.process.wait()})")
        return json.loads(line)

    def close(self):
        peak = self.request("quit")["peak_rss_mb"]
        self.process.wait()
        return peak


def measure(threads, rounds, steps, warmup=2):
    """Interleaved rounds in the two children; a dict of results."""
    children = {name: Child(name, threads) for name in IMPLEMENTATIONS}
    try:
        for child in children.values():
            child.request(f"run {warmup}")
        seconds = {name: [] for name in children}
        round_ratios = []
        for index in range(rounds):
            order = IMPLEMENTATIONS if index % 2 == 0 else IMPLEMENTATIONS[::-1]
            medians = {}
            for name in order:
                times = children[name].request(f"run {steps}")["seconds"]
                seconds[name] += times
                medians[name] = statistics.median(times)
            round_ratios.append(medians["ours"] / medians["torch"])
    finally:
        peaks = {name: child.close() for name, child in children.items()}
    return {"threads": threads, "median_step_s": {n: statistics.median(s) for n, s in seconds.items()},
            "round_ratios": round_ratios, "peak_rss_mb": peaks,
            "initial_eval_loss": {n: c.initial_eval_loss for n, c in children.items()}}


def report(result):
    medians, peaks = result["median_step_s"], result["peak_rss_mb"]
    losses = result["initial_eval_loss"]
    lines = [f"threads: {result['threads']}"]
    for name in IMPLEMENTATIONS:
        lines.append(f"  {name:<6} median step {medians[name] * 1000:7.1f} ms   peak RSS "
                     f"{peaks[name]:6.0f} MiB   initial eval loss {losses[name]:.6f}")
    ratios = " ".join(f"{r:.2f}" for r in result["round_ratios"])
    lines.append(f"  ours / torch: step time x{medians['ours'] / medians['torch']:.2f} "
                 f"(per-round ratios {ratios}; median x{statistics.median(result['round_ratios']):.2f}), "
                 f"peak RSS x{peaks['ours'] / peaks['torch']:.2f}")
    return "\n".join(lines)


def main(rounds=7, steps=3, threads=("single", "default")):
    """Measure each thread setting; returns (report text, results)."""
    results = [measure(setting, rounds, steps) for setting in threads]
    return "\n".join(report(result) for result in results), results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=3, help="steps per round and implementation")
    parser.add_argument("--threads", nargs="+", choices=("single", "default"),
                        default=["single", "default"])
    parser.add_argument("--child", choices=IMPLEMENTATIONS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        serve(args.child)
    else:
        print(f"CNN of examples/cnn_fashion.py, batch {BATCH}, float32, {os.cpu_count()} CPU "
              f"cores, {args.rounds} interleaved rounds of {args.steps} steps each after 2 "
              f"warm-up steps; load average before: {os.getloadavg()[0]:.2f}")
        print(main(args.rounds, args.steps, args.threads)[0])
        print(f"load average after: {os.getloadavg()[0]:.2f}")
