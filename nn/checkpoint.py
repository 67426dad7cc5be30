"""Safe checkpoints: ``.npz`` files holding only numeric arrays and JSON, never pickle.

``save`` writes a model state dict (and optionally an optimizer's state) to one
``.npz`` archive:

- ``model.<key>``: one array per state-dict entry;
- ``optimizer.state.<index>.<name>``: the optimizer's per-parameter buffers;
- ``__metadata__``: UTF-8 JSON (as a uint8 array) with the format version, the model
  keys in order, the optimizer's parameter groups and its non-array state (steps).

The file is written through ``nn.atomic_file.atomic_create``: a temporary file in the
same folder, fsynced and renamed over the target, created with the user's umask as
``open`` would; a crash mid-write never leaves a truncated checkpoint under the final
name, and the next save of the same path removes the temporary file a killed one left.
``load`` parses the archive itself: each member's ``.npy`` header is validated (numeric
dtype, shape, declared size against the member's real size) before its data is
allocated, object (pickle) arrays are refused before anything is unpickled, and the
metadata is checked against its schema, so loading a file never runs code and every
bad file raises ``CheckpointError``.
"""
import json
import math
import os
import struct
import zipfile
import zlib

import numpy as np

from autograd import Tensor

from .atomic_file import atomic_create

__all__ = ["save", "load", "CheckpointError"]

FORMAT = "nn-checkpoint"
VERSION = 1
METADATA_KEY = "__metadata__"
MODEL_PREFIX = "model."
OPTIMIZER_PREFIX = "optimizer.state."


class CheckpointError(ValueError):
    """A file that is not a readable, safe checkpoint; the message names the path."""


# --- saving -------------------------------------------------------------------------------------
def _numeric_array(what, value):
    array = value.data if isinstance(value, Tensor) else np.asarray(value)
    if array.dtype.hasobject or array.dtype.kind not in "biufc":
        raise TypeError(f"nn.save: {what} must be a numeric array, got dtype {array.dtype} "
                        f"(checkpoints hold numbers only, never pickled objects)")
    return array


def _json_value(what, value):
    """Hyperparameters and counters as JSON; tuples are tagged so they come back as tuples."""
    if isinstance(value, tuple):
        return {"__tuple__": [_json_value(what, item) for item in value]}
    if isinstance(value, list):
        return [_json_value(what, item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_value(what, item) for key, item in value.items()}
    if isinstance(value, (np.generic, np.ndarray)) and np.ndim(value) == 0:
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"nn.save: {what} holds a {type(value).__name__}, which a checkpoint "
                    f"cannot store (numbers, strings, lists, tuples and dicts only)")


def _pack_optimizer(optimizer_state, arrays):
    """Flatten an optimizer state dict into ``arrays`` (buffers) and JSON (the rest)."""
    if not (isinstance(optimizer_state, dict)
            and {"state", "param_groups"} <= set(optimizer_state)):
        raise TypeError("nn.save: optimizer must be an Optimizer or its state_dict() "
                        "(a dict with 'state' and 'param_groups')")
    scalars = {}
    for index, entry in optimizer_state["state"].items():
        for name, value in entry.items():
            what = f"optimizer state {name!r} of parameter {index}"
            if isinstance(value, (Tensor, np.ndarray)):
                arrays[f"{OPTIMIZER_PREFIX}{int(index)}.{name}"] = _numeric_array(what, value)
            else:
                scalars.setdefault(str(int(index)), {})[name] = _json_value(what, value)
    groups = [_json_value("optimizer param_groups", group)
              for group in optimizer_state["param_groups"]]
    return {"param_groups": groups, "scalars": scalars}


def save(state_dict, path, optimizer=None, *, optimizer_state=None):
    """Write ``state_dict`` (name -> Tensor/array) to ``path`` as a ``.npz``, atomically.

    Args:
        state_dict: e.g. ``model.state_dict()``.
        path: the file to write (written exactly there; no suffix is added).
        optimizer: an Optimizer (its ``state_dict()`` is saved) or a state dict of one.
        optimizer_state: the same as ``optimizer``, by a more explicit name.

    Raises:
        TypeError: a non-numeric value, or a bad optimizer argument.
    """
    if optimizer is not None and optimizer_state is not None:
        raise TypeError("nn.save: pass optimizer or optimizer_state, not both")
    optimizer = optimizer if optimizer is not None else optimizer_state
    if not hasattr(state_dict, "items"):
        raise TypeError(f"nn.save: state_dict must be a dict of name -> array, "
                        f"got {type(state_dict).__name__}")
    arrays = {}
    for key, value in state_dict.items():
        if not isinstance(key, str):
            raise TypeError(f"nn.save: state_dict keys must be strings, got {key!r}")
        arrays[MODEL_PREFIX + key] = _numeric_array(f"state_dict entry {key!r}", value)
    metadata = {"format": FORMAT, "version": VERSION, "model_keys": list(state_dict.keys())}
    if optimizer is not None:
        if hasattr(optimizer, "state_dict") and callable(optimizer.state_dict):
            optimizer = optimizer.state_dict()
        metadata["optimizer"] = _pack_optimizer(optimizer, arrays)
    encoded = np.frombuffer(json.dumps(metadata).encode("utf-8"), dtype=np.uint8)
    arrays[METADATA_KEY] = encoded
    _write_atomically(os.fspath(path), arrays)


def _write_atomically(path, arrays):
    with atomic_create(path, suffix=".tmp", owner="nn.save") as file:
        np.savez(file, **arrays)


# --- loading ------------------------------------------------------------------------------------
# Everything the zip and .npy readers may raise on a crafted or damaged file: zipfile raises
# NotImplementedError for unknown compression methods and RuntimeError for encrypted
# members; struct, index, overflow and unicode errors come from garbled header fields.
_CORRUPT = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError, TypeError,
            NotImplementedError, RuntimeError, struct.error, IndexError, OverflowError,
            UnicodeDecodeError, SyntaxError)
MAX_DIMENSIONS = 64          # NumPy's own limit on array rank
DEFLATE_MAX_RATIO = 1032     # deflate never expands data more than this (zlib's tech notes)
CHUNK_BYTES = 1 << 20
_ALLOWED_KINDS = "biufc"     # bool, ints, floats, complex: what save() accepts
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


def _corrupt(path, entry, problem):
    where = f"entry {entry!r}" if entry is not None else "archive"
    return CheckpointError(f"nn.load: '{path}' is not a valid checkpoint: {where}: {problem}")


def _read_arrays(path):
    """Every ``.npy`` member of the archive, each header validated before its data is
    allocated; CheckpointError for anything else (never unpickles, never runs code)."""
    with open(path, "rb") as file:  # FileNotFoundError and friends propagate as they are
        archive_size = os.fstat(file.fileno()).st_size
        _refuse_known_non_archives(path, file.read(8))
        file.seek(0)
        try:
            archive = zipfile.ZipFile(file)
            members = archive.infolist()
        except _CORRUPT as err:
            raise CheckpointError(f"nn.load: '{path}' is not a readable .npz checkpoint "
                                  f"(truncated, corrupt or not an .npz file): "
                                  f"{type(err).__name__}: {err}") from None
        arrays = {}
        with archive:
            for member in members:
                name = member.filename
                if not name.endswith(".npy"):
                    raise _corrupt(path, name, "not a .npy array (a checkpoint holds only "
                                               "numeric .npy arrays)")
                key = name[:-len(".npy")]
                if key in arrays:
                    raise _corrupt(path, name, "appears twice in the archive")
                try:
                    arrays[key] = _read_member(path, archive, member, archive_size)
                except CheckpointError:
                    raise
                except _CORRUPT as err:
                    raise _corrupt(path, name, f"truncated or corrupt "
                                               f"({type(err).__name__}: {err})") from None
    return arrays


def _refuse_known_non_archives(path, start):
    """Clearer errors for two files people mistake for checkpoints."""
    if start.startswith(b"\x80") or start[:1] in (b"(", b"]", b"}"):
        raise CheckpointError(f"nn.load: '{path}' holds pickled data, not an .npz checkpoint; "
                              f"refusing it (loading must never run code)")
    if start.startswith(b"\x93NUMPY"):
        raise CheckpointError(f"nn.load: '{path}' holds a single .npy array, not an .npz "
                              f"checkpoint")


def _check_member_sizes(path, member, archive_size):
    """The zip directory's sizes, checked against the file before anything is read."""
    name = member.filename
    if member.flag_bits & 0x1:
        raise _corrupt(path, name, "is encrypted")
    if member.compress_type not in _COMPRESSIONS:
        raise _corrupt(path, name, f"uses zip compression method {member.compress_type}; "
                                   f"only stored and deflated members are read")
    if member.header_offset + member.compress_size > archive_size:
        raise _corrupt(path, name, f"declares {member.compress_size} bytes at offset "
                                   f"{member.header_offset}, beyond the end of the "
                                   f"{archive_size}-byte file (truncated?)")
    limit = (member.compress_size if member.compress_type == zipfile.ZIP_STORED
             else member.compress_size * DEFLATE_MAX_RATIO + 64)
    if member.file_size > limit:
        raise _corrupt(path, name, f"declares {member.file_size} bytes uncompressed, more than "
                                   f"its {member.compress_size} stored bytes can hold")


def _read_header(path, name, stream):
    """The .npy header: (shape, fortran_order, dtype), each checked."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version in ((2, 0), (3, 0)):
        shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise _corrupt(path, name, f"unknown .npy format version {version}")
    if dtype.hasobject:
        raise _corrupt(path, name, "is an object array, which only pickle can load; refusing "
                                   "it (a checkpoint holds numeric arrays only, and loading "
                                   "must never run code)")
    if dtype.kind not in _ALLOWED_KINDS or dtype.shape or dtype.names:
        raise _corrupt(path, name, f"has dtype {dtype}; a checkpoint holds numeric or bool "
                                   f"arrays only (string, void and structured arrays are "
                                   f"refused)")
    if (not isinstance(shape, tuple) or len(shape) > MAX_DIMENSIONS
            or not all(type(size) is int and size >= 0 for size in shape)):
        raise _corrupt(path, name, f"has an invalid shape {shape!r} (at most {MAX_DIMENSIONS} "
                                   f"non-negative integer sizes)")
    if not isinstance(fortran_order, bool):
        raise _corrupt(path, name, f"has an invalid fortran_order {fortran_order!r}")
    return shape, fortran_order, dtype


def _read_member(path, archive, member, archive_size):
    name = member.filename
    _check_member_sizes(path, member, archive_size)
    with archive.open(member) as stream:
        shape, fortran_order, dtype = _read_header(path, name, stream)
        header_bytes = stream.tell()
        declared = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
        available = member.file_size - header_bytes
        if declared != available:
            raise _corrupt(path, name, f"declares shape {shape} of {dtype} ({declared} bytes) "
                                       f"but holds {available} bytes of data")
        buffer = bytearray(declared)  # writable, allocated only once its size is proven
        view, filled = memoryview(buffer), 0
        while filled < declared:
            chunk = stream.read(min(CHUNK_BYTES, declared - filled))
            if not chunk:
                raise _corrupt(path, name, f"ends after {filled} of {declared} data bytes")
            view[filled:filled + len(chunk)] = chunk
            filled += len(chunk)
        if stream.read(1):  # also makes zipfile check the member's CRC-32
            raise _corrupt(path, name, "holds more data than its header declares")
    array = np.frombuffer(buffer, dtype=dtype)
    return array.reshape(shape[::-1]).T if fortran_order else array.reshape(shape)


def _check_metadata_schema(path, metadata):
    """Types and required fields of the metadata, before any of it is used."""
    def malformed(problem):
        return CheckpointError(f"nn.load: '{path}' has malformed metadata: {problem}")

    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise CheckpointError(f"nn.load: '{path}' is not an {FORMAT} file")
    version = metadata.get("version")
    if type(version) is not int or version < 1:
        raise malformed(f"'version' must be a positive integer, got {version!r}")
    if version > VERSION:
        raise CheckpointError(f"nn.load: '{path}' has format version {version}; this library "
                              f"reads up to version {VERSION}")
    keys = metadata.get("model_keys")
    if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
        raise malformed("'model_keys' must be a list of strings")
    if len(set(keys)) != len(keys):
        raise malformed("'model_keys' lists a key twice")
    packed = metadata.get("optimizer")
    if packed is None:
        return
    if not isinstance(packed, dict) or not isinstance(packed.get("param_groups"), list):
        raise malformed("'optimizer' must be an object with a 'param_groups' list")
    for group in packed["param_groups"]:
        params = group.get("params") if isinstance(group, dict) else None
        if not (isinstance(params, list)
                and all(type(index) is int and index >= 0 for index in params)):
            raise malformed("each optimizer param group must be an object with a 'params' "
                            "list of parameter indices")
    scalars = packed.get("scalars", {})
    if not isinstance(scalars, dict) or not all(
            index.isdigit() and isinstance(entry, dict) for index, entry in scalars.items()):
        raise malformed("optimizer 'scalars' must map parameter indices to objects")


def _metadata(path, arrays):
    raw = arrays.pop(METADATA_KEY, None)
    if raw is None or raw.dtype != np.uint8 or raw.ndim != 1:
        raise CheckpointError(f"nn.load: '{path}' has no {METADATA_KEY!r} entry; it is an .npz "
                              f"file but not a checkpoint written by nn.save")
    try:
        metadata = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise CheckpointError(f"nn.load: '{path}' has unreadable metadata: "
                              f"{type(err).__name__}: {err}") from None
    _check_metadata_schema(path, metadata)
    return metadata


def _from_json(path, value):
    """JSON back to Python values; tagged tuples (see ``_json_value``) to tuples."""
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            if not isinstance(value["__tuple__"], list):
                raise CheckpointError(f"nn.load: '{path}' has malformed metadata: a tagged "
                                      f"tuple must hold a list")
            return tuple(_from_json(path, item) for item in value["__tuple__"])
        return {key: _from_json(path, item) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_json(path, item) for item in value]
    return value


def _unpack_optimizer(path, packed, arrays):
    state = {}
    for key, array in arrays.items():
        if not key.startswith(OPTIMIZER_PREFIX):
            continue
        index, _, name = key[len(OPTIMIZER_PREFIX):].partition(".")
        if not index.isdigit() or not name:
            raise CheckpointError(f"nn.load: '{path}' has a malformed optimizer entry {key!r}")
        state.setdefault(int(index), {})[name] = array
    try:
        for index, entries in packed.get("scalars", {}).items():
            state.setdefault(int(index), {}).update(_from_json(path, entries))
        groups = _from_json(path, packed["param_groups"])
    except RecursionError:
        raise CheckpointError(f"nn.load: '{path}' has malformed metadata: nested too "
                              f"deeply") from None
    return {"state": dict(sorted(state.items())), "param_groups": groups}


def load(path, *, with_optimizer=False):
    """Read a checkpoint written by ``save``; never unpickles anything.

    Every member's ``.npy`` header (dtype, shape, declared size against the member's real
    size) is checked before its data is allocated, and the metadata against its schema
    before it is used, so a corrupt or crafted file costs no more memory than its own
    size and fails with one exception type.

    Returns:
        The model state dict (name -> Tensor, in saved order), ready for
        ``model.load_state_dict``. With ``with_optimizer=True``, a pair
        ``(state_dict, optimizer_state)`` where ``optimizer_state`` is ready for
        ``optimizer.load_state_dict`` (None when none was saved).

    Raises:
        FileNotFoundError (and other OSErrors of ``open``): no readable file at ``path``.
        CheckpointError (a ValueError): anything in the file that is not a valid
            checkpoint: truncated or corrupt archive or member (CRC-32 checked), a
            non-``.npy`` member, a non-numeric dtype (object/pickle, string, void), a
            header whose size disagrees with the data, or metadata that nn.save did not
            write; the message names the path and the entry.
    """
    path = os.fspath(path)
    arrays = _read_arrays(path)
    metadata = _metadata(path, arrays)
    state_dict = {}
    for key in metadata["model_keys"]:
        array = arrays.get(MODEL_PREFIX + key)
        if array is None:
            raise CheckpointError(f"nn.load: '{path}' lists model entry {key!r} but does not "
                                  f"contain it (corrupt file?)")
        state_dict[key] = Tensor(array)
    if not with_optimizer:
        return state_dict
    packed = metadata.get("optimizer")
    return state_dict, (None if packed is None else _unpack_optimizer(path, packed, arrays))
