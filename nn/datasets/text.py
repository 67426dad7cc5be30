"""Character-level text data, offline: words (makemore) and running text (nanoGPT).

    from nn.datasets import char_words
    data = char_words(seed=0)              # Debian's wamerican list, cleaned, split by word
    x, y = data.windows("train", context=3)        # (N, 3) contexts -> (N,) next characters
    x, y = data.sequences("train")                 # (N, L) inputs, (N, L) targets (-1 = pad)
    x, y = random_blocks(data.stream("train"), block_size=16, batch_size=32, rng=rng)
    data.vocab.decode(data.vocab.encode("hello"))  # 'hello'

Words. ``clean_words`` keeps what a character model of English words should see: it drops
possessives (entries ending in ``'s``, a third of wamerican), lowercases the rest, keeps
only words made of the letters a-z (so no accented loan words, no ``I'd``), and removes
duplicates (``Polish``/``polish``), sorted. On wamerican 2020.12.07 that leaves 73,445
of 104,334 entries, 1 to 22 letters long: a vocabulary of 26 letters plus the boundary.

The boundary token ``.`` (index 0) both starts and ends a word, as in makemore: the
model reads ``.emma`` and must predict ``emma.``, so the probability of a word is the
product of its characters' and of the final boundary's.

Running text (``char_text``): any UTF-8 file; the vocabulary is its sorted characters
and the splits are contiguous stretches (nanoGPT's way: a random split of characters
would leak the surrounding text into the test set).
"""
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .mnist import DatasetNotFoundError

WORD_LIST = Path("/usr/share/dict/american-english")
BOUNDARY = "."
_LETTERS = re.compile(r"[a-z]+")


def clean_words(entries):
    """makemore-ready words from dictionary entries (see the module docstring for the rule).

    Drops entries ending in ``'s``, lowercases, keeps only ``[a-z]+``, removes duplicates,
    sorts. ``entries`` is any iterable of strings (surrounding whitespace is ignored).
    """
    kept = set()
    for entry in entries:
        entry = entry.strip()
        if entry.endswith("'s"):
            continue
        word = entry.lower()
        if _LETTERS.fullmatch(word):
            kept.add(word)
    return sorted(kept)


def load_words(path=None, *, clean=True):
    """The words of a one-word-per-line file; Debian's ``wamerican`` list by default.

    Args:
        path: a text file with one word per line (makemore's ``names.txt`` works), or None
            for ``/usr/share/dict/american-english``.
        clean: apply ``clean_words``; with False, the stripped non-empty lines are kept
            as they are (any characters but the boundary ``.``).

    Raises:
        DatasetNotFoundError: the file is missing (for the default list: how to install it).
        ValueError: no words, or (clean=False) a word containing the boundary ``.``.
    """
    source = WORD_LIST if path is None else Path(path)
    if not source.is_file():
        hint = (" Install Debian's word list: sudo apt-get install wamerican"
                if path is None else "")
        raise DatasetNotFoundError(f"load_words: no word list at {source}.{hint}")
    lines = source.read_text(encoding="utf-8").splitlines()
    if clean:
        words = clean_words(lines)
    else:
        words = [line.strip() for line in lines if line.strip()]
        with_boundary = [word for word in words if BOUNDARY in word]
        if with_boundary:
            raise ValueError(f"load_words: words may not contain the boundary token "
                             f"{BOUNDARY!r}; {source} has {with_boundary[:3]}")
    if not words:
        raise ValueError(f"load_words: {source} has no words"
                         + (" after cleaning (lowercase a-z only)" if clean else ""))
    return words


class CharVocabulary:
    """Characters <-> integer ids. With a boundary token it is id 0 (makemore's ``.``),
    the other characters follow in sorted order.

    Args:
        chars: the characters (any iterable; duplicates are fine).
        boundary: the boundary token, or None for running text.
    """

    def __init__(self, chars, boundary=BOUNDARY):
        others = sorted(set(chars) - {boundary})
        self.boundary = boundary
        self.itos = ([boundary] if boundary is not None else []) + others
        self.stoi = {char: index for index, char in enumerate(self.itos)}

    @classmethod
    def from_words(cls, words):
        """The vocabulary of ``words`` plus the boundary token at id 0."""
        return cls("".join(words), boundary=BOUNDARY)

    def __len__(self):
        return len(self.itos)

    def __repr__(self):
        return f"CharVocabulary({''.join(self.itos)!r})"

    def encode(self, text):
        """The ids of ``text``'s characters, an int64 array. Raises ValueError naming
        the characters that are not in the vocabulary."""
        try:
            return np.fromiter((self.stoi[char] for char in text), dtype=np.int64,
                               count=len(text))
        except KeyError:
            unknown = sorted(set(text) - set(self.stoi))
            raise ValueError(f"CharVocabulary.encode: characters {unknown} are not in the "
                             f"vocabulary {''.join(self.itos)!r}") from None

    def decode(self, ids):
        """The string of the ids in ``ids`` (any int array or sequence)."""
        ids = np.asarray(ids).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self.itos)):
            raise ValueError(f"CharVocabulary.decode: ids must lie in [0, {len(self.itos) - 1}], "
                             f"got [{ids.min()}, {ids.max()}]")
        return "".join(self.itos[index] for index in ids.tolist())


def split_words(words, fractions=(0.8, 0.1, 0.1), seed=0):
    """Shuffle ``words`` with ``seed`` and cut them into train/val/test by ``fractions``.

    Split by word, so no word is seen in two splits. Returns three lists.
    """
    fractions = tuple(float(f) for f in fractions)
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1.0) > 1e-9:
        raise ValueError(f"split_words: fractions must be three non-negative numbers summing "
                         f"to 1 (train, val, test), got {fractions}")
    order = np.random.default_rng(seed).permutation(len(words))
    n_train = int(round(fractions[0] * len(words)))
    n_val = int(round(fractions[1] * len(words)))
    shuffled = [words[i] for i in order]
    return (shuffled[:n_train], shuffled[n_train:n_train + n_val],
            shuffled[n_train + n_val:])


def context_windows(words, vocab, context=3):
    """Every (previous ``context`` characters -> next character) pair of ``words``.

    Each word is read as ``.word.``: the first context is all boundary tokens, and the
    last target is the boundary. Returns ``X`` int64 (N, context) and ``Y`` int64 (N,)
    with N = sum(len(word) + 1): Bengio et al.'s (2003) training pairs.
    """
    if context < 1:
        raise ValueError(f"context_windows: context must be at least 1, got {context}")
    _require_boundary(vocab, "context_windows")
    ids = [vocab.encode(word) for word in words]
    # All words laid end to end, each behind `context` boundary ids (id 0); the boundary
    # after a word is the first of the next word's leading ones (or the final pad).
    padded = np.zeros(sum(len(word) + context for word in ids) + 1, dtype=np.int64)
    window_starts, start = [], 0
    for word in ids:
        padded[start + context:start + context + len(word)] = word
        window_starts.append(np.arange(start, start + len(word) + 1))
        start += len(word) + context
    rows = np.concatenate(window_starts) if ids else np.zeros(0, dtype=np.int64)
    X = padded[rows[:, None] + np.arange(context)]
    Y = padded[rows + context]
    return X, Y


def word_sequences(words, vocab, length=None, ignore_index=-1):
    """Whole words as padded sequences for a recurrent model (makemore's CharDataset).

    Row i of ``X`` is ``.`` followed by word i, row i of ``Y`` is word i followed by
    ``.``: Y[:, t] is the character after X[:, :t+1]. Rows are padded to ``length``
    (default: the longest word + 1) with the boundary in X and ``ignore_index`` in Y,
    so a cross-entropy with that ``ignore_index`` counts exactly the real characters.
    Returns int64 arrays of shape (len(words), length).
    """
    _require_boundary(vocab, "word_sequences")
    ids = [vocab.encode(word) for word in words]
    longest = max((len(word) for word in ids), default=0) + 1
    length = longest if length is None else length
    if length < longest:
        raise ValueError(f"word_sequences: length {length} is shorter than the longest word "
                         f"plus its boundary ({longest})")
    X = np.zeros((len(ids), length), dtype=np.int64)
    Y = np.full((len(ids), length), ignore_index, dtype=np.int64)
    for row, word in enumerate(ids):
        X[row, 1:len(word) + 1] = word
        Y[row, :len(word)] = word
        Y[row, len(word)] = 0
    return X, Y


def word_stream(words, vocab):
    """``words`` as one id stream ``.w1.w2.w3.`` (for fixed-length GPT blocks)."""
    _require_boundary(vocab, "word_stream")
    return vocab.encode(BOUNDARY + "".join(word + BOUNDARY for word in words))


def random_blocks(stream, block_size, batch_size, rng):
    """``batch_size`` random windows of a 1-D id stream: inputs and next-id targets.

    Returns ``x, y`` int64 of shape (batch_size, block_size) with y[:, t] = the id after
    x[:, t] (nanoGPT's ``get_batch``). ``rng`` is a ``np.random.Generator``.
    """
    stream = _check_stream(stream, block_size, "random_blocks")
    starts = rng.integers(0, len(stream) - block_size, size=batch_size)
    positions = starts[:, None] + np.arange(block_size)
    return stream[positions], stream[positions + 1]


def sequential_blocks(stream, block_size):
    """The stream cut into consecutive non-overlapping blocks (a deterministic evaluation
    pass); the tail that does not fill a block is dropped. Returns ``x, y`` as
    ``random_blocks`` does, with as many rows as whole blocks fit."""
    stream = _check_stream(stream, block_size, "sequential_blocks")
    count = (len(stream) - 1) // block_size
    x = stream[:count * block_size].reshape(count, block_size)
    y = stream[1:count * block_size + 1].reshape(count, block_size)
    return x, y


def _check_stream(stream, block_size, name):
    stream = np.asarray(stream)
    if stream.ndim != 1:
        raise ValueError(f"{name}: expected a 1-d id stream, got shape {stream.shape}")
    if block_size < 1 or len(stream) < block_size + 1:
        raise ValueError(f"{name}: a block of {block_size} needs a stream of at least "
                         f"{block_size + 1} ids, got {len(stream)}")
    return stream


def _require_boundary(vocab, name):
    if vocab.boundary != BOUNDARY or vocab.stoi.get(BOUNDARY) != 0:
        raise ValueError(f"{name}: the vocabulary needs the boundary {BOUNDARY!r} at id 0 "
                         f"(use CharVocabulary.from_words)")


@dataclass
class CharWords:
    """A word list split by word: ``vocab``, and ``train``/``val``/``test`` word lists."""
    vocab: CharVocabulary
    train: list
    val: list
    test: list

    def split(self, name):
        """The words of split ``name`` ("train", "val" or "test")."""
        if name not in ("train", "val", "test"):
            raise ValueError(f"CharWords: split must be 'train', 'val' or 'test', got {name!r}")
        return getattr(self, name)

    def windows(self, name, context=3):
        """``context_windows`` of a split."""
        return context_windows(self.split(name), self.vocab, context)

    def sequences(self, name, length=None, ignore_index=-1):
        """``word_sequences`` of a split, padded to ``length`` (default: the longest word
        of all splits + 1, so every split has the same width)."""
        if length is None:
            length = 1 + max(len(word) for word in self.train + self.val + self.test)
        return word_sequences(self.split(name), self.vocab, length, ignore_index)

    def stream(self, name):
        """``word_stream`` of a split."""
        return word_stream(self.split(name), self.vocab)

    @property
    def max_word_length(self):
        return max(len(word) for word in self.train + self.val + self.test)


def char_words(path=None, *, seed=0, fractions=(0.8, 0.1, 0.1), clean=True):
    """A character-level word data set: ``load_words`` then ``split_words``.

    The vocabulary comes from all the words (so every split encodes); the same ``seed``
    gives the same split on every call, and so the same test set for every model.
    """
    words = load_words(path, clean=clean)
    train, val, test = split_words(words, fractions, seed)
    return CharWords(CharVocabulary.from_words(words), train, val, test)


@dataclass
class CharText:
    """Running text as id streams: ``vocab`` and contiguous ``train``/``val``/``test``."""
    vocab: CharVocabulary
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def char_text(path, *, fractions=(0.9, 0.05, 0.05)):
    """Any UTF-8 text file as character ids, cut into contiguous train/val/test stretches.

    The vocabulary is the file's sorted distinct characters (no boundary token).
    Raises DatasetNotFoundError for a missing file, ValueError for an empty one.
    """
    source = Path(path)
    if not source.is_file():
        raise DatasetNotFoundError(f"char_text: no text file at {source}")
    text = source.read_text(encoding="utf-8")
    if not text:
        raise ValueError(f"char_text: {source} is empty")
    fractions = tuple(float(f) for f in fractions)
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1.0) > 1e-9:
        raise ValueError(f"char_text: fractions must be three non-negative numbers summing "
                         f"to 1 (train, val, test), got {fractions}")
    vocab = CharVocabulary(text, boundary=None)
    ids = vocab.encode(text)
    cut_val = int(round(fractions[0] * len(ids)))
    cut_test = cut_val + int(round(fractions[1] * len(ids)))
    return CharText(vocab, ids[:cut_val], ids[cut_val:cut_test], ids[cut_test:])
