"""Safe checkpoints: ``.npz`` files holding only numeric arrays and JSON, never pickle.

``save`` writes a model state dict (and optionally an optimizer's state) to one
``.npz`` archive:

- ``model.<key>``: one array per state-dict entry;
- ``optimizer.state.<index>.<name>``: the optimizer's per-parameter buffers;
- ``__metadata__``: UTF-8 JSON (as a uint8 array) with the format version, the model
  keys in order, the optimizer's parameter groups and its non-array state (steps).

The file is written to a temporary file in the same directory and renamed over the
target (``os.replace``), so a crash mid-write never leaves a truncated checkpoint
under the final name. ``load`` reads with ``allow_pickle=False``: an archive carrying
a pickled object array is refused before anything is unpickled, so loading a file
never runs code.
"""
import json
import os
import tempfile
import zipfile
import zlib

import numpy as np

from autograd import Tensor

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


def _from_json(value):
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(_from_json(item) for item in value["__tuple__"])
        return {key: _from_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_json(item) for item in value]
    return value


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
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.",
                                         suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    _sync_directory(directory)


def _sync_directory(directory):
    """Make the rename itself durable (POSIX); harmless to skip where unsupported."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


# --- loading ------------------------------------------------------------------------------------
_CORRUPT = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError)


def _read_arrays(path):
    """Every array in the archive, read with allow_pickle=False; clear errors otherwise."""
    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except _CORRUPT as err:
        raise CheckpointError(f"nn.load: '{path}' is not a readable .npz checkpoint (truncated, "
                              f"corrupt or not an .npz file): {err}") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise CheckpointError(f"nn.load: '{path}' holds a single array, not an .npz checkpoint")
    arrays = {}
    with archive:
        for name in archive.files:
            try:
                arrays[name] = archive[name]
            except ValueError as err:
                if "pickle" in str(err).lower() or "object arrays" in str(err).lower():
                    raise CheckpointError(
                        f"nn.load: '{path}' entry {name!r} is an object array, which only "
                        f"pickle can load; refusing it (a checkpoint holds numeric arrays "
                        f"only, and loading must never run code)") from None
                raise CheckpointError(
                    f"nn.load: '{path}' entry {name!r} is corrupt: {err}") from None
            except _CORRUPT as err:
                raise CheckpointError(f"nn.load: '{path}' is truncated or corrupt (entry "
                                      f"{name!r}): {err}") from None
    return arrays


def _metadata(path, arrays):
    raw = arrays.pop(METADATA_KEY, None)
    if raw is None or raw.dtype != np.uint8 or raw.ndim != 1:
        raise CheckpointError(f"nn.load: '{path}' has no {METADATA_KEY!r} entry; it is an .npz "
                              f"file but not a checkpoint written by nn.save")
    try:
        metadata = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"nn.load: '{path}' has unreadable metadata: {err}") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise CheckpointError(f"nn.load: '{path}' is not an {FORMAT} file")
    if metadata.get("version", 0) > VERSION:
        raise CheckpointError(f"nn.load: '{path}' has format version {metadata['version']}; "
                              f"this library reads up to version {VERSION}")
    return metadata


def _unpack_optimizer(path, packed, arrays):
    state = {}
    for key, array in arrays.items():
        if not key.startswith(OPTIMIZER_PREFIX):
            continue
        index, _, name = key[len(OPTIMIZER_PREFIX):].partition(".")
        if not index.isdigit() or not name:
            raise CheckpointError(f"nn.load: '{path}' has a malformed optimizer entry {key!r}")
        state.setdefault(int(index), {})[name] = array
    for index, entries in packed.get("scalars", {}).items():
        state.setdefault(int(index), {}).update(_from_json(entries))
    groups = _from_json(packed["param_groups"])
    return {"state": dict(sorted(state.items())), "param_groups": groups}


def load(path, *, with_optimizer=False):
    """Read a checkpoint written by ``save``; never unpickles anything.

    Returns:
        The model state dict (name -> Tensor, in saved order), ready for
        ``model.load_state_dict``. With ``with_optimizer=True``, a pair
        ``(state_dict, optimizer_state)`` where ``optimizer_state`` is ready for
        ``optimizer.load_state_dict`` (None when none was saved).

    Raises:
        FileNotFoundError: no file at ``path``.
        CheckpointError (a ValueError): truncated or corrupt file, an object (pickle)
            array inside, or an ``.npz`` that nn.save did not write; the message names
            the path.
    """
    path = os.fspath(path)
    arrays = _read_arrays(path)
    metadata = _metadata(path, arrays)
    state_dict = {}
    for key in metadata.get("model_keys", []):
        array = arrays.get(MODEL_PREFIX + key)
        if array is None:
            raise CheckpointError(f"nn.load: '{path}' lists model entry {key!r} but does not "
                                  f"contain it (corrupt file?)")
        state_dict[key] = Tensor(array)
    if not with_optimizer:
        return state_dict
    packed = metadata.get("optimizer")
    return state_dict, (None if packed is None else _unpack_optimizer(path, packed, arrays))
