"""Smoke runs of examples/tiny_gpt.py: trains a few steps on a text file (and on the word
list where Debian's wamerican is installed), checkpoints, samples, and matches PyTorch."""
import math

import numpy as np
import pytest

import nn
from examples_support import load_example
from nn.datasets.text import WORD_LIST

TEXT = "the quick brown fox jumps over the lazy dog.\n" * 40


def test_tiny_gpt_on_a_text_file_checkpoints_and_samples(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TEXT)
    gpt = load_example("tiny_gpt")
    results = gpt.main(smoke=True, text=corpus, out_dir=tmp_path)
    vocabulary = len(set(TEXT))
    assert np.isfinite(results["val_loss"]) and results["val_loss"] < math.log(vocabulary) + 0.5
    assert results["seconds_per_step"] > 0
    (generated,) = results["samples"]
    assert len(generated) == 41 and set(generated) <= set(TEXT)
    state = nn.load(tmp_path / "tiny_gpt.npz")
    assert "blocks.layers.1.self_attn.in_proj_weight" in state and "position.weight" in state
    assert (tmp_path / "samples.txt").read_text().strip()
    assert (tmp_path / "attention.png").stat().st_size > 0
    assert "val loss" in capsys.readouterr().out


def test_tiny_gpt_trains_like_pytorch_from_the_same_weights(tmp_path):
    pytest.importorskip("torch")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TEXT)
    results = load_example("tiny_gpt").main(smoke=True, text=corpus, compare_torch=True,
                                            out_dir=tmp_path)
    # float32 on both sides, same initial weights and batches, 6 AdamW steps
    assert results["torch_val_loss"] == pytest.approx(results["val_loss"], rel=1e-4)
    assert results["torch_seconds_per_step"] > 0


@pytest.mark.skipif(not WORD_LIST.is_file(), reason="Debian's wamerican is not installed")
def test_tiny_gpt_on_the_word_list_samples_words(tmp_path):
    results = load_example("tiny_gpt").main(smoke=True, out_dir=tmp_path)
    assert results["samples"] and all(word.isalpha() and word.islower()
                                      for word in results["samples"])
