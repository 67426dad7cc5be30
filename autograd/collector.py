"""Python's cyclic garbage collector while a large graph is being recorded.

The collector's older-generation passes traverse every tracked object, and each recorded
op adds a few (the result tensor, its op, the inputs tuple). While a graph grows to
100,000 ops the passes that the growth triggers cost as much as recording itself
(measured: 5-6 of 13 us per op); at 3,000 ops they cost 5-7% of the wall time of a chain
of small ops, which a pause after 1,000 ops removes. The graph needs no collector (it has
no reference cycles: it is freed by reference counting), so once a graph has grown past
``PAUSE_AFTER`` recorded ops since the last backward, the collector is paused until the
graph is consumed by a backward or dropped (the op recorded at the pause is watched with
a weak reference). An MLP's training step records a few dozen ops between backward passes
and never pauses it; a program that disabled the collector itself keeps it disabled.
"""
import gc
import itertools
import weakref

PAUSE_AFTER = 1_000

# Drawn by every recorded op (``Op.sequence``): an op is recorded after its inputs, so
# ascending sequence is a topological order of any graph, and the distance between two
# numbers bounds the ops recorded between them.
SEQUENCE = itertools.count(1)


class RecordingWatch:
    """When to pause the collector, and whether we paused it. ``deadline``: the sequence
    number past which recording pauses it (``limit`` ops after the last backward);
    ``anchor``: a weak reference to the op result recorded at the pause."""

    __slots__ = ("limit", "deadline", "anchor")

    def __init__(self, limit=PAUSE_AFTER):
        self.limit = limit
        self.deadline = limit
        self.anchor = None

    def pause(self, node):
        """Called by ``apply`` when an op's sequence number passes ``deadline``."""
        if self.anchor is None and gc.isenabled():
            gc.disable()
            self.anchor = weakref.ref(node, self._graph_dropped)
        else:  # the collector is off already: look again after as many ops
            self.deadline = next(SEQUENCE) + self.limit

    def resume(self):
        """A backward consumed the graph: count afresh and restart the collector we paused."""
        self.deadline = next(SEQUENCE) + self.limit
        if self.anchor is not None:
            self.anchor = None
            gc.enable()

    def _graph_dropped(self, _reference):
        self.resume()


watch = RecordingWatch()
