"""The public door for whoever writes ops or layers (``nn`` and ``viz`` included).

    from autograd.extend import Op, register, apply, value_of

    @register("log_cosh", method=True, sample=..., torch=...)
    class LogCosh(Op):
        def forward(self, x):
            return np.logaddexp(x, -x) - np.log(2.0)

        def vjp(self, g, out, x):
            return (g * tanh(x),)

        def jvp(self, tangents, out, x):      # forward mode (optional; see forward_mode)
            return tangents[0] * tanh(x)

Everything here is stable API; names outside this module and ``autograd/__init__``
that start with an underscore are the engine's own business.
"""
from .grad_mode import state
from .batching import (batch_elementwise, batch_leading, batch_loop, batch_merged,
                       batch_reduction, logical_shape, materialized, with_rank)
from .forward_mode import linear_jvp, multilinear_jvp, symmetric_jvp, tangent_sum
from .inplace import bump_version, bump_versions
from .backward import topological_order
from .op import REGISTRY, Op, OpEntry, apply, functions, register, value_of

__all__ = ["Op", "OpEntry", "REGISTRY", "register", "apply", "value_of", "functions",
           "bump_version", "bump_versions", "name_scope", "current_scope", "topological_order",
           "linear_jvp", "multilinear_jvp", "symmetric_jvp", "tangent_sum",
           "batch_elementwise", "batch_leading", "batch_loop", "batch_merged", "batch_reduction",
           "logical_shape", "materialized", "with_rank"]


class name_scope:
    """``with name_scope(path):`` tags every op recorded inside with the dotted module path.

    ``nn.Module.__call__`` uses it so that graph drawings group ops by layer and anomaly
    messages name the layer; nest freely (the outer scope comes back afterwards). A
    class rather than a generator: it runs once per module call.
    """

    __slots__ = ("path", "_outer", "_flags")

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        flags = self._flags = state.flags  # one thread-local read per module call
        self._outer = flags.scope
        flags.scope = self.path
        return self.path

    def __exit__(self, *exc_info):
        self._flags.scope = self._outer
        return False


def current_scope():
    """The dotted module path of the innermost ``name_scope`` (None at top level)."""
    return state.flags.scope
