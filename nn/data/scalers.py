"""Feature scaling fitted on training data: min-max normalisation and standardisation.

Fit a scaler on the training split only and reuse it for validation and test data, so
that no statistic of held-out data leaks into training::

    scaler = MinMaxScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
"""
import numpy as np

from autograd import Tensor, get_default_dtype


class _Scaler:
    """Shared fit/transform plumbing; subclasses compute ``scale_`` and ``offset_``.

    ``transform(X) = X * scale_ + offset_`` per feature (statistics over axis 0).
    """

    scale_ = None

    def fit(self, X):
        """Compute the per-feature statistics of ``X`` (the training data) and return self."""
        data = self._array(X, "fit")
        if len(data) == 0:
            raise ValueError(f"{type(self).__name__}.fit: X has no samples")
        self.n_features_shape_ = data.shape[1:]
        self._fit(data.astype(np.float64))
        return self

    def transform(self, X):
        """Scale ``X`` with the statistics from ``fit``; returns an array or Tensor, as given."""
        data = self._fitted_array(X, "transform")
        return self._wrap(data * self.scale_ + self.offset_, X, data.dtype)

    def inverse_transform(self, X):
        """Undo ``transform``: map scaled values back to the original units."""
        data = self._fitted_array(X, "inverse_transform")
        return self._wrap((data - self.offset_) / self.scale_, X, data.dtype)

    def fit_transform(self, X):
        """``fit(X)`` then ``transform(X)``; use only on training data."""
        return self.fit(X).transform(X)

    def _fitted_array(self, X, method):
        name = type(self).__name__
        if self.scale_ is None:
            raise RuntimeError(f"{name}.{method}: the scaler is not fitted; call "
                               f"fit(X_train) on the training data first")
        data = self._array(X, method)
        if data.shape[1:] != self.n_features_shape_:
            raise ValueError(f"{name}.{method}: X has samples of shape {data.shape[1:]}, but "
                             f"the scaler was fitted on samples of shape {self.n_features_shape_}")
        return data

    def _array(self, X, method):
        data = X.data if isinstance(X, Tensor) else np.asarray(X)
        if data.ndim == 0 or data.dtype.kind not in "biuf":
            raise ValueError(f"{type(self).__name__}.{method}: X must be a numeric array with a "
                             f"sample dimension, got dtype {data.dtype} and shape {data.shape}")
        return data

    @staticmethod
    def _wrap(result, like, dtype):
        # Floating input keeps its precision; integer input (pixels) becomes the default float.
        dtype = dtype if dtype.kind == "f" else get_default_dtype()
        result = result.astype(dtype, copy=False)
        return Tensor(result) if isinstance(like, Tensor) else result


class MinMaxScaler(_Scaler):
    """Rescale each feature linearly so the training data spans ``feature_range``.

    Args:
        feature_range: ``(low, high)`` of the transformed training data, default ``(0, 1)``.

    Attributes after ``fit``: ``data_min_``, ``data_max_``, ``scale_``, ``offset_``.
    A constant feature maps to ``low`` (its range is taken as 1 rather than divided by 0).
    """

    def __init__(self, feature_range=(0, 1)):
        low, high = feature_range
        if not low < high:
            raise ValueError(f"MinMaxScaler: feature_range must be (low, high) with low < high, "
                             f"got {feature_range}")
        self.feature_range = (float(low), float(high))

    def _fit(self, data):
        low, high = self.feature_range
        self.data_min_ = data.min(axis=0)
        self.data_max_ = data.max(axis=0)
        data_range = self.data_max_ - self.data_min_
        data_range = np.where(data_range == 0, 1.0, data_range)
        self.scale_ = (high - low) / data_range
        self.offset_ = low - self.data_min_ * self.scale_


class StandardScaler(_Scaler):
    """Standardise each feature to zero mean and unit variance on the training data.

    Args:
        with_mean: subtract the mean.
        with_std: divide by the (population, ddof=0) standard deviation.

    Attributes after ``fit``: ``mean_``, ``var_``, ``scale_``, ``offset_``. A constant
    feature is only centred (its standard deviation is taken as 1).
    """

    def __init__(self, with_mean=True, with_std=True):
        self.with_mean = bool(with_mean)
        self.with_std = bool(with_std)

    def _fit(self, data):
        self.mean_ = data.mean(axis=0)
        self.var_ = data.var(axis=0)
        std = np.sqrt(self.var_)
        std = np.where(std == 0, 1.0, std) if self.with_std else np.ones_like(std)
        self.scale_ = 1.0 / std
        self.offset_ = -self.mean_ * self.scale_ if self.with_mean else np.zeros_like(self.mean_)
