"""Version counters: how backward notices a value changed in place after it was recorded.

Every in-place change of a tensor bumps its counter and stamps it with the global
mutation clock. A view (``reshape``, basic slicing, ``transpose``, ``detach``, ``.T``)
shares the counter of the tensor it views, as in PyTorch, so a write through any of
them is seen by all. An op recorded at clock t whose inputs carry a later stamp would
read changed values in its VJP; backward then raises instead of computing a wrong
gradient. Tensors start with no counter (None): most are never written in place, and
creating a graph node must stay cheap.
"""


class VersionCounter:
    """Shared by a tensor and its views: how often they were changed, when, and by what."""

    __slots__ = ("version", "clock", "by")

    def __init__(self):
        self.version = 0
        self.clock = 0
        self.by = None


class _Clock:
    """The global mutation clock: bumped by every in-place change of any tensor."""

    __slots__ = ("now",)

    def __init__(self):
        self.now = 0


clock = _Clock()


def counter_of(tensor):
    """The tensor's version counter, created on first use."""
    counter = tensor._counter
    if counter is None:
        counter = tensor._counter = VersionCounter()
    return counter


def share_counter(view, base):
    """Make ``view`` see (and make seen) every in-place change of ``base``."""
    view._counter = counter_of(base)


def bump(tensor, what):
    """Record that ``tensor`` (and so every view sharing its counter) changed in place."""
    counter = counter_of(tensor)
    clock.now += 1
    counter.version += 1
    counter.clock = clock.now
    counter.by = what


def bump_all(tensors, what):
    """``bump`` for each of ``tensors``, all at one clock tick (an optimizer's step)."""
    clock.now += 1
    now = clock.now
    for tensor in tensors:
        counter = tensor._counter
        if counter is None:
            counter = tensor._counter = VersionCounter()
        counter.version += 1
        counter.clock = now
        counter.by = what


def changed_since(tensor, when):
    """True when ``tensor`` was changed in place after clock time ``when``."""
    counter = tensor._counter
    return counter is not None and counter.clock > when
