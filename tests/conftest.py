"""Test-wide setup: Hypothesis profiles, and every op registered before collection.

Profiles (pick one with the environment variable HYPOTHESIS_PROFILE):
    ci   (default) derandomized, no example database, 50 examples per test, so the
         whole registry-driven suite runs in a few minutes on two cores.
    dev  random and many more examples, for hunting bugs locally.
"""
import os

# Test arrays are tiny: BLAS threads only add synchronisation, and on a shared 2-core
# machine spinning OpenBLAS threads slow small products tenfold. Set before NumPy loads.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import pytest
from hypothesis import HealthCheck, settings

# The registry-driven tests parametrize over autograd.op.REGISTRY when they are
# collected; importing nn first makes the ops it registers (conv2d, ...) part of it.
import autograd  # noqa: F401
import nn  # noqa: F401

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=50,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    max_examples=150,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def torch():
    """PyTorch, for the parity tests that compare against it; those tests alone are
    skipped where it is not installed, and every other test in the file still runs."""
    return pytest.importorskip("torch")
