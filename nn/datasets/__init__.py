"""Data sets that work offline: bundled, generated, or found on disk before any download.

- ``fashion_mnist``, ``mnist``: IDX files from ``root``, the user cache or Debian's
  ``dataset-fashion-mnist``; otherwise downloaded and SHA-256 checked.
- ``mnist1d``: generated locally with the ``mnist1d`` package.
- ``iris``: Fisher's 150 flowers, bundled.
- ``logic_gate``/``xor``, ``two_moons``, ``spirals``, ``random_points``: seeded generators.
- ``char_words`` (Debian's ``wamerican`` list or any word file, split by word) and
  ``char_text`` (any text file): character vocabularies, makemore windows and sequences,
  GPT blocks (``nn.datasets.text``).
- ``read_idx``/``write_idx`` and ``download`` (verified, atomic) for your own files.
"""
from .download import ChecksumError, DownloadError, cache_dir, download
from .idx import IDXFormatError, read_idx, write_idx
from .iris import IRIS_CLASSES, IRIS_FEATURES, iris
from .mnist import (FASHION_MNIST_CLASSES, DatasetNotFoundError, IDXDataset, IDXFile,
                    fashion_mnist, load_idx_dataset, mnist)
from .mnist1d import mnist1d
from .text import (CharText, CharVocabulary, CharWords, char_text, char_words, clean_words,
                   context_windows, load_words, random_blocks, sequential_blocks, split_words,
                   word_sequences, word_stream)
from .synthetic import logic_gate, random_points, spirals, two_moons, xor

__all__ = ["fashion_mnist", "mnist", "mnist1d", "iris", "logic_gate", "xor", "two_moons",
           "spirals", "random_points", "read_idx", "write_idx", "download", "cache_dir",
           "load_idx_dataset", "IDXDataset", "IDXFile", "IDXFormatError", "ChecksumError",
           "DownloadError", "DatasetNotFoundError", "FASHION_MNIST_CLASSES", "IRIS_CLASSES",
           "IRIS_FEATURES", "char_words", "char_text", "CharWords", "CharText", "CharVocabulary",
           "clean_words", "load_words", "split_words", "context_windows", "word_sequences",
           "word_stream", "random_blocks", "sequential_blocks"]

LOADERS = ("fashion_mnist", "mnist", "mnist1d", "iris", "logic_gate", "xor", "two_moons",
           "spirals", "random_points", "char_words", "char_text")


def __getattr__(name):
    """An unknown name: say which data sets there are (and the closest one)."""
    import difflib
    close = difflib.get_close_matches(name, __all__, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise AttributeError(f"nn.datasets has no data set {name!r}; {hint}the data sets are: "
                         f"{', '.join(LOADERS)} (and read_idx for your own IDX files)")
