"""The IDX file format of MNIST and Fashion-MNIST: a small header, then a big-endian array.

Header: two zero bytes, a dtype code byte, the number of dimensions, then one big-endian
uint32 size per dimension (http://yann.lecun.com/exdb/mnist/). Files may be gzipped.
"""
import gzip
import os
import struct
import zlib

import numpy as np

# IDX dtype code -> big-endian NumPy dtype.
IDX_DTYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
GZIP_MAGIC = b"\x1f\x8b"


class IDXFormatError(ValueError):
    """An IDX file that is corrupt, truncated or not what the caller expected."""


def read_idx(path, expected_shape=None):
    """Read an IDX file (raw or gzipped, told apart by content) into a native-endian ndarray.

    Args:
        path: the file.
        expected_shape: optional shape the array must have; ``None`` entries match any size.

    Raises:
        IDXFormatError (a ValueError) naming the file: not gzip data where gzip began, a
        truncated gzip stream, a wrong magic number, an unknown dtype code, a payload
        shorter or longer than the header's dimensions say, or a shape other than
        ``expected_shape``.
    """
    path = os.fspath(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise IDXFormatError(f"{path}: not an IDX file: {len(raw)} bytes, shorter than the "
                             f"4-byte magic number")
    zeros, code, ndim = raw[:2], raw[2], raw[3]
    if zeros != b"\x00\x00" or code not in IDX_DTYPES or ndim == 0:
        raise IDXFormatError(f"{path}: bad IDX magic number 0x{raw[:4].hex()}: expected two zero "
                             f"bytes, a dtype code in {{{', '.join(hex(c) for c in IDX_DTYPES)}}} "
                             f"and at least one dimension")
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise IDXFormatError(f"{path}: truncated IDX header: {ndim} dimensions need "
                             f"{header_size} bytes, the file has {len(raw)}")
    shape = struct.unpack(f">{ndim}I", raw[4:header_size])
    dtype = IDX_DTYPES[code]
    expected_bytes = header_size + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected_bytes:
        state = "truncated" if len(raw) < expected_bytes else "longer than its dimensions say"
        raise IDXFormatError(f"{path}: IDX data {state}: dimensions {shape} of {dtype.name} need "
                             f"{expected_bytes} bytes, the data has {len(raw)}")
    if expected_shape is not None and not _shape_matches(shape, expected_shape):
        raise IDXFormatError(f"{path}: IDX array has shape {shape}, expected "
                             f"{tuple(expected_shape)}")
    array = np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False) if dtype.itemsize > 1 else array


def write_idx(path, array, compress=None):
    """Write ``array`` as an IDX file, gzipped when ``compress`` (default: path ends in .gz)."""
    path = os.fspath(path)
    array = np.asarray(array)
    codes = {dtype.newbyteorder("="): code for code, dtype in IDX_DTYPES.items()}
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None or array.ndim == 0:
        raise ValueError(f"write_idx: array must have at least one dimension and a dtype among "
                         f"uint8 int8 int16 int32 float32 float64, got {array.dtype} {array.shape}")
    big_endian = array.astype(IDX_DTYPES[code], copy=False)
    payload = (bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
               + big_endian.tobytes())
    compress = path.endswith(".gz") if compress is None else compress
    with open(path, "wb") as handle:
        handle.write(gzip.compress(payload, mtime=0) if compress else payload)


def _read_bytes(path):
    with open(path, "rb") as handle:
        raw = handle.read()
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError as err:
        raise IDXFormatError(f"{path}: truncated gzip data ({len(raw)} bytes); the download "
                             f"or copy was cut short") from err
    except (OSError, zlib.error) as err:
        raise IDXFormatError(f"{path}: corrupt gzip data: {err}") from err


def _shape_matches(shape, expected):
    expected = tuple(expected)
    return len(shape) == len(expected) and all(e is None or s == e for s, e in zip(shape, expected))
