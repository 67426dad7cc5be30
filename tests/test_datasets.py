"""nn.datasets: IDX reader, verified downloads (against a local server), bundled and generated data."""
import functools
import gzip
import hashlib
import http.server
import os
import threading
import time

import numpy as np
import pytest

from nn.datasets import (IRIS_CLASSES, ChecksumError, DatasetNotFoundError, DownloadError,
                         IDXDataset, IDXFile, IDXFormatError, download, iris, load_idx_dataset, logic_gate, read_idx,
                         random_points, spirals, two_moons, write_idx, xor)
from nn.datasets.mnist import FASHION_MNIST

DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist"


# --- IDX -------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, dtype, suffix):
    array = (np.arange(2 * 3 * 4) - 5).reshape(2, 3, 4).astype(dtype)
    path = tmp_path / f"data-idx3{suffix}"
    write_idx(path, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    loaded = read_idx(path, expected_shape=(2, None, 4))
    np.testing.assert_array_equal(loaded, array)
    assert loaded.dtype == np.dtype(dtype) and loaded.dtype.isnative


def test_idx_header_is_the_documented_layout(tmp_path):
    path = tmp_path / "labels-idx1"
    write_idx(path, np.array([7, 2, 1], dtype=np.uint8))
    assert path.read_bytes() == bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1])


def test_idx_wrong_magic_names_the_file(tmp_path):
    path = tmp_path / "bad-magic-idx1"
    path.write_bytes(bytes([1, 2, 8, 1, 0, 0, 0, 1, 5]))
    with pytest.raises(IDXFormatError, match=f"{path}.*magic"):
        read_idx(path)
    path.write_bytes(bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 5]))  # unknown dtype code
    with pytest.raises(IDXFormatError, match="magic number 0x00004201"):
        read_idx(path)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_truncated_file_names_the_file(tmp_path, suffix):
    good = tmp_path / f"good-idx3{suffix}"
    write_idx(good, np.ones((10, 4, 4), dtype=np.uint8))
    cut = tmp_path / f"cut-idx3{suffix}"
    cut.write_bytes(good.read_bytes()[:-20])
    with pytest.raises(IDXFormatError, match=f"{cut}.*truncated"):
        read_idx(cut)
    header_only = tmp_path / "header-idx3"
    header_only.write_bytes(bytes([0, 0, 8, 3, 0, 0]))
    with pytest.raises(IDXFormatError, match="truncated IDX header"):
        read_idx(header_only)


def test_idx_dimension_mismatch(tmp_path):
    path = tmp_path / "mismatch-idx2"
    # The header promises 3 x 4 bytes, the payload has 3 x 5.
    path.write_bytes(bytes([0, 0, 8, 2, 0, 0, 0, 3, 0, 0, 0, 4]) + bytes(15))
    with pytest.raises(IDXFormatError, match=r"longer than its dimensions say: dimensions \(3, 4\)"):
        read_idx(path)
    write_idx(path, np.zeros((3, 4), dtype=np.uint8))
    with pytest.raises(IDXFormatError, match=r"shape \(3, 4\), expected \(3, 5\)"):
        read_idx(path, expected_shape=(3, 5))


def test_idx_corrupt_gzip(tmp_path):
    path = tmp_path / "corrupt.gz"
    path.write_bytes(b"\x1f\x8b" + bytes(range(60)))
    with pytest.raises(IDXFormatError, match=str(path)):
        read_idx(path)


# --- downloads against a local server ----------------------------------------------------------
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """An HTTP server on 127.0.0.1 serving ``tmp_path / "mirror"``; yields (base_url, folder)."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.timeout = 5
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", folder
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def test_download_with_good_checksum_caches_the_file(server, tmp_path):
    base, folder = server
    payload = gzip.compress(b"some idx bytes" * 100)
    (folder / "file.gz").write_bytes(payload)
    target = tmp_path / "cache" / "file.gz"
    assert download(base + "file.gz", target, _sha256(payload), timeout=5) == target
    assert target.read_bytes() == payload
    assert sorted(os.listdir(target.parent)) == ["file.gz"]


def test_download_with_bad_checksum_raises_and_leaves_no_file(server, tmp_path):
    base, folder = server
    (folder / "file.gz").write_bytes(gzip.compress(b"tampered"))
    target = tmp_path / "cache" / "file.gz"
    with pytest.raises(ChecksumError, match="SHA-256 mismatch.*file.gz"):
        download(base + "file.gz", target, _sha256(b"the real thing"), timeout=5)
    assert os.listdir(target.parent) == []  # neither the file nor a partial one


def test_failed_download_leaves_no_file(server, tmp_path):
    base, _ = server
    target = tmp_path / "cache" / "missing.gz"
    with pytest.raises(DownloadError, match="404"):
        download(base + "missing.gz", target, "0" * 64, timeout=5)
    assert os.listdir(target.parent) == []


def _tiny_dataset(folder, base, corrupt=None):
    """Write a 6-train/4-test IDX dataset into ``folder``; return its spec with real SHA-256s."""
    rng = np.random.default_rng(0)
    arrays = {"train_images": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
              "train_labels": np.arange(6, dtype=np.uint8),
              "test_images": rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
              "test_labels": np.arange(4, dtype=np.uint8)}
    files = {}
    for key, array in arrays.items():
        name = f"{key}-idx{array.ndim}-ubyte.gz"
        write_idx(folder / name, array)
        digest = _sha256((folder / name).read_bytes())
        files[key] = IDXFile(name, "f" * 64 if key == corrupt else digest, array.shape)
    return IDXDataset("tiny", files, mirrors=(base,)), arrays


def test_dataset_downloads_into_the_cache_then_loads_offline(server, tmp_path, monkeypatch):
    base, folder = server
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    spec, arrays = _tiny_dataset(folder, base)
    (x_train, y_train), (x_test, y_test) = load_idx_dataset(spec, timeout=5)
    np.testing.assert_array_equal(x_train, arrays["train_images"])
    np.testing.assert_array_equal(y_test, arrays["test_labels"])
    assert y_train.dtype == np.int64
    cached = tmp_path / "xdg" / "numpy-autograd" / "tiny"
    assert sorted(os.listdir(cached)) == sorted(f.filename for f in spec.files.values())
    for name in os.listdir(folder):
        os.unlink(folder / name)  # the mirror is gone: the cache must suffice
    (x2, _), _ = load_idx_dataset(spec, download=False, normalize=True, flatten=True)
    assert x2.shape == (6, 784) and x2.dtype == np.float32 and x2.max() <= 1


def test_dataset_with_bad_checksum_raises_and_caches_nothing(server, tmp_path, monkeypatch):
    base, folder = server
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    spec, _ = _tiny_dataset(folder, base, corrupt="test_images")
    with pytest.raises(DatasetNotFoundError, match="test_images.*SHA-256 mismatch"):
        load_idx_dataset(spec, timeout=5)
    cached = tmp_path / "xdg" / "numpy-autograd" / "tiny"
    assert "test_images-idx3-ubyte.gz" not in os.listdir(cached)
    assert not [n for n in os.listdir(cached) if n.startswith(".")]


def test_dataset_prefers_root_and_reports_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    root = tmp_path / "root"
    root.mkdir()
    spec, arrays = _tiny_dataset(root, "http://127.0.0.1:9/")
    (_, y_train), _ = load_idx_dataset(spec, root=root, download=False)
    np.testing.assert_array_equal(y_train, arrays["train_labels"])
    os.unlink(root / spec.files["test_labels"].filename)
    with pytest.raises(DatasetNotFoundError, match=f"not in {root}.*download=False"):
        load_idx_dataset(spec, root=root, download=False)
    (root / spec.files["test_labels"].filename).write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x09")
    with pytest.raises(IDXFormatError, match="test_labels-idx1-ubyte.gz.*truncated"):
        load_idx_dataset(spec, root=root, download=False)


@pytest.mark.skipif(not os.path.isdir(DEBIAN_FASHION_MNIST),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_mnist_loads_from_the_debian_package(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # an empty cache: must use Debian's
    start = time.perf_counter()
    (x_train, y_train), (x_test, y_test) = load_idx_dataset(FASHION_MNIST, download=False)
    elapsed = time.perf_counter() - start
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(y_train), np.full(10, 6000))
    np.testing.assert_array_equal(np.bincount(y_test), np.full(10, 1000))
    assert elapsed < 10  # about 0.4 s; the bound only catches a pathological slowdown


# --- bundled and generated data ---------------------------------------------------------------
def test_iris_is_fishers_data():
    X, y = iris()
    assert X.shape == (150, 4) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [50, 50, 50])
    np.testing.assert_allclose(X[0], [5.1, 3.5, 1.4, 0.2])       # the first setosa
    np.testing.assert_allclose(X[34], [4.9, 3.1, 1.5, 0.2])      # Fisher's row 35 (UCI's erratum)
    np.testing.assert_allclose(X[37], [4.9, 3.6, 1.4, 0.1])      # Fisher's row 38 (UCI's erratum)
    np.testing.assert_allclose(X[50], [7.0, 3.2, 4.7, 1.4])      # the first versicolor
    np.testing.assert_allclose(X[149], [5.9, 3.0, 5.1, 1.8])     # the last virginica
    np.testing.assert_allclose(X.mean(axis=0), [5.8433, 3.0573, 3.758, 1.1993], atol=1e-4)
    assert IRIS_CLASSES[y[100]] == "virginica"


def test_mnist1d_is_generated_locally_and_seeded():
    pytest.importorskip("mnist1d")
    from nn.datasets import mnist1d
    state = np.random.get_state()
    (x, y), (x_test, y_test) = mnist1d(num_samples=200, seed=3)
    assert x.shape == (160, 40) and x_test.shape == (40, 40) and x.dtype == np.float32
    assert set(np.unique(np.concatenate([y, y_test]))) == set(range(10))
    (x2, _), _ = mnist1d(num_samples=200, seed=3)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(np.random.get_state()[1], state[1])  # global RNG untouched
    with pytest.raises(ValueError, match="unknown dataset argument"):
        mnist1d(num_samples=20, colour=True)


def test_logic_gates():
    X, y = xor()
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])
    np.testing.assert_array_equal(logic_gate("and")[1], [0, 0, 0, 1])
    np.testing.assert_array_equal(logic_gate("nor")[1], [1, 0, 0, 0])
    assert logic_gate("xor", 3)[1].tolist() == [0, 1, 1, 0, 1, 0, 0, 1]
    X_noisy, y_noisy = logic_gate("or", n_samples=50, noise=0.1, seed=0)
    assert X_noisy.shape == (50, 2)
    np.testing.assert_array_equal(y_noisy, (np.round(X_noisy) > 0).any(axis=1))
    with pytest.raises(ValueError, match="gate must be one of"):
        logic_gate("maybe")


def test_moons_and_spirals_are_seeded_and_balanced():
    X, y = two_moons(101, noise=0.0, seed=0)
    assert X.shape == (101, 2) and np.bincount(y).tolist() == [50, 51]
    np.testing.assert_allclose(np.hypot(*X[y == 0].T), 1, atol=1e-5)  # upper moon: unit circle
    np.testing.assert_array_equal(two_moons(50, seed=4)[0], two_moons(50, seed=4)[0])
    X, y = spirals(300, n_classes=3, seed=1)
    assert X.shape == (300, 2) and np.bincount(y).tolist() == [100, 100, 100]
    assert np.abs(X).max() <= 1
    np.testing.assert_array_equal(spirals(30, seed=2)[1], spirals(30, seed=2)[1])


@pytest.mark.parametrize("n_dims", [2, 3])
def test_random_points_have_unnormalised_axes_and_region_labels(n_dims):
    X, y = random_points(2000, n_dims=n_dims, seed=0)
    assert X.shape == (2000, n_dims) and X.dtype == np.float32
    spans = X.max(axis=0) - X.min(axis=0)
    assert spans.max() / spans.min() > 50  # scales differ by orders of magnitude
    assert set(np.unique(y)) == set(range(2 ** n_dims))
    unit = (X - X.min(axis=0)) / spans
    np.testing.assert_array_equal(y[:5], ((unit[:5] > 0.5) * (1 << np.arange(n_dims))).sum(axis=1))
    np.testing.assert_array_equal(random_points(10, n_dims, seed=5)[0], random_points(10, n_dims, seed=5)[0])
    ball = random_points(2000, n_dims, regions="ball", seed=0)[1]
    assert 0.1 < ball.mean() < 0.6
    with pytest.raises(ValueError, match="regions"):
        random_points(10, regions="stripes")
