"""``benchmarks/mlp_stack.py`` splits an MLP step's time between kernels, engine and
modules by timing four trainers of one model; the split means something only if the
four train the same model the same way. Small random data, a few steps."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import mlp_stack  # noqa: E402


def test_the_timed_trainers_train_the_same_model():
    rng = np.random.default_rng(0)
    weights = mlp_stack.train_mlp.initial_weights()
    trainers = {name: make(weights) for name, make in mlp_stack.TRAINERS.items()}
    assert set(trainers) == {"numpy", "kernels", "engine", "ours"}
    for _ in range(6):
        x = rng.random((10, 784), dtype=np.float32)
        labels = rng.integers(0, 10, 10)
        losses = {name: train(x, labels) for name, train in trainers.items()}
        # The same ops in the same order: the same bits, step after step.
        assert losses["kernels"] == losses["engine"] == losses["ours"], losses
        # The hand-written NumPy orders its float32 sums differently: rounding apart.
        np.testing.assert_allclose(losses["numpy"], losses["ours"], rtol=1e-3)
