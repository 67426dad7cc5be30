"""nn's BLAS-thread default and its knobs (nn/threads.py)."""
import os
import subprocess
import sys

import pytest

import nn
from nn import threads

pytest.importorskip("threadpoolctl")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def restore_threads():
    """Put the process's BLAS threads back as they were (other tests share them)."""
    choice, count = threads._policy.choice, nn.get_num_threads()
    yield
    nn.set_num_threads(choice if choice is not None else count)
    threads._policy.choice = choice


def threads_at_import(**variables):
    """nn.get_num_threads() in a fresh interpreter whose environment has only these
    thread variables set."""
    env = {key: value for key, value in os.environ.items()
           if key not in threads.BLAS_VARIABLES + ("NN_NUM_THREADS",)}
    env.update(variables, PYTHONPATH=ROOT)
    done = subprocess.run([sys.executable, "-c", "import nn; print(nn.get_num_threads())"],
                          env=env, capture_output=True, text=True, check=True)
    return int(done.stdout.strip())


def test_default_is_one_thread_and_variables_override_it():
    assert threads_at_import() == 1
    assert threads_at_import(NN_NUM_THREADS="2") == 2
    assert threads_at_import(OPENBLAS_NUM_THREADS="2") == 2   # the user's choice stays


def test_set_num_threads(restore_threads):
    nn.set_num_threads(2)
    assert nn.get_num_threads() == 2
    assert threads.gemm_threads(1 << 40) is threads._SAME   # a fixed count: no switching
    nn.set_num_threads("auto")
    assert nn.get_num_threads() == 1
    for bad in (0, -1, 1.5, "many", True):
        with pytest.raises(ValueError, match="nn.set_num_threads"):
            nn.set_num_threads(bad)


def test_only_large_products_use_free_cores(restore_threads, monkeypatch):
    nn.set_num_threads("auto")
    monkeypatch.setattr(threads._policy, "cores", 3)
    monkeypatch.setattr(threads._policy, "load_read_at", float("-inf"))
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (1.0, 1.0, 1.0))   # only us
    assert threads.gemm_threads(threads.LARGE_GEMM_MACS - 1) is threads._SAME
    with threads.gemm_threads(threads.LARGE_GEMM_MACS):
        assert nn.get_num_threads() == 3
    assert nn.get_num_threads() == 1
    monkeypatch.setattr(threads._policy, "load_read_at", float("-inf"))
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (2.0, 2.0, 2.0))   # one other
    with threads.gemm_threads(threads.LARGE_GEMM_MACS):
        assert nn.get_num_threads() == 2
    monkeypatch.setattr(threads._policy, "load_read_at", float("-inf"))
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (9.0, 9.0, 9.0))   # busy machine
    assert threads.gemm_threads(threads.LARGE_GEMM_MACS) is threads._SAME
