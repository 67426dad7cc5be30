"""The IDX file format of MNIST and Fashion-MNIST: a small header, then a big-endian array.

Header: two zero bytes, a dtype code byte, the number of dimensions, then one big-endian
uint32 size per dimension (http://yann.lecun.com/exdb/mnist/). Files may be gzipped.
"""
import gzip
import math
import os
import struct
import zlib

import numpy as np

# IDX dtype code -> big-endian NumPy dtype.
IDX_DTYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
GZIP_MAGIC = b"\x1f\x8b"
MAX_DIMENSIONS = 16               # MNIST-style files have 1 to 4; NumPy's own limit is 64
MAX_PAYLOAD_BYTES = 1 << 40       # 1 TiB: anything larger is a corrupt header
DEFLATE_MAX_RATIO = 1032          # deflate never expands data more than this
CHUNK_BYTES = 1 << 20


class IDXFormatError(ValueError):
    """An IDX file that is corrupt, truncated or not what the caller expected."""


def read_idx(path, expected_shape=None):
    """Read an IDX file (raw or gzipped, told apart by content) into a native-endian ndarray.

    The header is read first (streamed out of the gzip data, never the whole file) and
    checked before the payload is read; the payload is then read in chunks up to the
    declared size, and one byte more proves there is nothing after it. Memory is bounded
    by the declared array size (itself checked against what the file can hold) plus one
    chunk, however large the decompressed stream would be.

    Args:
        path: the file.
        expected_shape: optional shape the array must have; ``None`` entries match any size.

    Raises:
        IDXFormatError (a ValueError) naming the file: not gzip data where gzip began, a
        truncated or corrupt gzip stream (CRC-32 checked), a wrong magic number, an unknown
        dtype code, more than ``MAX_DIMENSIONS`` dimensions, a size that overflows or that
        the file cannot hold, a payload shorter or longer than the header's dimensions
        say, or a shape other than ``expected_shape``.
    """
    path = os.fspath(path)
    with open(path, "rb") as handle:
        file_size = os.fstat(handle.fileno()).st_size
        compressed = handle.read(2) == GZIP_MAGIC
        handle.seek(0)
        if not compressed:
            return _read_stream(path, handle, file_size, expected_shape, file_size)
        stream = gzip.GzipFile(fileobj=handle, mode="rb")
        try:
            return _read_stream(path, stream, file_size, expected_shape, None)
        except EOFError:
            raise IDXFormatError(f"{path}: truncated gzip data ({file_size} bytes); the "
                                 f"download or copy was cut short") from None
        except (OSError, zlib.error) as err:
            raise IDXFormatError(f"{path}: corrupt gzip data: {err}") from None


def _read_exactly(stream, count):
    """Up to ``count`` bytes; fewer only at the end of the stream. The buffer grows with
    the data that actually arrives (never to ``count`` up front: a lying header must not
    cost memory) and is not copied again at the end."""
    data = bytearray()
    while len(data) < count:
        part = stream.read(min(count - len(data), CHUNK_BYTES))
        if not part:
            break
        data += part
    return data


def _read_stream(path, stream, file_size, expected_shape, raw_size):
    """The IDX array in ``stream``: header checked, then the payload read to its size.
    ``raw_size`` is the exact payload-plus-header size for uncompressed files, else None."""
    magic = _read_exactly(stream, 4)
    if len(magic) < 4:
        raise IDXFormatError(f"{path}: not an IDX file: {len(magic)} bytes, shorter than the "
                             f"4-byte magic number")
    zeros, code, ndim = magic[:2], magic[2], magic[3]
    if zeros != b"\x00\x00" or code not in IDX_DTYPES or ndim == 0:
        raise IDXFormatError(f"{path}: bad IDX magic number 0x{magic.hex()}: expected two zero "
                             f"bytes, a dtype code in {{{', '.join(hex(c) for c in IDX_DTYPES)}}} "
                             f"and at least one dimension")
    if ndim > MAX_DIMENSIONS:
        raise IDXFormatError(f"{path}: IDX header declares {ndim} dimensions; at most "
                             f"{MAX_DIMENSIONS} are read")
    header_size = 4 + 4 * ndim
    sizes = _read_exactly(stream, 4 * ndim)
    if len(sizes) < 4 * ndim:
        raise IDXFormatError(f"{path}: truncated IDX header: {ndim} dimensions need "
                             f"{header_size} bytes, the data has {4 + len(sizes)}")
    shape = struct.unpack(f">{ndim}I", sizes)
    dtype = IDX_DTYPES[code]
    payload = math.prod(shape) * dtype.itemsize  # Python ints: exact, never wraps
    expected_bytes = header_size + payload
    if payload > MAX_PAYLOAD_BYTES:
        raise IDXFormatError(f"{path}: IDX dimensions {shape} of {dtype.name} declare "
                             f"{payload} bytes, beyond the {MAX_PAYLOAD_BYTES}-byte limit "
                             f"(overflow or corrupt header)")
    # Checked before reading: a file cannot hold more than it is (or, gzipped, than
    # deflate's best ratio allows), so a lying header costs no memory.
    if raw_size is not None and expected_bytes != raw_size:
        state = "truncated" if expected_bytes > raw_size else "longer than its dimensions say"
        raise IDXFormatError(f"{path}: IDX data {state}: dimensions {shape} of {dtype.name} "
                             f"need {expected_bytes} bytes, the file has {raw_size}")
    if raw_size is None and expected_bytes > file_size * DEFLATE_MAX_RATIO:
        raise IDXFormatError(f"{path}: IDX data truncated: dimensions {shape} of {dtype.name} "
                             f"need {expected_bytes} bytes, more than a {file_size}-byte gzip "
                             f"file can hold")
    if expected_shape is not None and not _shape_matches(shape, expected_shape):
        raise IDXFormatError(f"{path}: IDX array has shape {shape}, expected "
                             f"{tuple(expected_shape)}")
    data = _read_exactly(stream, payload)
    if len(data) < payload:
        raise IDXFormatError(f"{path}: IDX data truncated: dimensions {shape} of {dtype.name} "
                             f"need {expected_bytes} bytes, the data has "
                             f"{header_size + len(data)}")
    if stream.read(1):  # for gzip, also reads the trailer and checks CRC-32 and length
        raise IDXFormatError(f"{path}: IDX data longer than its dimensions say: dimensions "
                             f"{shape} of {dtype.name} need {expected_bytes} bytes, the data "
                             f"has more")
    array = np.frombuffer(data, dtype=dtype).reshape(shape)
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


def _shape_matches(shape, expected):
    expected = tuple(expected)
    return len(shape) == len(expected) and all(e is None or s == e for s, e in zip(shape, expected))
