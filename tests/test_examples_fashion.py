"""Smoke runs of the Fashion-MNIST examples: each trains for a few batches and writes figures.

The data set is read once for the module and handed to every example (reading and
unzipping it is the slowest part of a smoke run).
"""
import importlib.util
import runpy
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import nn
import nn.datasets

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load_example(name):
    spec = importlib.util.spec_from_file_location(f"{name}_example", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def fashion():
    """fashion_mnist(normalize=True, flatten=...) served from one read of the files."""
    data = nn.datasets.fashion_mnist(normalize=True)

    def cached(root=None, *, download=True, normalize=False, flatten=False):
        assert normalize, "the examples train on pixels scaled to [0, 1]"
        return tuple((x.reshape(len(x), -1) if flatten else x, y) for x, y in data)
    return cached


def assert_figures(folder, names):
    for name in names:
        path = folder / name
        assert path.is_file() and path.stat().st_size > 0, f"{name} was not written"
        if name.endswith(".svg"):
            ET.fromstring(path.read_text())


def test_mlp_mnist_smoke_trains_sgd_and_adam_and_matches_pytorch(tmp_path, monkeypatch, fashion):
    pytest.importorskip("torch")
    example = load_example("mlp_mnist")
    monkeypatch.setattr(example, "fashion_mnist", fashion)
    results = example.main(smoke=True, compare_torch=True, out_dir=tmp_path)
    for name in ("SGD", "Adam"):
        # 500 images, one epoch: well above the 10% of guessing, far from converged.
        assert 0.2 < results[name]["accuracy"] < 0.9
        assert np.isfinite(results[name]["loss"])
    comparison = results["torch"]
    assert len(comparison["ours"]) == len(comparison["pytorch"]) == 5
    assert comparison["max_difference"] < 1e-10   # float64: the same maths step by step
    assert abs(comparison["accuracy"]["ours"] - comparison["accuracy"]["pytorch"]) <= 0.01
    assert_figures(tmp_path, ["curves_sgd_vs_adam.png", "weight_histograms.png",
                              "architecture.svg", "graph.svg"])


def test_mlp_mnist_without_mnist_files_exits_with_a_message(monkeypatch, capsys):
    def offline(*args, **kwargs):
        raise nn.datasets.DatasetNotFoundError("mnist: no mirror answered")
    monkeypatch.setattr(nn.datasets, "mnist", offline)
    monkeypatch.setattr(sys, "argv", ["mlp_mnist.py", "--dataset", "mnist", "--smoke"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(EXAMPLES / "mlp_mnist.py"), run_name="__main__")
    assert exit_info.value.code != 0
    assert "mnist" in str(exit_info.value.code) and "no mirror answered" in str(exit_info.value.code)


def test_fashion_keras_style_smoke_trains_both_models_and_checkpoints(tmp_path, monkeypatch,
                                                                       fashion):
    example = load_example("fashion_keras_style")
    monkeypatch.setattr(example, "fashion_mnist", fashion)
    results = example.main(smoke=True, out_dir=tmp_path)
    assert 0.2 < results["softmax_test_accuracy"] <= 1.0
    assert 0.2 < results["dense_best_val_accuracy"] <= 1.0
    assert 0.2 < results["dense_test_accuracy"] <= 1.0
    assert 1 <= results["dense_epochs"] <= 2
    state = nn.load(tmp_path / "best_dense.npz")
    assert state["1.weight"].shape == (example.HIDDEN, 784)
    assert_figures(tmp_path, ["softmax_curves.png", "dense_curves.png", "softmax_weights.png",
                              "confusion_matrix.png", "predictions.png"])


def test_cnn_fashion_smoke_trains_and_times_an_epoch(tmp_path, monkeypatch, fashion):
    example = load_example("cnn_fashion")
    monkeypatch.setattr(example, "fashion_mnist", fashion)
    results = example.main(smoke=True, out_dir=tmp_path)
    assert 0.0 <= results["test_accuracy"] <= 1.0 and np.isfinite(results["test_loss"])
    assert len(results["epoch_seconds"]) == results["epochs"] == 1
    assert results["epoch_seconds"][0] > 0
    assert_figures(tmp_path, ["curves.png", "conv1_filters.png", "confusion_matrix.png",
                              "mistakes.png", "architecture.svg"])
