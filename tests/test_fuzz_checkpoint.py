"""Checkpoint hardening: corrupted, truncated and crafted files raise only CheckpointError
(or load exactly what was saved), with memory bounded by the file's own size; files are
created with the umask, atomically, and survive ``kill -9`` during ``nn.save``.

Case counts: the Hypothesis tests below try about 300 corruptions under the ``ci``
profile (more under ``dev``); the ``kill -9`` test runs KILL_TRIALS subprocesses."""
import json
import os
import random
import signal
import stat
import struct
import subprocess
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import nn
from nn import optim
from nn.atomic_file import temporary_files_of
from nn.checkpoint import CheckpointError, load, save

REPO = Path(__file__).resolve().parents[1]
DEV = os.environ.get("HYPOTHESIS_PROFILE") == "dev"
KILL_TRIALS = 100 if DEV else 20
FUZZ = settings(max_examples=300 if DEV else 100, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def trained_checkpoint():
    """A real checkpoint: Linear + BatchNorm (float64, int64 buffer) and Adam state."""
    nn.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 2)).to(np.float64)
    opt = optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.9))
    x = nn.Parameter(np.random.default_rng(1).standard_normal((5, 4)))
    for _ in range(2):
        opt.zero_grad()
        (model(x) ** 2).sum().backward()
        opt.step()
    return model.state_dict(), opt.state_dict()


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    """(bytes of the file, saved model state, saved optimizer state)."""
    path = tmp_path_factory.mktemp("checkpoint") / "real.npz"
    state, opt_state = trained_checkpoint()
    save(state, path, optimizer=opt_state)
    return path.read_bytes(), state, opt_state


def assert_same_values(loaded, saved):
    """Equal structure, dtypes and values (arrays compared exactly)."""
    if isinstance(saved, dict):
        assert isinstance(loaded, dict) and list(loaded) == list(saved)
        for key in saved:
            assert_same_values(loaded[key], saved[key])
    elif isinstance(saved, (list, tuple)):
        assert type(loaded) is type(saved) and len(loaded) == len(saved)
        for mine, theirs in zip(loaded, saved):
            assert_same_values(mine, theirs)
    elif hasattr(saved, "__array__"):
        mine, theirs = np.asarray(loaded), np.asarray(saved)
        assert mine.dtype == theirs.dtype and mine.shape == theirs.shape
        np.testing.assert_array_equal(mine, theirs)
    else:
        assert loaded == saved


def load_or_refuse(path, data, saved_state, saved_opt):
    """The property: loads exactly what was saved, or raises CheckpointError naming the
    file; peak traced memory stays within a small multiple of the file size."""
    path.write_bytes(data)
    tracemalloc.start()
    try:
        state, opt_state = load(path, with_optimizer=True)
    except CheckpointError as err:
        assert str(path) in str(err)
        return "refused"
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 1_000_000 + 8 * len(data), f"peak {peak} bytes for a {len(data)}-byte file"
    assert_same_values(state, saved_state)
    # JSON gives lists where the optimizer kept tuples only for tagged values; compare
    # the buffers and the groups that optimizer.load_state_dict consumes.
    assert sorted(opt_state["state"]) == sorted(saved_opt["state"])
    for index, entry in saved_opt["state"].items():
        assert_same_values({k: opt_state["state"][index][k] for k in entry}, entry)
    assert_same_values(opt_state["param_groups"], saved_opt["param_groups"])
    return "loaded"


# --- Hypothesis corruptions of a real checkpoint ----------------------------------------
@FUZZ
@given(data=st.data())
def test_truncated_checkpoint_raises_checkpoint_error(original, tmp_path, data):
    raw, state, opt_state = original
    cut = data.draw(st.integers(0, len(raw) - 1), label="cut")
    assert load_or_refuse(tmp_path / "cut.npz", raw[:cut], state, opt_state) == "refused"


@FUZZ
@given(data=st.data())
def test_byte_flips_load_the_saved_values_or_raise(original, tmp_path, data):
    raw, state, opt_state = original
    corrupted = bytearray(raw)
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(raw) - 1), st.integers(1, 255)),
                               min_size=1, max_size=8), label="flips")
    for position, mask in flips:
        corrupted[position] ^= mask
    load_or_refuse(tmp_path / "flipped.npz", bytes(corrupted), state, opt_state)


def structure_offsets(raw):
    """Where zip headers and .npy headers start: the bytes a fuzzer most wants to hit."""
    offsets = []
    for marker in (b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06", b"\x93NUMPY"):
        start = raw.find(marker)
        while start >= 0:
            offsets.append(start)
            start = raw.find(marker, start + 1)
    return sorted(offsets)


@FUZZ
@given(data=st.data())
def test_header_field_overwrites_load_the_saved_values_or_raise(original, tmp_path, data):
    raw, state, opt_state = original
    corrupted = bytearray(raw)
    base = data.draw(st.sampled_from(structure_offsets(raw)), label="header")
    position = min(base + data.draw(st.integers(0, 80), label="offset"), len(raw) - 4)
    value = data.draw(st.sampled_from([0, 1, 0x7F, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF]))
    corrupted[position:position + 4] = struct.pack("<I", value)
    load_or_refuse(tmp_path / "header.npz", bytes(corrupted), state, opt_state)


# --- crafted files: each escape the issue found ------------------------------------------
def npy_member(descr, shape, payload=b"", fortran_order=False):
    """A .npy file's bytes with any header at all (NumPy's own writer would refuse some)."""
    header = repr({"descr": descr, "fortran_order": fortran_order, "shape": shape}).encode()
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + payload


def metadata_member(metadata):
    text = json.dumps(metadata).encode()
    return npy_member("|u1", (len(text),), text)


VALID_METADATA = {"format": "nn-checkpoint", "version": 1, "model_keys": ["w"]}


def write_archive(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def good_members(**extra):
    members = {"model.w.npy": npy_member("<f8", (2,), np.array([1.0, 2.0]).tobytes()),
               "__metadata__.npy": metadata_member(VALID_METADATA)}
    members.update(extra)
    return members


def test_crafted_archive_loads_when_valid(tmp_path):
    path = write_archive(tmp_path / "ok.npz", good_members())
    np.testing.assert_array_equal(load(path)["w"].data, [1.0, 2.0])


def test_member_declaring_32_tib_is_refused_before_allocating(tmp_path):
    huge = npy_member("<f8", (1 << 42,), b"\x00" * 16)
    path = write_archive(tmp_path / "huge.npz", good_members(**{"model.w.npy": huge}))
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError, match=r"huge\.npz.*model\.w\.npy.*declares shape"):
            load(path)
        assert tracemalloc.get_traced_memory()[1] < 2_000_000
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("descr, payload, reason", [
    ("<U3", b"a\0\0\0b\0\0\0c\0\0\0", "dtype <U3"),
    ("|S4", b"abcd", "dtype |S4"),
    ("|V8", b"\0" * 8, "dtype |V8"),
    ([("a", "<f8")], b"\0" * 8, r"dtype \[\('a'"),
    ("|O", b"\x80\x04N.", "object array"),
])
def test_non_numeric_members_are_refused(tmp_path, descr, payload, reason):
    path = write_archive(tmp_path / "typed.npz",
                         good_members(**{"model.w.npy": npy_member(descr, (1,), payload)}))
    with pytest.raises(CheckpointError, match=rf"typed\.npz.*model\.w\.npy.*{reason}"):
        load(path)


def test_non_npy_member_is_refused(tmp_path):
    path = write_archive(tmp_path / "extra.npz", good_members(**{"notes.txt": b"hello"}))
    with pytest.raises(CheckpointError, match=r"extra\.npz.*notes\.txt.*not a \.npy"):
        load(path)


@pytest.mark.parametrize("shape", [(-1,), (2.0,), "2", (2, None), (1,) * 65])
def test_invalid_shapes_are_refused(tmp_path, shape):
    path = write_archive(tmp_path / "shape.npz",
                         good_members(**{"model.w.npy": npy_member("<f8", shape, b"\0" * 16)}))
    with pytest.raises(CheckpointError, match=r"shape\.npz.*model\.w\.npy"):
        load(path)


def patch_all(raw, signature, offset, value, size):
    """Overwrite a field at ``offset`` after every zip header with ``signature``."""
    data, start = bytearray(raw), raw.find(signature)
    while start >= 0:
        data[start + offset:start + offset + size] = value.to_bytes(size, "little")
        start = raw.find(signature, start + 1)
    return bytes(data)


@pytest.mark.parametrize("field, local, central, value, match", [
    ("compression method", 8, 10, 99, "compression method 99"),
    ("encryption flag", 6, 8, 1, "encrypted"),
])
def test_zip_header_fields_zipfile_trips_on_are_refused(original, tmp_path, field, local,
                                                         central, value, match):
    raw = patch_all(original[0], b"PK\x03\x04", local, value, 2)
    raw = patch_all(raw, b"PK\x01\x02", central, value, 2)
    path = tmp_path / "patched.npz"
    path.write_bytes(raw)
    with pytest.raises(CheckpointError, match=rf"patched\.npz.*{match}"):
        load(path)


def test_member_larger_than_the_file_is_refused(original, tmp_path):
    # Central directory "uncompressed size" (offset 24) of every member set to 4 GiB.
    raw = patch_all(original[0], b"PK\x01\x02", 24, 0xFFFFFFF0, 4)
    path = tmp_path / "sizes.npz"
    path.write_bytes(raw)
    with pytest.raises(CheckpointError, match=r"sizes\.npz"):
        load(path)


@pytest.mark.parametrize("metadata, match", [
    ([1, 2], "not an nn-checkpoint file"),
    ({"version": 1, "model_keys": []}, "not an nn-checkpoint file"),
    ({**VALID_METADATA, "version": "1"}, "'version' must be a positive integer"),
    ({**VALID_METADATA, "version": True}, "'version' must be a positive integer"),
    ({**VALID_METADATA, "version": 99}, "format version 99"),
    ({**VALID_METADATA, "model_keys": "w"}, "'model_keys' must be a list of strings"),
    ({**VALID_METADATA, "model_keys": [1]}, "'model_keys' must be a list of strings"),
    ({**VALID_METADATA, "model_keys": ["w", "w"]}, "lists a key twice"),
    ({**VALID_METADATA, "model_keys": ["w", "v"]}, "lists model entry 'v'"),
    ({k: v for k, v in VALID_METADATA.items() if k != "model_keys"}, "'model_keys'"),
    ({**VALID_METADATA, "optimizer": []}, "'optimizer' must be an object"),
    ({**VALID_METADATA, "optimizer": {"param_groups": {}}}, "'param_groups' list"),
    ({**VALID_METADATA, "optimizer": {"param_groups": [{"params": "0"}]}}, "'params' list"),
    ({**VALID_METADATA, "optimizer": {"param_groups": [{"params": [-1]}]}}, "'params' list"),
    ({**VALID_METADATA, "optimizer": {"param_groups": [], "scalars": {"x": {}}}}, "'scalars'"),
    ({**VALID_METADATA, "optimizer": {"param_groups": [], "scalars": {"0": 5}}}, "'scalars'"),
    ({**VALID_METADATA, "optimizer": {"param_groups": [{"params": [0],
                                                         "betas": {"__tuple__": 3}}]}},
     "tagged tuple"),
])
def test_malformed_metadata_raises_checkpoint_error(tmp_path, metadata, match):
    path = write_archive(tmp_path / "meta.npz",
                         good_members(**{"__metadata__.npy": metadata_member(metadata)}))
    with pytest.raises(CheckpointError, match=rf"meta\.npz.*{match}"):
        load(path, with_optimizer=True)


def test_deeply_nested_metadata_raises_checkpoint_error(tmp_path):
    nested = "[" * 100_000 + "]" * 100_000
    text = ('{"format": "nn-checkpoint", "version": 1, "model_keys": ["w"], "x": '
            + nested + "}").encode()
    path = write_archive(tmp_path / "deep.npz", good_members(
        **{"__metadata__.npy": npy_member("|u1", (len(text),), text)}))
    with pytest.raises(CheckpointError, match=r"deep\.npz.*metadata"):
        load(path)


# --- how files are created --------------------------------------------------------------
@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_save_creates_the_file_with_the_umask_like_open(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        save({"w": np.zeros(2)}, tmp_path / "ckpt.npz")
        with open(tmp_path / "reference", "wb"):
            pass
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(tmp_path / "ckpt.npz").st_mode) == mode
    assert stat.S_IMODE(os.stat(tmp_path / "reference").st_mode) == mode


def test_save_into_a_missing_folder_names_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nn\.save.*folder '.*absent' does not exist"):
        save({"w": np.zeros(2)}, tmp_path / "absent" / "ckpt.npz")


def dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_next_save_removes_stale_temporaries_of_the_same_target_only(tmp_path):
    target = tmp_path / "ckpt.npz"
    stale = tmp_path / f".ckpt.npz.{dead_pid()}.deadbeef.tmp"
    live = tmp_path / f".ckpt.npz.{os.getppid()}.cafef00d.tmp"   # a live process's write
    other = tmp_path / f".other.npz.{dead_pid()}.deadbeef.tmp"  # another target's
    for path in (stale, live, other):
        path.write_bytes(b"partial")
    save({"w": np.zeros(2)}, target)
    assert not stale.exists() and live.exists() and other.exists()
    np.testing.assert_array_equal(load(target)["w"].data, np.zeros(2))


def test_interrupted_save_leaves_no_temporary_and_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "ckpt.npz"
    save({"w": np.ones(3)}, target)

    def interrupted_savez(file, **arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted_savez)
    with pytest.raises(KeyboardInterrupt):
        save({"w": np.zeros(3)}, target)
    monkeypatch.undo()
    np.testing.assert_array_equal(load(target)["w"].data, np.ones(3))
    assert temporary_files_of(target) == []


# --- kill -9 during nn.save --------------------------------------------------------------
# A fork server: imports nn once, then for each line on stdin forks a saver that saves in
# a loop (reporting its first completed save) until the test kills it with SIGKILL; the
# server reaps it, so its pid is dead when the next save looks for stale temp files.
FORK_SERVER = """
import os, sys
import numpy as np
from nn.checkpoint import save
target = sys.argv[1]
for _ in sys.stdin:
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        step = 0
        while True:
            save({"w": np.full((256, 1024), float(step)), "step": np.array(step)}, target)
            if step == 0:
                os.write(1, b"saved\\n")
            step += 1
    print(pid, flush=True)
    os.waitpid(pid, 0)
    print("reaped", flush=True)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the kill -9 harness forks (POSIX)")
def test_kill_minus_9_during_save_always_leaves_an_intact_checkpoint(tmp_path):
    """Each trial kills a process saving in a loop at a random moment after its first
    save; the checkpoint must load intact, and the next save must clear any temp file."""
    rng = random.Random(0)
    target, survived, mid_write = tmp_path / "ckpt.npz", 0, 0
    env = {**os.environ, "PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": "1"}
    server = subprocess.Popen([sys.executable, "-c", FORK_SERVER, str(target)], cwd=REPO,
                              env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    pid = None
    try:
        for _ in range(KILL_TRIALS):
            server.stdin.write("go\n")
            server.stdin.flush()
            lines = {server.stdout.readline().strip() for _ in range(2)}
            assert "saved" in lines, lines
            (pid,) = {int(line) for line in lines if line.isdigit()}
            time.sleep(rng.uniform(0.0, 0.03))
            os.kill(pid, signal.SIGKILL)
            pid = None
            assert server.stdout.readline().strip() == "reaped"
            state = load(target)
            values = state["w"].data
            assert values.shape == (256, 1024) and (values == values[0, 0]).all()
            assert int(state["step"].data) == values[0, 0]
            survived += 1
            mid_write += bool(temporary_files_of(target))
    finally:
        if pid is not None:  # a failed check left a saver running
            os.kill(pid, signal.SIGKILL)
        server.stdin.close()
        server.wait(timeout=60)
        server.stdout.close()
    save({"w": np.zeros(1)}, target)
    assert temporary_files_of(target) == []
    assert survived == KILL_TRIALS
    print(f"kill -9 trials: {survived}/{KILL_TRIALS} intact, {mid_write} killed mid-write")
