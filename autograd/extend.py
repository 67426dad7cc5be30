"""The public door for whoever writes ops or layers (``nn`` and ``viz`` included).

    from autograd.extend import Op, register, apply, value_of

    @register("log_cosh", method=True, sample=..., torch=...)
    class LogCosh(Op):
        def forward(self, x):
            return np.logaddexp(x, -x) - np.log(2.0)

        def vjp(self, g, out, x):
            return (g * tanh(x),)

Everything here is stable API; names outside this module and ``autograd/__init__``
that start with an underscore are the engine's own business.
"""
from .grad_mode import state
from .inplace import bump_version
from .backward import topological_order
from .op import REGISTRY, Op, OpEntry, apply, functions, register, value_of

__all__ = ["Op", "OpEntry", "REGISTRY", "register", "apply", "value_of", "functions",
           "bump_version", "name_scope", "current_scope", "topological_order"]


class name_scope:
    """``with name_scope(path):`` tags every op recorded inside with the dotted module path.

    ``nn.Module.__call__`` uses it so that graph drawings group ops by layer and anomaly
    messages name the layer; nest freely (the outer scope comes back afterwards). A
    class rather than a generator: it runs once per module call.
    """

    __slots__ = ("path", "_outer")

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        self._outer = state.scope
        state.scope = self.path
        return self.path

    def __exit__(self, *exc_info):
        state.scope = self._outer
        return False


def current_scope():
    """The dotted module path of the innermost ``name_scope`` (None at top level)."""
    return state.scope
