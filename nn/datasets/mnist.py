"""MNIST and Fashion-MNIST from IDX files: found locally, or downloaded and verified.

Given ``root``, files are read from that folder only (and downloaded into it), as
torchvision does. Without it each file is looked for, in order, in the user cache
(``~/.cache/numpy-autograd/<name>``, see ``cache_dir``) and in system folders (Debian's
``dataset-fashion-mnist`` package installs to ``/usr/share/datasets/fashion-mnist``). A
missing file is downloaded from the official mirrors into ``root`` or the cache, and
kept only if its SHA-256 matches. Files in the cache are checked against the same
SHA-256; files in ``root`` and system folders are trusted as installed (Debian
recompresses them, so their bytes differ from the mirror's) and, like every file,
validated by the IDX reader: magic number, dtype, dimensions and the expected shape.
"""
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .download import (ChecksumError, DownloadError, cache_dir, download as download_file,
                       sha256_of)
from .idx import read_idx

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                         "Shirt", "Sneaker", "Bag", "Ankle boot")


class DatasetNotFoundError(FileNotFoundError):
    """A dataset that is neither on disk nor downloadable right now."""


@dataclass(frozen=True)
class IDXFile:
    """One file of an IDX dataset: its name on the mirrors, SHA-256 there, and array shape."""
    filename: str
    sha256: str
    shape: tuple


@dataclass(frozen=True)
class IDXDataset:
    """Where an IDX dataset's four files live: cache subfolder, mirrors, system folders."""
    name: str
    files: dict          # "train_images", "train_labels", "test_images", "test_labels" -> IDXFile
    mirrors: tuple       # base URLs, tried in order
    system_dirs: tuple = field(default_factory=tuple)


def _files(train, test, sha):
    return {"train_images": IDXFile("train-images-idx3-ubyte.gz", sha[0], (train, 28, 28)),
            "train_labels": IDXFile("train-labels-idx1-ubyte.gz", sha[1], (train,)),
            "test_images": IDXFile("t10k-images-idx3-ubyte.gz", sha[2], (test, 28, 28)),
            "test_labels": IDXFile("t10k-labels-idx1-ubyte.gz", sha[3], (test,))}


FASHION_MNIST = IDXDataset(
    name="fashion-mnist",
    files=_files(60000, 10000, (
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5")),
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
             "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/"
             "data/fashion/"),
    system_dirs=("/usr/share/datasets/fashion-mnist",),
)

MNIST = IDXDataset(
    name="mnist",
    files=_files(60000, 10000, (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6")),
    mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/",
             "https://storage.googleapis.com/cvdf-datasets/mnist/",
             "http://yann.lecun.com/exdb/mnist/"),
)


def fashion_mnist(root=None, *, download=True, normalize=False, flatten=False):
    """Fashion-MNIST (Zalando, MIT licence): 60,000 training and 10,000 test 28x28 images.

    Args:
        root: the folder to read the files from and download them into; when given,
            only it is searched (default: the user cache, then system folders).
        download: fetch missing files from the official mirrors (SHA-256 checked).
        normalize: return float32 pixels in [0, 1] instead of uint8 in [0, 255].
        flatten: return images as rows of 784 pixels instead of 28x28.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``, Keras-style; labels are int64 in 0..9
        naming ``FASHION_MNIST_CLASSES``.

    Raises:
        DatasetNotFoundError: the files are absent and could not be downloaded (offline,
            ``download=False``, or a checksum mismatch on every mirror).
        IDXFormatError: a file is corrupt or truncated (the message names it).
    """
    return load_idx_dataset(FASHION_MNIST, root, download=download, normalize=normalize,
                            flatten=flatten)


def mnist(root=None, *, download=True, normalize=False, flatten=False):
    """MNIST handwritten digits: 60,000 training and 10,000 test 28x28 images.

    Same arguments, return value and errors as ``fashion_mnist``; files come from
    ``root``, the user cache, or a download from the mirrors torchvision uses, checked
    against the SHA-256 sums of the original distribution.
    """
    return load_idx_dataset(MNIST, root, download=download, normalize=normalize, flatten=flatten)


def load_idx_dataset(spec, root=None, *, download=True, normalize=False, flatten=False,
                     timeout=30.0):
    """Locate (or download) and read the four files of ``spec``; see ``fashion_mnist``."""
    paths = {key: locate(spec, entry, root, download, timeout) for key, entry in spec.files.items()}
    arrays = {key: read_idx(paths[key], expected_shape=spec.files[key].shape) for key in paths}
    splits = []
    for part in ("train", "test"):
        images, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"].astype(np.int64)
        if flatten:
            images = images.reshape(len(images), -1)
        if normalize:
            images = images.astype(np.float32) / np.float32(255)
        splits.append((images, labels))
    return tuple(splits)


def locate(spec, entry, root=None, download=True, timeout=30.0):
    """The path of one dataset file: found on disk, else downloaded; see the module doc."""
    cache = cache_dir() / spec.name
    for folder, verify in _search_order(spec, root, cache):
        for name in (entry.filename, entry.filename.removesuffix(".gz")):
            path = Path(folder) / name
            if path.is_file() and not (verify and name == entry.filename
                                       and sha256_of(path) != entry.sha256):
                return path
    searched = ", ".join(str(folder) for folder, _ in _search_order(spec, root, cache))
    if not download:
        hint = ""
        if root is not None:
            where = ", ".join(str(folder) for folder, _ in _search_order(spec, None, cache))
            missing = "" if Path(root).is_dir() else " (no such folder)"
            hint = f"; root={os.fspath(root)!r}{missing} is the only folder searched when " \
                   f"given: pass root=None to use {where}"
        raise DatasetNotFoundError(f"{spec.name}: {entry.filename} is not in {searched}, and "
                                   f"download=False{hint}")
    target = Path(root) if root is not None else cache
    failures = []
    for mirror in spec.mirrors:
        url = mirror + entry.filename
        try:
            return download_file(url, target / entry.filename, entry.sha256, timeout=timeout)
        except DownloadError as err:
            failures.append(f"{url}: {err.reason}")
        except ChecksumError as err:
            failures.append(f"{url}: {err}")
    hint = (" (on Debian/Ubuntu: apt install dataset-fashion-mnist)"
            if spec.system_dirs else "")
    raise DatasetNotFoundError(f"{spec.name}: {entry.filename} is not in {searched}, and no mirror "
                               f"gave a verified copy:\n  " + "\n  ".join(failures)
                               + f"\nPut the files in a folder and pass root=, or go online{hint}")


def _search_order(spec, root, cache):
    if root is not None:
        return [(os.fspath(root), False)]  # the user said where: look nowhere else
    return [(cache, True)] + [(folder, False) for folder in spec.system_dirs]
