"""DataLoader: mini-batches of a dataset, optionally shuffled with a seed."""
import math

import numpy as np

import autograd.factories
from autograd import Tensor

from .dataset import TensorDataset


class DataLoader:
    """Iterate over a dataset in mini-batches; each epoch visits every sample exactly once.

    Args:
        dataset: a Dataset, a tuple/list of equally long arrays (wrapped in a
            TensorDataset, batches are tuples), or one array (batches are arrays).
        batch_size: samples per batch (an int >= 1); the last batch may be smaller.
        shuffle: visit the samples in a new random order every epoch.
        drop_last: skip the last batch when it is smaller than ``batch_size``.
        seed: seed for the shuffling generator, so that the sequence of epoch orders
            reproduces; without ``seed`` or ``generator`` shuffling draws from autograd's
            default generator (``autograd.manual_seed``).
        generator: a ``numpy.random.Generator`` to shuffle with (instead of ``seed``).
        as_tensors: yield Tensors (no gradient tracking) rather than ndarrays.

    Raises:
        ValueError: ``batch_size`` below 1, or both ``seed`` and ``generator``.
        TypeError: ``batch_size`` not an integer, or a dataset that is not indexable.

    Example::

        loader = DataLoader((X, y), batch_size=64, shuffle=True, seed=0)
        for xb, yb in loader:
            ...
    """

    def __init__(self, dataset, batch_size=32, shuffle=False, drop_last=False, seed=None,
                 generator=None, as_tensors=True):
        self.single_array = isinstance(dataset, (np.ndarray, Tensor))
        if self.single_array:
            dataset = TensorDataset(dataset, names=("dataset",))
        elif isinstance(dataset, (tuple, list)):
            dataset = TensorDataset(*dataset)
        elif not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(f"DataLoader: dataset must be a Dataset, a tuple of arrays or an "
                            f"array, got {type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = check_batch_size(batch_size, "DataLoader")
        if seed is not None and generator is not None:
            raise ValueError("DataLoader: pass either seed or generator, not both")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(f"DataLoader: generator must be a numpy.random.Generator, "
                            f"got {type(generator).__name__}")
        self.generator = np.random.default_rng(seed) if seed is not None else generator
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.as_tensors = bool(as_tensors)

    def __len__(self):
        """Number of batches per epoch."""
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            # Read at each epoch: autograd.manual_seed replaces the default generator.
            rng = self.generator or autograd.factories.default_generator
            order = rng.permutation(n)
        else:
            order = np.arange(n)
        stop = (n // self.batch_size) * self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            yield self._batch(order[start:start + self.batch_size])

    def _batch(self, indices):
        if isinstance(self.dataset, TensorDataset):
            fields = self.dataset[indices]
        else:
            fields = collate([self.dataset[int(i)] for i in indices])
        if self.as_tensors:
            fields = _map(Tensor, fields)
        return fields[0] if self.single_array else fields


def collate(samples):
    """Stack a list of samples into a batch, field by field for tuple samples."""
    first = samples[0]
    if isinstance(first, (tuple, list)):
        return tuple(np.stack([np.asarray(_value(sample[k])) for sample in samples])
                     for k in range(len(first)))
    return np.stack([np.asarray(_value(s)) for s in samples])


def check_batch_size(batch_size, owner):
    """``batch_size`` as an int, or a ValueError/TypeError naming ``owner`` and the value."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError(f"{owner}: batch_size must be an integer >= 1, got {batch_size!r}")
    if batch_size < 1:
        raise ValueError(f"{owner}: batch_size must be an integer >= 1, got {batch_size}")
    return int(batch_size)


def _value(x):
    return x.data if isinstance(x, Tensor) else x


def _map(function, fields):
    return tuple(function(f) for f in fields) if isinstance(fields, tuple) else function(fields)
