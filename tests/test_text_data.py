"""nn.datasets.text: cleaning, vocabulary, splits, makemore windows and sequences, GPT blocks."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nn.datasets import (CharVocabulary, DatasetNotFoundError, char_text, char_words, clean_words,
                         context_windows, load_words, random_blocks, sequential_blocks,
                         split_words, word_sequences, word_stream)
from nn.datasets.text import WORD_LIST

words_strategy = st.lists(st.text(alphabet="abcde", min_size=1, max_size=6), min_size=1,
                          max_size=8)


def test_clean_words_drops_possessives_non_letters_and_duplicates():
    entries = ["Aaron", "Aaron's", "aaron", "abc's", "I'd", "émigré", "zebra\n", "  Quiet ",
               "x-ray", "ABCs"]
    assert clean_words(entries) == ["aaron", "abcs", "quiet", "zebra"]


def test_load_words_from_a_user_file(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("emma\nOlivia\nava's\n\nava\n", encoding="utf-8")
    assert load_words(path) == ["ava", "emma", "olivia"]
    assert load_words(path, clean=False) == ["emma", "Olivia", "ava's", "ava"]
    (tmp_path / "dots.txt").write_text("a.b\n", encoding="utf-8")
    with pytest.raises(ValueError, match="boundary"):
        load_words(tmp_path / "dots.txt", clean=False)
    with pytest.raises(DatasetNotFoundError, match="no word list"):
        load_words(tmp_path / "missing.txt")


@pytest.mark.skipif(not WORD_LIST.is_file(), reason="Debian's wamerican is not installed")
def test_wamerican_cleaned_is_lowercase_letters_and_split_reproducibly():
    data = char_words(seed=0)
    assert "".join(data.vocab.itos) == ".abcdefghijklmnopqrstuvwxyz"
    words = data.train + data.val + data.test
    assert len(words) == len(set(words)) > 70_000
    assert all(word.isalpha() and word.islower() and word.isascii() for word in words)
    assert char_words(seed=0).test == data.test and char_words(seed=1).test != data.test


@given(words_strategy)
def test_vocabulary_round_trip_and_boundary_first(words):
    vocab = CharVocabulary.from_words(words)
    assert vocab.itos[0] == "." and vocab.itos[1:] == sorted(set("".join(words)))
    for word in words:
        ids = vocab.encode(word)
        assert ids.dtype == np.int64 and vocab.decode(ids) == word


def test_vocabulary_errors_name_the_characters():
    vocab = CharVocabulary.from_words(["ab"])
    with pytest.raises(ValueError, match=r"\['z'\]"):
        vocab.encode("abz")
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 2\]"):
        vocab.decode([0, 3])
    assert CharVocabulary("hello", boundary=None).itos == ["e", "h", "l", "o"]


@given(st.lists(st.text(alphabet="abc", min_size=1, max_size=4), unique=True, max_size=30),
       st.integers(0, 5))
def test_split_by_word_partitions_and_is_seeded(words, seed):
    train, val, test = split_words(words, (0.6, 0.2, 0.2), seed=seed)
    assert sorted(train + val + test) == sorted(words)
    assert len(train) == round(0.6 * len(words))
    assert (train, val, test) == split_words(words, (0.6, 0.2, 0.2), seed=seed)
    with pytest.raises(ValueError, match="summing"):
        split_words(words, (0.5, 0.2, 0.2))


@given(words_strategy, st.integers(1, 4))
def test_context_windows_match_makemore_loop(words, context):
    vocab = CharVocabulary.from_words(words)
    X, Y = context_windows(words, vocab, context)
    expected_x, expected_y = [], []
    for word in words:                       # makemore's build_dataset, verbatim in spirit
        window = [0] * context
        for char in word + ".":
            index = vocab.stoi[char]
            expected_x.append(window)
            expected_y.append(index)
            window = window[1:] + [index]
    np.testing.assert_array_equal(X, np.array(expected_x, dtype=np.int64).reshape(-1, context))
    np.testing.assert_array_equal(Y, expected_y)


@given(words_strategy)
def test_word_sequences_shift_by_one_and_pad(words):
    vocab = CharVocabulary.from_words(words)
    X, Y = word_sequences(words, vocab, ignore_index=-1)
    assert X.shape == Y.shape == (len(words), max(map(len, words)) + 1)
    for row, word in enumerate(words):
        n = len(word)
        assert vocab.decode(X[row, :n + 1]) == "." + word
        assert vocab.decode(Y[row, :n + 1]) == word + "."
        assert (X[row, n + 1:] == 0).all() and (Y[row, n + 1:] == -1).all()
        np.testing.assert_array_equal(X[row, 1:n + 1], Y[row, :n])   # targets are next inputs
    with pytest.raises(ValueError, match="shorter"):
        word_sequences(words, vocab, length=1)


def test_stream_and_blocks():
    words = ["ab", "c", "abc"]
    vocab = CharVocabulary.from_words(words)
    stream = word_stream(words, vocab)
    assert vocab.decode(stream) == ".ab.c.abc."
    x, y = random_blocks(stream, block_size=4, batch_size=50, rng=np.random.default_rng(0))
    assert x.shape == y.shape == (50, 4)
    starts = [int(np.flatnonzero((np.lib.stride_tricks.sliding_window_view(stream, 4) == row)
                                 .all(axis=1))[0]) for row in x]
    for row, start in zip(y, starts):
        np.testing.assert_array_equal(row, stream[start + 1:start + 5])
    x, y = sequential_blocks(stream, 3)
    assert vocab.decode(x.reshape(-1)) == ".ab.c.abc" and vocab.decode(y.reshape(-1)) == "ab.c.abc."
    with pytest.raises(ValueError, match="at least 11"):
        random_blocks(stream, 10, 2, np.random.default_rng(0))


def test_char_text_splits_contiguously(tmp_path):
    path = tmp_path / "tiny.txt"
    text = "to be or not to be, that is the question\n" * 5
    path.write_text(text, encoding="utf-8")
    data = char_text(path, fractions=(0.8, 0.1, 0.1))
    assert data.vocab.boundary is None and data.vocab.itos == sorted(set(text))
    joined = np.concatenate([data.train, data.val, data.test])
    assert data.vocab.decode(joined) == text
    assert len(data.train) == round(0.8 * len(text))
    with pytest.raises(DatasetNotFoundError):
        char_text(tmp_path / "missing.txt")


def test_char_words_on_a_user_file_gives_equal_width_sequences(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("\n".join(["alpha", "be", "gamma", "delta", "epsilonic", "zeta", "eta",
                               "theta", "iota", "kappa"]), encoding="utf-8")
    data = char_words(path, seed=3)
    widths = {data.sequences(name)[0].shape[1] for name in ("train", "val", "test")}
    assert widths == {len("epsilonic") + 1} and data.max_word_length == 9
    X, Y = data.windows("val", context=2)
    assert X.shape == (sum(len(w) + 1 for w in data.val), 2)
    with pytest.raises(ValueError, match="'train', 'val' or 'test'"):
        data.split("dev")
