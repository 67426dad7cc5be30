"""Datasets: indexable collections of samples, as in ``torch.utils.data``."""
import numpy as np

from autograd import Tensor


class Dataset:
    """A collection of samples: subclasses define ``__len__`` and ``__getitem__(index)``.

    ``__getitem__`` returns one sample, usually a tuple such as ``(x, y)``. DataLoader
    stacks the samples of a batch field by field.
    """

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


class TensorDataset(Dataset):
    """Samples made of the rows of equally long arrays: ``TensorDataset(X, y)[i] == (X[i], y[i])``.

    Args:
        *arrays: ndarrays, Tensors or array-likes, all with the same first dimension.
        names: optional names for the arrays, used in error messages (default ``X``, ``y``
            for two arrays, else ``arrays[0]``, ``arrays[1]``, ...).

    Raises:
        ValueError: no arrays, a 0-d array, or arrays of different lengths.

    An integer or an index array selects rows of every array at once, so a DataLoader
    gathers a whole batch with one fancy-indexing call per array.
    """

    def __init__(self, *arrays, names=None):
        if not arrays:
            raise ValueError("TensorDataset: expected at least one array, got none")
        if names is None:
            names = (("X", "y") if len(arrays) == 2
                     else tuple(f"arrays[{i}]" for i in range(len(arrays))))
        self.arrays = tuple(_as_ndarray(a) for a in arrays)
        for name, array in zip(names, self.arrays):
            if array.ndim == 0:
                raise ValueError(f"TensorDataset: {name} must have a first (sample) dimension, "
                                 f"got a 0-d array")
        lengths = [len(a) for a in self.arrays]
        if len(set(lengths)) > 1:
            described = ", ".join(f"{name} has {n}" for name, n in zip(names, lengths))
            raise ValueError(f"TensorDataset: all arrays must have the same number of samples; "
                             f"{described}")

    def __len__(self):
        return len(self.arrays[0])

    def __getitem__(self, index):
        return tuple(a[index] for a in self.arrays)


def _as_ndarray(data):
    """The ndarray behind ``data`` (a Tensor's array is shared, not copied)."""
    return data.data if isinstance(data, Tensor) else np.asarray(data)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[self.indices[index]]
