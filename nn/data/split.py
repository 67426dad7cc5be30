"""Train/test splits and k-fold cross-validation, optionally stratified by class."""
import math

import numpy as np

from autograd import Tensor

from ..init import default_generator


def shuffle_generator(seed):
    """A generator seeded with ``seed``, or autograd's default one (``nn.manual_seed``)
    when ``seed`` is None, so that one seed makes every shuffle reproducible."""
    return np.random.default_rng(seed) if seed is not None else default_generator()


def train_test_split(*arrays, test_size=0.25, stratify=None, shuffle=True, seed=None):
    """Split equally long arrays into random train and test parts, as scikit-learn does.

    Args:
        *arrays: ndarrays, Tensors or lists with the same first dimension.
        test_size: fraction of the samples in (0, 1), or a number of samples.
        stratify: class labels (usually ``y``); each class then keeps its share of the
            samples in both parts, within one sample, and appears in both.
        shuffle: shuffle before splitting; without it the last samples are the test part.
        seed: seed of the shuffle, for a reproducible split (default: autograd's
            generator, so ``nn.manual_seed`` makes the split reproducible too).

    Returns:
        ``[a_train, a_test, b_train, b_test, ...]``: two parts per input, each of the
        input's type (Tensors give Tensors).

    Raises:
        ValueError: no arrays, arrays of different lengths, a ``test_size`` that leaves
            an empty part, ``stratify`` without ``shuffle``, or a class in ``stratify``
            too small to appear in both parts.
    """
    if not arrays:
        raise ValueError("train_test_split: expected at least one array, got none")
    n = _common_length(arrays, "train_test_split")
    n_test = _test_count(test_size, n)
    rng = shuffle_generator(seed)
    if stratify is not None:
        if not shuffle:
            raise ValueError("train_test_split: stratify needs shuffle=True")
        labels = _labels(stratify, n, "train_test_split", "stratify")
        train, test = _stratified_split(labels, n_test, rng)
    else:
        order = rng.permutation(n) if shuffle else np.arange(n)
        train, test = order[:n - n_test], order[n - n_test:]
    parts = []
    for array in arrays:
        parts += [_take(array, train), _take(array, test)]
    return parts


class KFold:
    """K-fold cross-validation: ``split(X)`` yields ``(train_indices, test_indices)`` k times.

    Every sample is in exactly one test fold; fold sizes differ by at most one.

    Args:
        n_splits: number of folds k (an int >= 2).
        shuffle: shuffle the samples before cutting them into folds.
        seed: seed of that shuffle (default: autograd's generator, ``nn.manual_seed``).
    """

    def __init__(self, n_splits=5, shuffle=False, seed=None):
        self.n_splits = _check_n_splits(n_splits, type(self).__name__)
        self.shuffle = bool(shuffle)
        self.seed = seed

    def get_n_splits(self, X=None, y=None):
        return self.n_splits

    def split(self, X, y=None):
        """Yield ``(train_indices, test_indices)`` for each fold; ``y`` is only length-checked."""
        n = self._length(X, y)
        order = shuffle_generator(self.seed).permutation(n) if self.shuffle else np.arange(n)
        yield from _folds(order, _contiguous_folds(n, self.n_splits), self.n_splits)

    def _length(self, X, y):
        name = type(self).__name__
        n = len(X)
        if y is not None and len(y) != n:
            raise ValueError(f"{name}.split: X has {n} samples but y has {len(y)}")
        if n < self.n_splits:
            raise ValueError(f"{name}.split: n_splits={self.n_splits} is more than the "
                             f"{n} samples in X")
        return n


class StratifiedKFold(KFold):
    """K-fold cross-validation in which every fold keeps the class proportions of ``y``.

    Each class's count in each fold is within one sample of its share, and fold sizes
    differ by at most one.

    Raises (from ``split``):
        ValueError: a class of ``y`` has fewer than ``n_splits`` samples, so it would be
            missing from some folds.
    """

    def split(self, X, y=None):
        """Yield ``(train_indices, test_indices)`` for each fold, stratified by ``y``."""
        if y is None:
            raise ValueError("StratifiedKFold.split: y (the class labels) is required")
        n = self._length(X, y)
        labels = _labels(y, n, "StratifiedKFold.split", "y")
        classes, counts = np.unique(labels, return_counts=True)
        small = counts < self.n_splits
        if small.any():
            cls, count = classes[small][0].item(), counts[small][0]
            raise ValueError(f"StratifiedKFold.split: y: class {cls!r} has {count} sample(s), "
                             f"fewer than n_splits={self.n_splits}, so it would be missing "
                             f"from some folds")
        rng = shuffle_generator(self.seed)
        # Laying the classes end to end and dealing positions round-robin gives each
        # class (a contiguous run) floor or ceil of its share in every fold.
        order = np.concatenate([_maybe_shuffled(np.flatnonzero(labels == c), self.shuffle, rng)
                                for c in classes])
        yield from _folds(order, np.arange(n) % self.n_splits, self.n_splits)


def _folds(order, fold_of_position, n_splits):
    for k in range(n_splits):
        test = np.sort(order[fold_of_position == k])
        mask = np.ones(len(order), dtype=bool)
        mask[test] = False
        yield np.flatnonzero(mask), test


def _contiguous_folds(n, n_splits):
    # scikit-learn's sizes: the first n % k folds get one extra sample.
    sizes = np.full(n_splits, n // n_splits)
    sizes[:n % n_splits] += 1
    return np.repeat(np.arange(n_splits), sizes)


def _maybe_shuffled(indices, shuffle, rng):
    return rng.permutation(indices) if shuffle else indices


def _stratified_split(labels, n_test, rng):
    classes, counts = np.unique(labels, return_counts=True)
    n = len(labels)
    if (counts < 2).any():
        cls = classes[counts < 2][0].item()
        raise ValueError(f"train_test_split: stratify: class {cls!r} has only 1 sample; every "
                         f"class needs at least 2 to appear in both the train and the test part")
    if n_test < len(classes) or n - n_test < len(classes):
        raise ValueError(f"train_test_split: test_size gives {n_test} test and {n - n_test} train "
                         f"samples, but each part needs at least one of each of the "
                         f"{len(classes)} classes in stratify")
    test_counts = allocate(counts, n_test, low=1, high=counts - 1)
    train, test = [], []
    for cls, k in zip(classes, test_counts):
        members = rng.permutation(np.flatnonzero(labels == cls))
        test.append(members[:k])
        train.append(members[k:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def allocate(counts, total, low, high):
    """Split ``total`` over groups in proportion to ``counts`` (largest remainders first).

    Each share is the floor or ceiling of its exact proportion ``counts * total / n``,
    kept within ``[low, high]``.
    """
    exact = counts * total / counts.sum()
    shares = np.clip(np.floor(exact).astype(int), low, high)
    while shares.sum() != total:
        step = 1 if shares.sum() < total else -1
        room = shares < high if step > 0 else shares > low
        # Give to the groups furthest below their exact share, take from those furthest above.
        deficit = np.where(room, (exact - shares) * step, -np.inf)
        shares[int(np.argmax(deficit))] += step
    return shares


def _common_length(arrays, owner):
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) > 1:
        names = ("X", "y") if len(arrays) == 2 else [f"arrays[{i}]" for i in range(len(arrays))]
        described = ", ".join(f"{name} has {n}" for name, n in zip(names, lengths))
        raise ValueError(f"{owner}: all arrays must have the same number of samples; {described}")
    return lengths[0]


def _test_count(test_size, n):
    if isinstance(test_size, bool) or not isinstance(test_size, (int, float, np.number)):
        raise TypeError(f"train_test_split: test_size must be a fraction in (0, 1) or a number "
                        f"of samples, got {test_size!r}")
    if isinstance(test_size, (float, np.floating)):
        if not 0 < test_size < 1:
            raise ValueError(f"train_test_split: test_size must be in (0, 1) as a fraction, "
                             f"got {test_size}")
        n_test = math.ceil(test_size * n)
    else:
        n_test = int(test_size)
    if not 0 < n_test < n:
        raise ValueError(f"train_test_split: test_size={test_size} gives {n_test} test samples "
                         f"out of {n}; both parts must be non-empty")
    return n_test


def _labels(labels, n, owner, name):
    labels = labels.data if isinstance(labels, Tensor) else np.asarray(labels)
    if labels.ndim == 2:
        # One-hot rows name their class by the hot column; an (n, 1) column is plain labels.
        labels = labels.argmax(axis=1) if labels.shape[1] > 1 else labels[:, 0]
    if labels.ndim != 1 or len(labels) != n:
        raise ValueError(f"{owner}: {name} must hold one label per sample ({n}), "
                         f"got shape {labels.shape}")
    return labels


def _check_n_splits(n_splits, owner):
    if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < 2:
        raise ValueError(f"{owner}: n_splits must be an integer >= 2, got {n_splits!r}")
    return int(n_splits)


def _take(array, indices):
    if isinstance(array, Tensor):
        return Tensor(array.data[indices])
    return np.asarray(array)[indices]
