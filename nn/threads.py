"""How many BLAS threads the matrix products get: a fast default, and the knobs.

OpenBLAS starts one thread per core and its threads spin while they wait for work.
For the small products of a training step (an MLP at batch 100: at most ~25 million
multiply-adds each) a second thread saves nothing on a quiet machine, and as soon as
another process keeps a core busy it costs several times the single-thread time: the
product waits for a thread that is not running. So, unless the user chose:

* every product runs on one BLAS thread (set once, when ``nn`` is imported);
* a product of at least ``LARGE_GEMM_MACS`` multiply-adds (``gemm_threads(macs)``,
  used by the layer ops) runs on the cores that the load average says are free,
  all of them on an idle machine, one when another process keeps them busy.

Choices that win over this default, strongest first:

* ``nn.set_num_threads(n)``: n threads for every product from now on
  (``nn.set_num_threads("auto")`` goes back to the default);
* the environment variable ``NN_NUM_THREADS`` (a number, or ``auto``) read at import;
* ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS`` or
  ``BLIS_NUM_THREADS``: if any is set, ``nn`` leaves the BLAS as that variable made it.

Thread counts are set through ``threadpoolctl``; without it installed, ``nn`` changes
nothing and the BLAS keeps its own default.
"""
import contextlib
import math
import os
import time

__all__ = ["set_num_threads", "get_num_threads", "gemm_threads", "LARGE_GEMM_MACS"]

# Below this many multiply-adds a product runs on one thread: ~10 ms single-threaded,
# long enough for more threads to pay on free cores, and 5x the notes' largest MLP GEMM.
LARGE_GEMM_MACS = 1 << 27
BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                  "BLIS_NUM_THREADS")
LOAD_REFRESH_SECONDS = 1.0


def _usable_cores():
    """The cores this process may run on (its affinity mask, e.g. under taskset)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class _Policy:
    """The BLAS libraries' controllers and the current choice ("auto", an int, or None
    when the user's environment decides)."""

    def __init__(self):
        self.controllers = None
        self.choice = None
        self.cores = _usable_cores()
        self.current = None
        self.free_cores, self.load_read_at = 1, -math.inf

    def blas(self):
        if self.controllers is None:
            try:
                from threadpoolctl import ThreadpoolController
            except ImportError:
                self.controllers = []
            else:
                self.controllers = ThreadpoolController().select(user_api="blas").lib_controllers
        return self.controllers

    def set_threads(self, count):
        if count != self.current:
            for controller in self.blas():
                controller.set_num_threads(count)
            self.current = count

    def large_gemm_threads(self):
        """Cores free for one large product: the cores less the other processes'
        load (the 1-minute load average counts this process as 1), at least 1."""
        now = time.monotonic()
        if now - self.load_read_at > LOAD_REFRESH_SECONDS:
            try:
                others = max(0.0, os.getloadavg()[0] - 1.0)
            except OSError:
                others = 0.0
            self.free_cores = max(1, min(self.cores, self.cores - math.ceil(others - 0.25)))
            self.load_read_at = now
        return self.free_cores


_policy = _Policy()


def set_num_threads(count):
    """Use ``count`` BLAS threads for every matrix product, or ``"auto"`` (the default:
    one thread, large products on the free cores).

    Raises:
        ValueError: ``count`` is neither a positive integer nor ``"auto"``.
    """
    if count == "auto":
        _policy.choice = "auto"
        _policy.set_threads(1)
        return
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"nn.set_num_threads: expected a positive integer or 'auto', "
                         f"got {count!r}")
    _policy.choice = count
    _policy.set_threads(count)


def get_num_threads():
    """The BLAS threads a small matrix product gets now (the BLAS's own count when
    ``nn`` leaves it alone; 1 without threadpoolctl's information)."""
    if _policy.current is not None:
        return _policy.current
    counts = [controller.num_threads for controller in _policy.blas()]
    return max(counts) if counts else 1


@contextlib.contextmanager
def _threads(count):
    _policy.set_threads(count)
    try:
        yield
    finally:
        _policy.set_threads(1)


_SAME = contextlib.nullcontext()


def gemm_threads(macs):
    """A context for one product of ``macs`` multiply-adds: under the "auto" default a
    large one runs on the free cores; otherwise nothing changes. For op writers::

        with nn.threads.gemm_threads(m * k * n):
            out = a @ b
    """
    if macs < LARGE_GEMM_MACS or _policy.choice != "auto":
        return _SAME
    count = _policy.large_gemm_threads()
    return _SAME if count == 1 else _threads(count)


def _configure_from_environment():
    """The import-time default: NN_NUM_THREADS, else leave a user's BLAS variable be,
    else "auto"."""
    value = os.environ.get("NN_NUM_THREADS", "").strip()
    if value:
        try:
            set_num_threads(value if value == "auto" else int(value))
        except ValueError:
            raise ValueError(f"NN_NUM_THREADS must be a positive integer or 'auto', "
                             f"got {value!r}") from None
        return
    if any(os.environ.get(name) for name in BLAS_VARIABLES):
        return
    set_num_threads("auto")


_configure_from_environment()
