"""The stack of active function transforms (``jvp`` and ``vmap`` levels), JAX-style.

While a transform runs its function, its level sits on the thread-local stack
``state.flags.transforms`` (outermost first). ``apply`` checks that stack once: when it is
not empty, the innermost level that *owns* one of the op's inputs (a forward level: the
input has a tangent there; a batching level: the input is one of its BatchedTensors)
processes the op, with the stack lowered to the levels outside it. Whatever that level
computes (the primal op, the tangent rule, the batched op) therefore goes through
``apply`` again and is seen by the outer levels only: nesting works in any order
(``jvp(vmap(f))``, ``vmap(jvp(f))``, ``jacfwd(jacfwd(f))``) without perturbation
confusion, and an op that no level owns runs as plain ``apply``.

With no transform active the stack is the empty tuple and ``apply`` pays one attribute
read.
"""
import contextlib

from .grad_mode import state
from .op import apply


class Level:
    """One active transform. Subclasses define ``owns(value)`` and ``process``."""

    def owns(self, value):
        raise NotImplementedError

    def process(self, op_cls, inputs, params):
        """Run ``op_cls`` on ``inputs`` for this level; the stack is already lowered."""
        raise NotImplementedError

    def dispatch(self, op_cls, inputs, params):
        """Called by ``apply`` on the top level: hand the op to its innermost owner."""
        return dispatch(op_cls, inputs, params)


def dispatch(op_cls, inputs, params):
    stack = state.flags.transforms
    for depth in range(len(stack) - 1, -1, -1):
        level = stack[depth]
        for value in inputs:
            if level.owns(value):
                state.flags.transforms = stack[:depth]
                try:
                    return level.process(op_cls, inputs, params)
                finally:
                    state.flags.transforms = stack
    state.flags.transforms = ()
    try:
        return apply(op_cls, inputs, params)
    finally:
        state.flags.transforms = stack


@contextlib.contextmanager
def pushed(level):
    """Make ``level`` the innermost active transform for the block."""
    outer = state.flags.transforms
    state.flags.transforms = outer + (level,)
    try:
        yield level
    finally:
        state.flags.transforms = outer


@contextlib.contextmanager
def lowered_to(depth):
    """Run the block with only the ``depth`` outermost levels active."""
    stack = state.flags.transforms
    state.flags.transforms = stack[:depth]
    try:
        yield
    finally:
        state.flags.transforms = stack


def active_levels():
    return state.flags.transforms

