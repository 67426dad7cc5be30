"""Checkpoints: model + optimizer round trip, atomic writes, no pickle ever, clear errors."""
import os
import pickle

import numpy as np
import pytest

import nn.checkpoint as checkpoint
from autograd import Tensor
from nn import optim
from nn.checkpoint import CheckpointError, load, save
from nn.module import Module
from nn.parameter import Parameter


class Tiny(Module):
    """Parameters of two dtypes and an integer buffer, like a layer with BatchNorm."""

    def __init__(self, seed=0, width=3):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.weight = Parameter(rng.standard_normal((width, 2)))
        self.bias = Parameter(rng.standard_normal(width).astype(np.float32))
        self.scale = Parameter(np.array(1.5))
        self.register_buffer("num_batches_tracked", Tensor(np.array(7, dtype=np.int64)))

    def forward(self, x):
        return ((x @ self.weight.T + self.bias) * self.scale).sum()


def train(model, optimizer, steps, seed):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        optimizer.zero_grad()
        model(Tensor(rng.standard_normal((4, 2)))).backward()
        optimizer.step()


def test_round_trip_model_and_optimizer_resumes_identically(tmp_path):
    path = tmp_path / "ckpt.npz"
    model = Tiny()
    opt = optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.9), amsgrad=True)
    train(model, opt, 3, seed=1)
    save(model.state_dict(), path, optimizer=opt)

    restored, restored_opt = Tiny(seed=5), None
    restored_opt = optim.Adam(restored.parameters(), lr=0.5)
    state_dict, optimizer_state = load(path, with_optimizer=True)
    assert list(state_dict) == list(model.state_dict())
    for key, value in model.state_dict().items():
        assert isinstance(state_dict[key], Tensor)
        assert state_dict[key].dtype == value.dtype
        np.testing.assert_array_equal(state_dict[key].data, value.data)
    restored.load_state_dict(state_dict)
    restored_opt.load_state_dict(optimizer_state)
    assert restored_opt.param_groups[0]["betas"] == (0.8, 0.9)
    assert restored_opt.param_groups[0]["lr"] == 0.01
    assert restored_opt.state[restored.weight]["step"] == 3

    train(model, opt, 2, seed=2)
    train(restored, restored_opt, 2, seed=2)
    for (name, a), (_, b) in zip(model.state_dict().items(), restored.state_dict().items()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)


def test_plain_load_returns_the_state_dict(tmp_path):
    model = Tiny()
    save(model.state_dict(), tmp_path / "plain.npz")
    state_dict = load(tmp_path / "plain.npz")
    assert isinstance(state_dict, dict) and list(state_dict) == list(model.state_dict())
    assert load(tmp_path / "plain.npz", with_optimizer=True)[1] is None


def test_saves_exactly_at_the_given_path(tmp_path):
    path = tmp_path / "no_suffix"
    save({"w": np.ones(2)}, str(path), optimizer_state={"state": {}, "param_groups": []})
    assert sorted(os.listdir(tmp_path)) == ["no_suffix"]
    assert list(load(path)) == ["w"]


def test_mismatched_checkpoint_leaves_model_unchanged(tmp_path):
    save(Tiny(width=4).state_dict(), tmp_path / "wide.npz")
    model = Tiny()
    before = {key: value.data.copy() for key, value in model.state_dict().items()}
    with pytest.raises(ValueError, match="weight"):
        model.load_state_dict(load(tmp_path / "wide.npz"))
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.data, before[key])


# --- atomic writes ---------------------------------------------------------------------------
class Crash(Exception):
    pass


def crashing_savez(file, **arrays):
    """Write half an archive, then die, like a process killed mid-write."""
    file.write(b"PK\x03\x04" + b"\0" * 64)
    raise Crash("killed while writing")


def test_crash_during_first_write_leaves_no_file(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint.np, "savez", crashing_savez)
    with pytest.raises(Crash):
        save({"w": np.ones(3)}, tmp_path / "ckpt.npz")
    assert os.listdir(tmp_path) == [], "neither the checkpoint nor a temp file may remain"


def test_crash_during_overwrite_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    save({"w": np.arange(3.0)}, path)
    monkeypatch.setattr(checkpoint.np, "savez", crashing_savez)
    with pytest.raises(Crash):
        save({"w": np.zeros(3)}, path)
    monkeypatch.undo()
    np.testing.assert_array_equal(load(path)["w"].data, np.arange(3.0))
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_failed_rename_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    save({"w": np.arange(3.0)}, path)

    def failing_replace(source, target):
        raise OSError("disk full")
    monkeypatch.setattr(checkpoint.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        save({"w": np.zeros(3)}, path)
    monkeypatch.undo()
    np.testing.assert_array_equal(load(path)["w"].data, np.arange(3.0))
    assert os.listdir(tmp_path) == ["ckpt.npz"]


# --- no pickle, ever -------------------------------------------------------------------------
class LeavesAMark:
    """Unpickling this creates the marker file: the side effect an attacker's code would have."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def metadata_entry(keys):
    import json
    text = json.dumps({"format": checkpoint.FORMAT, "version": 1, "model_keys": keys})
    return np.frombuffer(text.encode(), dtype=np.uint8)


def test_object_array_inside_npz_is_rejected_without_running_code(tmp_path):
    marker, path = tmp_path / "marker", tmp_path / "evil.npz"
    np.savez(path, **{"model.w": np.array([LeavesAMark(marker)], dtype=object),
                      "__metadata__": metadata_entry(["w"])})
    with pytest.raises(CheckpointError, match=r"evil\.npz.*object array.*refusing"):
        load(path)
    assert not marker.exists(), "loading ran code from the file"
    # The file really is malicious: NumPy with pickle allowed would have run it.
    np.load(path, allow_pickle=True)["model.w"]
    assert marker.exists()


def test_pickle_file_disguised_as_npz_is_rejected_without_running_code(tmp_path):
    marker, path = tmp_path / "marker", tmp_path / "disguised.npz"
    path.write_bytes(pickle.dumps(LeavesAMark(marker)))
    with pytest.raises(CheckpointError, match=r"disguised\.npz.*pickle"):
        load(path)
    assert not marker.exists()


def test_save_refuses_object_arrays(tmp_path):
    with pytest.raises(TypeError, match="'w' must be a numeric array, got dtype object"):
        save({"w": np.array([{"a": 1}], dtype=object)}, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []


# --- damaged files ---------------------------------------------------------------------------
@pytest.mark.parametrize("keep", [0.0, 0.3, 0.6, 0.95])
def test_truncated_file_gives_a_clear_error(tmp_path, keep):
    path = tmp_path / "cut.npz"
    model, opt = Tiny(), None
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    train(model, opt, 1, seed=3)
    save(model.state_dict(), path, optimizer=opt)
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])
    with pytest.raises(CheckpointError, match=r"'.*cut\.npz'.*(truncated|corrupt)"):
        load(path)


def test_garbage_and_foreign_files_give_clear_errors(tmp_path):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(os.urandom(256))
    with pytest.raises(CheckpointError, match="garbage.npz"):
        load(garbage)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, w=np.ones(2))
    with pytest.raises(CheckpointError, match="not a checkpoint written by nn.save"):
        load(foreign)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.npz")


def test_contract_names():
    import nn
    assert nn.save is save and nn.load is load
