"""nn.data: datasets, loaders, splits, k-fold, scalers, one-hot."""
import numpy as np
import pytest

from autograd import Tensor
from nn.data import (DataLoader, Dataset, KFold, MinMaxScaler, StandardScaler, StratifiedKFold,
                     Subset, TensorDataset, one_hot, train_test_split)


def _labels(counts):
    return np.concatenate([np.full(n, c) for c, n in enumerate(counts)])


# --- DataLoader ------------------------------------------------------------------------------
@pytest.mark.parametrize("n, batch_size, shuffle", [(10, 3, False), (10, 3, True), (7, 7, True),
                                                     (5, 8, True), (64, 16, False)])
def test_loader_covers_every_sample_exactly_once_per_epoch(n, batch_size, shuffle):
    X = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    y = np.arange(n)
    loader = DataLoader((X, y), batch_size=batch_size, shuffle=shuffle, seed=0)
    for _ in range(3):
        seen = []
        for xb, yb in loader:
            assert isinstance(xb, Tensor) and isinstance(yb, Tensor)
            assert len(xb) <= batch_size
            np.testing.assert_array_equal(xb.data, X[yb.data])  # rows stay paired
            seen.extend(yb.data.tolist())
        assert sorted(seen) == list(range(n))
    assert len(loader) == -(-n // batch_size)


def test_loader_drop_last_and_arrays():
    X = np.arange(10)
    loader = DataLoader(X, batch_size=4, drop_last=True, as_tensors=False)
    batches = list(loader)
    assert len(loader) == len(batches) == 2
    assert all(isinstance(b, np.ndarray) and b.shape == (4,) for b in batches)
    np.testing.assert_array_equal(np.concatenate(batches), np.arange(8))


def test_seeded_shuffles_reproduce_and_differ_between_epochs():
    data = (np.arange(50), np.arange(50))

    def orders(loader, epochs=3):
        return [np.concatenate([yb for _, yb in loader]) for _ in range(epochs)]

    first = orders(DataLoader(data, batch_size=8, shuffle=True, seed=7, as_tensors=False))
    again = orders(DataLoader(data, batch_size=8, shuffle=True, seed=7, as_tensors=False))
    other = orders(DataLoader(data, batch_size=8, shuffle=True, seed=8, as_tensors=False))
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])
    assert not np.array_equal(first[0], other[0])
    generator_orders = orders(DataLoader(data, batch_size=8, shuffle=True, as_tensors=False,
                                         generator=np.random.default_rng(7)))
    np.testing.assert_array_equal(generator_orders[0], first[0])


def test_loader_over_a_custom_dataset_collates_fields():
    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.array([i, i * i], dtype=np.float32), i % 2

    xb, yb = next(iter(DataLoader(Squares(), batch_size=5)))
    np.testing.assert_array_equal(xb.data[:, 1], [0, 1, 4, 9, 16])
    np.testing.assert_array_equal(yb.data, [0, 1, 0, 1, 0])
    subset = Subset(Squares(), [4, 2])
    assert len(subset) == 2 and subset[0][1] == 0 and subset[0][0][1] == 16


@pytest.mark.parametrize("batch_size, error", [(0, ValueError), (-3, ValueError), (2.5, TypeError),
                                               (True, TypeError)])
def test_loader_rejects_bad_batch_size(batch_size, error):
    with pytest.raises(error, match="batch_size"):
        DataLoader((np.zeros(4), np.zeros(4)), batch_size=batch_size)


def test_tensordataset_length_mismatch_names_x_and_y():
    with pytest.raises(ValueError, match="X has 5.*y has 4"):
        TensorDataset(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="seed or generator"):
        DataLoader(np.zeros(3), seed=1, generator=np.random.default_rng(1))


# --- train_test_split -----------------------------------------------------------------------
def test_train_test_split_partitions_and_is_seeded():
    X, y = np.arange(40).reshape(20, 2), np.arange(20)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=3)
    assert len(y_test) == 5 and len(y_train) == 15
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == list(range(20))
    np.testing.assert_array_equal(X_test[:, 0] // 2, y_test)
    again = train_test_split(X, y, test_size=0.25, seed=3)
    np.testing.assert_array_equal(again[3], y_test)
    _, X_last, _, y_last = train_test_split(X, y, test_size=4, shuffle=False)
    np.testing.assert_array_equal(y_last, [16, 17, 18, 19])
    tensors = train_test_split(Tensor(X.astype(np.float32)), test_size=0.5, seed=0)
    assert all(isinstance(t, Tensor) for t in tensors)


@pytest.mark.parametrize("counts, test_size", [((50, 30, 20), 0.2), ((7, 13, 3, 40), 0.3),
                                               ((5, 5), 0.5), ((101, 9, 2), 0.33), ((3, 3, 3), 3)])
def test_stratified_split_keeps_class_ratios_within_one_sample(counts, test_size):
    y = _labels(counts)
    X = np.arange(len(y))
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, stratify=y, seed=0)
    n_test = len(y_test)
    for c, count in enumerate(counts):
        in_test = np.sum(y_test == c)
        assert abs(in_test - count * n_test / len(y)) < 1
        assert in_test >= 1 and np.sum(y_train == c) >= 1
    np.testing.assert_array_equal(y[X_test], y_test)


def test_stratified_split_errors_name_the_argument():
    y = np.array([0, 0, 0, 1, 2, 2])
    with pytest.raises(ValueError, match="stratify: class 1 has only 1 sample"):
        train_test_split(np.zeros(6), y, stratify=y)
    with pytest.raises(ValueError, match="X has 6.*y has 5"):
        train_test_split(np.zeros(6), y[:5])
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(np.zeros(6), test_size=1.5)
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(np.zeros(6), test_size=6)
    with pytest.raises(ValueError, match="stratify has|stratify must hold"):
        train_test_split(np.zeros(6), stratify=y[:4])


# --- k-fold ----------------------------------------------------------------------------------
@pytest.mark.parametrize("n, k, shuffle", [(10, 3, False), (11, 5, True), (6, 6, True)])
def test_kfold_test_folds_partition_the_samples(n, k, shuffle):
    X = np.zeros((n, 1))
    folds = list(KFold(k, shuffle=shuffle, seed=0).split(X))
    assert len(folds) == k
    tests = np.concatenate([test for _, test in folds])
    assert sorted(tests.tolist()) == list(range(n))
    for train, test in folds:
        assert not set(train) & set(test) and len(train) + len(test) == n
    sizes = [len(test) for _, test in folds]
    assert max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize("counts, k", [((30, 20, 10), 3), ((9, 14, 5), 5), ((4, 4), 4)])
def test_stratified_kfold_keeps_class_ratios_within_one_sample(counts, k):
    y = _labels(counts)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))
    y = y[order]
    folds = list(StratifiedKFold(k, shuffle=True, seed=1).split(np.zeros(len(y)), y))
    assert sorted(np.concatenate([t for _, t in folds]).tolist()) == list(range(len(y)))
    for _, test in folds:
        for c, count in enumerate(counts):
            assert abs(np.sum(y[test] == c) - count * len(test) / len(y)) < 1
    sizes = [len(test) for _, test in folds]
    assert max(sizes) - min(sizes) <= 1
    again = list(StratifiedKFold(k, shuffle=True, seed=1).split(np.zeros(len(y)), y))
    for (_, a), (_, b) in zip(folds, again):
        np.testing.assert_array_equal(a, b)


def test_kfold_errors():
    with pytest.raises(ValueError, match="y: class 2 has 2 sample.*n_splits=3"):
        list(StratifiedKFold(3).split(np.zeros(8), [0, 0, 0, 1, 1, 1, 2, 2]))
    with pytest.raises(ValueError, match="n_splits"):
        KFold(1)
    with pytest.raises(ValueError, match="n_splits=5.*3 samples"):
        list(KFold(5).split(np.zeros(3)))
    with pytest.raises(ValueError, match="X has 4 samples but y has 3"):
        list(StratifiedKFold(2).split(np.zeros(4), [0, 1, 0]))


# --- scalers -------------------------------------------------------------------------------
def test_minmax_scaler_is_fitted_on_train_only():
    rng = np.random.default_rng(0)
    train = rng.uniform([0, -5], [1000, 5], size=(50, 2)).astype(np.float32)
    test = rng.uniform([-100, -10], [2000, 0], size=(20, 2)).astype(np.float32)
    scaler = MinMaxScaler().fit(train)
    scaled_train = scaler.transform(train)
    np.testing.assert_allclose(scaled_train.min(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(scaled_train.max(axis=0), 1, atol=1e-6)
    expected = (test - train.min(axis=0)) / (train.max(axis=0) - train.min(axis=0))
    np.testing.assert_allclose(scaler.transform(test), expected, rtol=1e-5, atol=1e-6)
    assert scaler.transform(test).max() > 1  # test data is not squeezed into [0, 1]
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(test)), test, rtol=1e-5)
    assert scaler.transform(test).dtype == np.float32


def test_standard_scaler_is_fitted_on_train_only():
    rng = np.random.default_rng(1)
    train = rng.normal([10, 500], [2, 100], size=(200, 2))
    test = rng.normal([20, 0], [1, 1], size=(10, 2))
    scaler = StandardScaler()
    z = scaler.fit_transform(train)
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), 1, atol=1e-12)
    np.testing.assert_allclose(scaler.transform(test), (test - train.mean(0)) / train.std(0))
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(test)), test)
    tensor_out = scaler.transform(Tensor(test))
    assert isinstance(tensor_out, Tensor)


def test_scaler_errors_and_constant_features():
    with pytest.raises(RuntimeError, match="fit"):
        MinMaxScaler().transform(np.zeros((2, 2)))
    scaler = StandardScaler().fit(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"shape \(2,\).*\(3,\)"):
        scaler.transform(np.ones((4, 2)))
    np.testing.assert_array_equal(scaler.transform(np.ones((2, 3))), 0)
    np.testing.assert_array_equal(MinMaxScaler((-1, 1)).fit_transform(np.full((3, 1), 7.0)), -1)
    pixels = MinMaxScaler().fit_transform(np.array([[0], [255]], dtype=np.uint8))
    assert pixels.dtype == np.float32 and pixels.max() == 1


# --- one_hot -------------------------------------------------------------------------------
def test_one_hot():
    encoded = one_hot([2, 0, 1], num_classes=4)
    np.testing.assert_array_equal(encoded, np.eye(4, dtype=np.float32)[[2, 0, 1]])
    assert encoded.dtype == np.float32
    assert one_hot(np.array([1, 1])).shape == (2, 2)
    assert isinstance(one_hot(Tensor(np.array([0, 1]))), Tensor)
    with pytest.raises(ValueError, match="num_classes=3"):
        one_hot([0, 3], num_classes=3)
    with pytest.raises(TypeError, match="integers"):
        one_hot([0.5, 1.0])
