"""The source notes' MLP on Fashion-MNIST (or MNIST): SGD versus Adam, optionally against PyTorch.

    python examples/mlp_mnist.py                    # Fashion-MNIST, SGD and Adam, offline
    python examples/mlp_mnist.py --dataset mnist    # MNIST, if it can be downloaded
    python examples/mlp_mnist.py --compare-torch    # also: same net in PyTorch, same batches
    python examples/mlp_mnist.py --smoke            # a few batches, seconds (run by the tests)

Network: 784-256-128-64-32-10, BatchNorm1d before LeakyReLU(0.01), He initialisation,
softmax cross-entropy, batches of 100. Both optimizers start from the same weights, see
the same batches and follow the same cosine learning-rate decay. Figures go to
outputs/mlp_mnist/: curves (SGD vs Adam), weight histograms, the network's graph.
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

import autograd as ag
import nn
import viz
from nn.datasets import DatasetNotFoundError, fashion_mnist, mnist
from nn.training import evaluate, fit
from nn.training.callbacks import copy_state

EPOCHS = 20
BATCH_SIZE = 100
HIDDEN = (256, 128, 64, 32)
NEGATIVE_SLOPE = 0.01
OPTIMIZERS = {"SGD": lambda params: nn.optim.SGD(params, lr=0.1),
              "Adam": lambda params: nn.optim.Adam(params, lr=1e-3)}
COMPARE_EPOCHS = 3      # --compare-torch: epochs trained step by step in both libraries
PRINT_EVERY = 100       # --compare-torch: print every this many steps
# In float32 the two runs drift apart as rounding differences grow through training
# (epoch means still agree to about 1e-3); in float64 they agree step by step.
COMPARE_DTYPE = "float64"
SEED = 0
OUT_DIR = Path("outputs/mlp_mnist")


def build_mlp(inputs=784, hidden=HIDDEN, classes=10):
    """Linear -> BatchNorm1d -> LeakyReLU blocks, He-initialised, then a linear classifier."""
    layers, width = [], inputs
    for size in hidden:
        linear = nn.Linear(width, size)
        nn.init.kaiming_normal_(linear.weight, a=NEGATIVE_SLOPE, nonlinearity="leaky_relu")
        nn.init.zeros_(linear.bias)
        layers += [linear, nn.BatchNorm1d(size), nn.LeakyReLU(NEGATIVE_SLOPE)]
        width = size
    layers.append(nn.Linear(width, classes))
    return nn.Sequential(*layers)


def load(dataset, smoke):
    """(x_train, y_train), (x_test, y_test) as float32 rows in [0, 1]; a slice when smoking."""
    loader = {"fashion": fashion_mnist, "mnist": mnist}[dataset]
    (x_train, y_train), (x_test, y_test) = loader(normalize=True, flatten=True)
    if smoke:
        return (x_train[:500], y_train[:500]), (x_test[:200], y_test[:200])
    return (x_train, y_train), (x_test, y_test)


def train(name, model, train_data, test_data, epochs):
    """Train ``model`` with optimizer ``name``; returns its History and test metrics."""
    optimizer = OPTIMIZERS[name](model.parameters())
    schedule = nn.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    print(f"--- {name} ---")
    history = fit(model, nn.CrossEntropyLoss(), optimizer, train_data, epochs=epochs,
                  batch_size=BATCH_SIZE, validation_data=test_data, seed=SEED, verbose=2,
                  scheduler=schedule)
    return history, evaluate(model, nn.CrossEntropyLoss(), test_data)


def torch_mlp(torch):
    """The same network in PyTorch; its state_dict keys are ours ("0.weight", ...)."""
    layers, width = [], 784
    for size in HIDDEN:
        layers += [torch.nn.Linear(width, size), torch.nn.BatchNorm1d(size),
                   torch.nn.LeakyReLU(NEGATIVE_SLOPE)]
        width = size
    return torch.nn.Sequential(*layers, torch.nn.Linear(width, 10))


def compare_with_torch(initial_state, train_data, test_data, epochs, dtype=COMPARE_DTYPE):
    """Train our MLP and PyTorch's from ``initial_state`` on identical batches with Adam,
    print both losses side by side; returns the per-step losses and the largest gap."""
    import torch
    torch.set_num_threads(1)   # batches of 100 gain nothing from threads, which fight NumPy's
    ours = build_mlp()
    ours.load_state_dict(initial_state)
    ours.to(dtype)
    theirs = torch_mlp(torch)
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in initial_state.items()})
    theirs.to(getattr(torch, dtype))
    our_opt, their_opt = nn.optim.Adam(ours.parameters()), torch.optim.Adam(theirs.parameters())
    our_loss_fn, their_loss_fn = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    (x, y), rng = train_data, np.random.default_rng(SEED)
    x, x_test = x.astype(dtype), test_data[0].astype(dtype)
    losses = {"ours": [], "pytorch": []}
    print(f"{'epoch':>5} {'step':>5} {'ours':>12} {'pytorch':>12} {'|diff|':>9}")
    for epoch in range(1, epochs + 1):
        first, order = len(losses["ours"]), rng.permutation(len(x))
        for start in range(0, len(x), BATCH_SIZE):
            index = order[start:start + BATCH_SIZE]
            our_opt.zero_grad()
            loss = our_loss_fn(ours(ag.Tensor(x[index])), y[index])
            loss.backward()
            our_opt.step()
            their_opt.zero_grad()
            their_loss = their_loss_fn(theirs(torch.from_numpy(x[index])), torch.from_numpy(y[index]))
            their_loss.backward()
            their_opt.step()
            losses["ours"].append(loss.item())
            losses["pytorch"].append(their_loss.item())
            step = len(losses["ours"])
            if step % PRINT_EVERY == 0 or step == 1:
                print(f"{epoch:5d} {step:5d} {losses['ours'][-1]:12.8f} "
                      f"{losses['pytorch'][-1]:12.8f} {abs(loss.item() - their_loss.item()):9.2e}")
        print(f"epoch {epoch} mean batch loss: ours {np.mean(losses['ours'][first:]):.8f}, "
              f"pytorch {np.mean(losses['pytorch'][first:]):.8f}")
    ours.eval()
    theirs.eval()
    with torch.no_grad():
        their_logits = theirs(torch.from_numpy(x_test)).numpy()
    accuracy = {"ours": evaluate(ours, None, (x_test, test_data[1]))["accuracy"],
                "pytorch": float((their_logits.argmax(1) == test_data[1]).mean())}
    gap = float(np.max(np.abs(np.subtract(losses["ours"], losses["pytorch"]))))
    print(f"{dtype}: max |loss difference| over {step} steps {gap:.2e}; test accuracy: "
          f"ours {accuracy['ours']:.4f}, pytorch {accuracy['pytorch']:.4f}")
    return dict(losses, max_difference=gap, accuracy=accuracy)


def plot_curves(histories, path):
    """Loss and accuracy per epoch, train (solid) and test (dashed), one colour per optimizer."""
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for (name, history), colour in zip(histories.items(), ("tab:blue", "tab:red")):
        for ax, metric in zip(axes, ("loss", "accuracy")):
            epochs = np.arange(1, len(history[metric]) + 1)
            ax.plot(epochs, history[metric], "-", color=colour, label=f"{name} train")
            ax.plot(epochs, history["val_" + metric], "--", color=colour, label=f"{name} test")
            ax.set(xlabel="epoch", ylabel=metric, title=metric)
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(dataset="fashion", epochs=EPOCHS, smoke=False, compare_torch=False, out_dir=OUT_DIR):
    """Train with SGD and with Adam, write the figures; returns the headline numbers."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    train_data, test_data = load(dataset, smoke)
    epochs = 1 if smoke else epochs
    nn.manual_seed(SEED)
    initial = copy_state(build_mlp().state_dict())
    histories, results, models = {}, {}, {}
    for name in OPTIMIZERS:
        models[name] = build_mlp()
        models[name].load_state_dict(initial)
        start = time.perf_counter()
        histories[name], test = train(name, models[name], train_data, test_data, epochs)
        results[name] = dict(test, seconds=time.perf_counter() - start)
    for name, result in results.items():
        print(f"{dataset} test accuracy with {name}: {result['accuracy']:.4f} "
              f"(loss {result['loss']:.4f}, {epochs} epochs, {result['seconds']:.0f} s)")

    plot_curves(histories, out_dir / "curves_sgd_vs_adam.png")
    adam = models["Adam"]
    weights = [f"{path}.weight" for path, layer in adam.named_modules() if isinstance(layer, nn.Linear)]
    viz.plot_weight_histograms(initial, adam, names=weights, title="Adam: weights before/after",
                               path=out_dir / "weight_histograms.png")
    adam.eval()
    loss = nn.CrossEntropyLoss()(adam(ag.Tensor(test_data[0][:BATCH_SIZE])), test_data[1][:BATCH_SIZE])
    viz.save(viz.draw_graph(loss, model=adam, collapse=1, rankdir="LR"), out_dir / "architecture.svg")
    viz.save(viz.draw_graph(loss, model=adam), out_dir / "graph.svg")
    print(f"wrote {out_dir}/curves_sgd_vs_adam.png, weight_histograms.png, architecture.svg, graph.svg")
    if compare_torch:
        print("--- ours vs PyTorch: Adam, same initial weights, same batches ---")
        results["torch"] = compare_with_torch(initial, train_data, test_data,
                                              1 if smoke else COMPARE_EPOCHS)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=("fashion", "mnist"), default="fashion")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--compare-torch", action="store_true",
                        help="also train the same network in PyTorch and print both losses")
    parser.add_argument("--smoke", action="store_true", help="a few batches, for tests")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    try:
        main(args.dataset, args.epochs, args.smoke, args.compare_torch, args.out)
    except DatasetNotFoundError as err:
        sys.exit(f"mlp_mnist: the {args.dataset} data set is not available offline and could "
                 f"not be downloaded:\n{err}")
