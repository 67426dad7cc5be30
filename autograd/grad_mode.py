"""Grad mode: whether ops record a graph. Thread-local, like PyTorch's.

The same thread-local object also carries the current module scope (set by
``nn.Module.__call__``) so that recorded ops can be grouped by module in graph
drawings. Hot paths read ``state.flags`` (a plain object) once and its slots after it.
"""
import functools
import threading


class Flags:
    """One thread's switches. A plain object: reading a thread-local's attribute costs
    ~180 ns on the machines we measure, and ``apply`` needs four of these per op, so the
    hot paths read ``state.flags`` once and these slots after it."""

    __slots__ = ("enabled", "scope", "anomaly", "transforms")

    def __init__(self):
        self.enabled = True
        self.scope = None        # dotted module path of the module whose forward is running
        self.anomaly = False     # set by autograd.detect_anomaly
        self.transforms = ()     # active jvp/vmap levels, outermost first (transform_levels)


def _flag(name):
    return property(lambda self: getattr(self.flags, name),
                    lambda self, value: setattr(self.flags, name, value))


class _ThreadState(threading.local):
    """``state.enabled`` etc. for everything but the hot paths: the current thread's Flags."""

    def __init__(self):
        self.flags = Flags()

    enabled = _flag("enabled")
    scope = _flag("scope")
    anomaly = _flag("anomaly")
    transforms = _flag("transforms")


state = _ThreadState()


def is_grad_enabled():
    """True when ops record a graph for backward in this thread."""
    return state.flags.enabled


class _GradModeContext:
    """Context manager and decorator that sets grad mode, restoring it afterwards."""

    mode = True

    def __enter__(self):
        flags = self._flags = state.flags
        self._previous = flags.enabled
        flags.enabled = self.mode
        return self

    def __exit__(self, *exc_info):
        self._flags.enabled = self._previous
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with type(self)():
                return func(*args, **kwargs)
        return wrapper


class no_grad(_GradModeContext):
    """Disable graph recording: ``with no_grad(): ...`` or ``@no_grad()``."""

    mode = False


class enable_grad(_GradModeContext):
    """Enable graph recording, also inside ``no_grad``."""

    mode = True


class set_grad_enabled(_GradModeContext):
    """Set grad mode to ``mode``: ``with set_grad_enabled(training): ...``."""

    def __init__(self, mode):
        self.mode = bool(mode)

    def __call__(self, func):
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return func(*args, **kwargs)
        return wrapper
