"""One-hot encoding of integer class labels."""
import numpy as np

from autograd import Tensor, get_default_dtype


def one_hot(labels, num_classes=None, dtype=None):
    """Rows of zeros with a one in each label's column: shape ``labels.shape + (num_classes,)``.

    Args:
        labels: integer class labels in ``[0, num_classes)`` (array, list or Tensor).
        num_classes: number of columns; default ``max(labels) + 1``.
        dtype: dtype of the result, default the default float dtype (float32).

    Returns:
        An ndarray, or a Tensor when ``labels`` is a Tensor.

    Raises:
        TypeError: labels that are not integers.
        ValueError: a label below 0 or not below ``num_classes``.
    """
    values = labels.data if isinstance(labels, Tensor) else np.asarray(labels)
    if values.dtype.kind == "f" and np.all(values == np.round(values)):
        values = values.astype(np.int64)  # integral floats, e.g. labels read from a CSV
    if values.dtype.kind not in "iub":
        raise TypeError(f"one_hot: labels must be integers, got dtype {values.dtype}")
    if num_classes is None:
        num_classes = int(values.max()) + 1 if values.size else 0
    if values.size and (values.min() < 0 or values.max() >= num_classes):
        raise ValueError(f"one_hot: labels must be in [0, num_classes={num_classes}), got "
                         f"values from {values.min()} to {values.max()}")
    encoded = np.eye(num_classes, dtype=dtype or get_default_dtype())[values]
    return Tensor(encoded) if isinstance(labels, Tensor) else encoded
