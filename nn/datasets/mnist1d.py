"""MNIST-1D (Greydanus & Steinbach): 1-D signals of ten digit templates, made locally."""
import random

import numpy as np


def mnist1d(num_samples=5000, train_split=0.8, seed=42, **overrides):
    """Generate MNIST-1D with PyPI's ``mnist1d`` package; nothing is downloaded.

    Args:
        num_samples: total samples (split into train and test), a multiple of 10.
        train_split: fraction of the samples in the training part.
        seed: generator seed; the defaults reproduce the published data set.
        **overrides: other ``mnist1d.data.get_dataset_args()`` fields, e.g.
            ``shuffle_seq=True`` or ``iid_noise_scale=0.05``.

    Returns:
        ``(x_train, y_train), (x_test, y_test)`` with float32 signals of length 40 and
        int64 labels 0..9.

    Raises:
        ImportError: ``mnist1d`` is not installed (``pip install mnist1d``, or the
            ``datasets`` extra).
        ValueError: an override that is not a dataset argument.
    """
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as err:
        raise ImportError("mnist1d() needs the mnist1d package: pip install mnist1d "
                          "(or numpy-autograd[datasets])") from err
    args = get_dataset_args(as_dict=True)
    unknown = sorted(set(overrides) - set(args))
    if unknown:
        raise ValueError(f"mnist1d: unknown dataset argument(s) {unknown}; known: {sorted(args)}")
    args.update(overrides, num_samples=int(num_samples), train_split=float(train_split), seed=seed)
    # make_dataset seeds NumPy's and Python's global generators; leave the caller's as they were.
    numpy_state, python_state = np.random.get_state(), random.getstate()
    try:
        data = make_dataset(_ArgsView(args))
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)
    return ((data["x"].astype(np.float32), data["y"].astype(np.int64)),
            (data["x_test"].astype(np.float32), data["y_test"].astype(np.int64)))


class _ArgsView:
    """Attribute access to the argument dict, which is what make_dataset reads."""

    def __init__(self, arguments):
        self.__dict__.update(arguments)
