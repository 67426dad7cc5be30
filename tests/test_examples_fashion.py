"""Smoke runs of the Fashion-MNIST examples: each trains for a few batches and writes figures.

The examples get a small generated stand-in for Fashion-MNIST (tests use data they make).
"""
import runpy
import sys

import numpy as np
import pytest

import nn
import nn.datasets
from examples_support import EXAMPLES, assert_figures, load_example, synthetic_fashion


@pytest.fixture(scope="module")
def fashion():
    """A generated stand-in for fashion_mnist(normalize=True, flatten=...)."""
    return synthetic_fashion()


def test_mlp_mnist_smoke_trains_sgd_and_adam_and_matches_pytorch(tmp_path, monkeypatch, fashion):
    pytest.importorskip("torch")
    example = load_example("mlp_mnist")
    monkeypatch.setattr(example, "fashion_mnist", fashion)
    results = example.main(smoke=True, compare_torch=True, out_dir=tmp_path)
    for name in ("SGD", "Adam"):
        # 500 images, one epoch: well above the 10% of guessing.
        assert 0.2 < results[name]["accuracy"] <= 1.0
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


def test_demo_smoke_trains_and_draws(tmp_path, monkeypatch, fashion):
    example = load_example("demo")
    monkeypatch.setattr(example, "fashion_mnist", fashion)
    results = example.main(smoke=True, out_dir=tmp_path)
    assert 0.2 < results["accuracy"] <= 1.0 and np.isfinite(results["loss"])
    assert_figures(tmp_path, ["architecture.svg", "graph.svg", "loss_curves.png"])
