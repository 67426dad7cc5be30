"""IDX hardening: every corrupted or truncated IDX file (raw or gzipped) either reads back
exactly what was written or raises IDXFormatError naming the file, with peak memory
bounded by the declared array size (tracemalloc), however large the stream would inflate.

Case counts: about 300 Hypothesis corruptions under the ``ci`` profile, more under ``dev``."""
import gzip
import os
import struct
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from nn.datasets import IDXFormatError, read_idx, write_idx
from nn.datasets.idx import MAX_DIMENSIONS

DEV = os.environ.get("HYPOTHESIS_PROFILE") == "dev"
FUZZ = settings(max_examples=300 if DEV else 100, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
DEBIAN_LABELS = Path("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz")


def idx_samples():
    """Small real IDX files of several dtypes and ranks, plus a Debian file if installed."""
    rng = np.random.default_rng(0)
    samples = {
        "images.gz": rng.integers(0, 256, (6, 7, 5), dtype=np.uint8),
        "labels": rng.integers(0, 10, 40, dtype=np.uint8),
        "floats.gz": rng.standard_normal((4, 3)).astype(np.float32),
        "ints": rng.integers(-1000, 1000, (5, 2), dtype=np.int32),
    }
    return samples


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    """name -> (file bytes, the array it holds)."""
    folder = tmp_path_factory.mktemp("idx")
    files = {}
    for name, array in idx_samples().items():
        write_idx(folder / name, array)
        files[name] = ((folder / name).read_bytes(), array)
    if DEBIAN_LABELS.is_file():
        files["debian-t10k-labels.gz"] = (DEBIAN_LABELS.read_bytes(), read_idx(DEBIAN_LABELS))
    return files


def read_or_refuse(path, data, original):
    """The property. Gzip carries a CRC-32, so a corrupted .gz reads back exactly or fails;
    a raw file has no checksum, so a corrupted one may read back other values, but only
    ever an array whose header and size agree with the file."""
    path.write_bytes(data)
    tracemalloc.start()
    try:
        array = read_idx(path)
    except IDXFormatError as err:
        assert str(path) in str(err)
        return "refused"
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < (2 << 20) + 4 * original.nbytes, f"peak {peak} bytes"
    if data[:2] == b"\x1f\x8b":
        assert array.dtype == original.dtype.newbyteorder("=")
        np.testing.assert_array_equal(array, original)
    else:
        assert 4 + 4 * array.ndim + array.nbytes == len(data)
    return "read"


@FUZZ
@given(data=st.data())
def test_truncated_idx_files_raise_naming_the_file(originals, tmp_path, data):
    name = data.draw(st.sampled_from(sorted(originals)), label="file")
    raw, original = originals[name]
    cut = data.draw(st.integers(0, len(raw) - 1), label="cut")
    assert read_or_refuse(tmp_path / name, raw[:cut], original) == "refused"


@FUZZ
@given(data=st.data())
def test_byte_flips_read_back_exactly_or_raise_naming_the_file(originals, tmp_path, data):
    name = data.draw(st.sampled_from(sorted(originals)), label="file")
    raw, original = originals[name]
    corrupted = bytearray(raw)
    # Half the flips aim at the first bytes, where the gzip and IDX headers are.
    positions = st.one_of(st.integers(0, min(len(raw), 40) - 1), st.integers(0, len(raw) - 1))
    for position, mask in data.draw(st.lists(st.tuples(positions, st.integers(1, 255)),
                                             min_size=1, max_size=6), label="flips"):
        corrupted[position] ^= mask
    read_or_refuse(tmp_path / name, bytes(corrupted), original)


@FUZZ
@given(data=st.data())
def test_forged_headers_raise_naming_the_file_without_allocating(originals, tmp_path, data):
    """Any header at all in front of a small payload: a declared size the data cannot
    back must be refused before it is allocated."""
    code = data.draw(st.sampled_from([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0xFF]))
    ndim = data.draw(st.integers(0, 255))
    sizes = data.draw(st.lists(st.sampled_from([0, 1, 3, 255, 65535, 2**31, 2**32 - 1]),
                               min_size=min(ndim, 4), max_size=min(ndim, 4)))
    sizes = (sizes * (ndim // max(len(sizes), 1) + 1))[:ndim]
    payload = b"\x00" * data.draw(st.integers(0, 64))
    header = bytes([0, 0, code, ndim]) + struct.pack(f">{ndim}I", *sizes)
    raw = header + payload
    if data.draw(st.booleans(), label="gzip"):
        raw = gzip.compress(raw, mtime=0)
    path = tmp_path / "forged.idx"
    path.write_bytes(raw)
    tracemalloc.start()
    try:
        array = read_idx(path)
    except IDXFormatError as err:
        assert str(path) in str(err)
        return
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 2 << 20, f"peak {peak} bytes"
    assert array.shape == tuple(sizes) and array.nbytes == len(payload)


# --- each escape the issue found ---------------------------------------------------------
def gzip_of_zeros(path, header, zero_bytes):
    """A gzip file of ``header`` and then ``zero_bytes`` zeros, written in chunks."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip container
    with open(path, "wb") as handle:
        handle.write(compressor.compress(header))
        chunk = bytes(1 << 20)
        for _ in range(zero_bytes >> 20):
            handle.write(compressor.compress(chunk))
        handle.write(compressor.flush())
    return path


def test_small_gz_declaring_10_bytes_but_inflating_to_64_mib_costs_no_memory(tmp_path):
    path = gzip_of_zeros(tmp_path / "bomb.gz", bytes([0, 0, 8, 1]) + struct.pack(">I", 10),
                         64 << 20)
    assert path.stat().st_size < 100_000
    tracemalloc.start()
    try:
        with pytest.raises(IDXFormatError, match=r"bomb\.gz.*longer than its dimensions say"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 << 20, f"peak {peak} bytes"


@pytest.mark.parametrize("gzipped", [False, True])
def test_dimension_product_overflowing_int64_names_the_file(tmp_path, gzipped):
    header = bytes([0, 0, 0x0E, 3]) + struct.pack(">3I", *(2**32 - 1,) * 3)
    path = tmp_path / ("overflow.gz" if gzipped else "overflow")
    path.write_bytes(gzip.compress(header) if gzipped else header)
    with pytest.raises(IDXFormatError, match=rf"{path.name}: IDX dimensions .* declare"):
        read_idx(path)


@pytest.mark.parametrize("ndim", [MAX_DIMENSIONS + 1, 65, 255])
def test_too_many_dimensions_names_the_file(tmp_path, ndim):
    path = tmp_path / "rank.idx"
    path.write_bytes(bytes([0, 0, 8, ndim]) + struct.pack(f">{ndim}I", *(1,) * ndim) + b"\0")
    with pytest.raises(IDXFormatError, match=rf"rank\.idx: .*{ndim} dimensions; at most"):
        read_idx(path)


def test_declared_gigabyte_in_a_tiny_gz_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.gz"
    path.write_bytes(gzip.compress(bytes([0, 0, 8, 1]) + struct.pack(">I", 1 << 30) + b"\0"))
    tracemalloc.start()
    try:
        with pytest.raises(IDXFormatError, match=r"big\.gz: .*more than a \d+-byte gzip file"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def test_corrupt_crc_in_gzip_trailer_names_the_file(tmp_path):
    raw = bytearray(gzip.compress(bytes([0, 0, 8, 1]) + struct.pack(">I", 3) + b"abc"))
    raw[-8] ^= 0xFF  # CRC-32 of the trailer
    path = tmp_path / "crc.gz"
    path.write_bytes(bytes(raw))
    with pytest.raises(IDXFormatError, match=r"crc\.gz: corrupt gzip data.*CRC"):
        read_idx(path)
