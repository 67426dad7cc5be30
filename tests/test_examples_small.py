"""Smoke runs of the small-data examples: each trains a few steps, returns its numbers and
writes its figures into a temporary folder."""
import importlib.util
import shutil

import numpy as np
import pytest

from examples_support import assert_figures, load_example


def test_logic_gates_perceptron_and_xor_mlp(tmp_path, capsys):
    results = load_example("logic_gates").main(smoke=True, out_dir=tmp_path)
    for gate in ("and", "or", "nand"):
        assert results[f"perceptron_{gate}"] == 1.0      # linearly separable: the rule converges
    assert results["perceptron_xor"] < 1.0               # no line separates XOR
    assert results["neuron_xor"] < 1.0
    assert results["xor_mlp_accuracy"] == 1.0
    assert "XOR 2-2-1 MLP" in capsys.readouterr().out
    graph = "xor_mlp_graph.svg" if shutil.which("dot") else "xor_mlp_graph.dot"
    assert_figures(tmp_path, [graph, "xor_mlp_boundary.png"]
                   + [f"perceptron_{gate}.png" for gate in ("and", "or", "nand", "xor")])


def test_seminar_points_runs_every_experiment(tmp_path, capsys):
    results = load_example("seminar_points").main(smoke=True, out_dir=tmp_path)
    expected = ["raw_accuracy", "minmax_accuracy", "init constant 0.1", "init he", "batch 16",
                "epochs_final_test", "sorted_accuracy", "shuffled_accuracy"]
    for key in expected:
        assert 0.0 <= results[key] <= 1.0, key
    # Even two epochs on 300 points separate scaled from raw inputs.
    assert results["minmax_accuracy"] > results["raw_accuracy"]
    out = capsys.readouterr().out
    for heading in ("1. normalisation", "2. weight initialisation", "3. batch size", "4. epochs",
                    "5. sample order"):
        assert heading in out
    assert_figures(tmp_path, ["normalisation_raw_curves.png", "normalisation_minmax_3d.png",
                              "init_constant_0.1.png", "init_he.png", "batch_size_sweep.png",
                              "epochs_curves.png", "order_sorted_curves.png",
                              "order_shuffled_curves.png"])


def test_iris_compares_with_sklearn_when_present(tmp_path, capsys):
    results = load_example("iris").main(smoke=True, out_dir=tmp_path)
    assert 0.5 < results["ours_accuracy"] <= 1.0   # 5 epochs already beat guessing (1/3)
    out = capsys.readouterr().out
    if importlib.util.find_spec("sklearn") is None:
        assert results["sklearn_accuracy"] is None and "skipped" in out
    else:
        assert 0.0 <= results["sklearn_accuracy"] <= 1.0 and "MLPClassifier" in out
    assert_figures(tmp_path, ["fold1_curves.png", "confusion_matrix.png"])


def test_iris_skips_sklearn_cleanly_when_absent(tmp_path, capsys, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError("No module named 'sklearn'")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    example = load_example("iris")
    monkeypatch.setattr(example, "FOLDS", 2)   # the skip path needs no five folds
    results = example.main(smoke=True, out_dir=tmp_path)
    assert results["sklearn_accuracy"] is None
    assert "scikit-learn is not installed" in capsys.readouterr().out


def test_mnist1d_mlp_and_cnn(tmp_path, capsys):
    pytest.importorskip("mnist1d")
    results = load_example("mnist_1d").main(smoke=True, out_dir=tmp_path)
    for model in ("logistic", "mlp", "cnn"):
        assert 0.0 <= results[model] <= 1.0 and np.isfinite(results[model])
    assert "paper" in capsys.readouterr().out
    assert_figures(tmp_path, ["curves.png", "cnn_confusion_matrix.png"])


def test_custom_op_smoke_property_tests_and_draws(tmp_path):
    report = load_example("custom_op").main(smoke=True, out_dir=tmp_path)
    assert report[0].startswith("property examples passed: ")
    assert int(report[0].split(": ")[1]) > 0
    assert "hessian at [0, 1]" in report[1]
    figures = ["report.txt", "graph.svg" if shutil.which("dot") else "graph.dot"]
    assert_figures(tmp_path, figures)


def generated_words(count=900, seed=0):
    """Pronounceable made-up words (consonant-vowel syllables), for the character models."""
    rng = np.random.default_rng(seed)
    consonants, vowels = list("bdklmnprst"), list("aeiou")
    return sorted({"".join(rng.choice(consonants) + rng.choice(vowels)
                           for _ in range(rng.integers(1, 4))) for _ in range(count)})


def test_char_models_ladder_smoke_and_torch_comparison(tmp_path, capsys):
    """The ladder on generated words, and each net trained in both libraries from the same
    float64 weights: per-step losses agree to 1e-6 relative."""
    pytest.importorskip("torch")
    words = generated_words()
    (tmp_path / "words.txt").write_text("\n".join(words), encoding="utf-8")
    results = load_example("char_models").main(smoke=True, compare_torch=True,
                                               words_path=tmp_path / "words.txt")
    assert list(results) == ["bigram counts", "bigram net", "MLP", "GRU", "Transformer"]
    uniform = np.log(len(set("".join(words))) + 1)      # letters plus the boundary
    for name, result in results.items():
        assert 0.5 < result["test_loss"] < uniform + 0.5, name
        assert len(result["samples"]) == 20
        assert all(set(word) <= set("bdklmnprstaeiou") for word in result["samples"])
        if name != "bigram counts":
            assert result["torch_max_rel_diff"] <= 1e-6, name
    # Counting is the exact bigram optimum; 20 steps of a net are not there yet.
    assert results["bigram counts"]["test_loss"] < results["bigram net"]["test_loss"]
    out = capsys.readouterr().out
    assert "| GRU |" in out and "| Transformer |" in out
