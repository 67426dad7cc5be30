"""The op registry: every differentiable operation is defined once, here registered.

An op is a small class with ``forward`` (on ndarrays) and ``vjp`` (vector-Jacobian
product) side by side. ``register`` turns it into the public function, the Tensor
method/operators and the NumPy dispatch entries, and keeps its test hints so that
the generated tests can check every op against finite differences and PyTorch.

``vjp(grad, out, *inputs)`` receives the output gradient, the op's output and its
inputs. On a plain backward they are ndarrays and the VJP runs at NumPy speed; under
``create_graph=True`` they are Tensors and the same lines record a differentiable
graph. So a VJP uses only operators, methods and functions that work on both.
"""
import functools
import inspect
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from . import versions
from .collector import SEQUENCE, watch
from .grad_mode import state
from .tensor import Tensor

REGISTRY = {}
_PUBLIC = {}  # public name or alias -> function, see public_functions
_EMPTY = {}


class Op:
    """Base class of registered ops. Subclasses define ``forward`` and ``vjp``.

    ``forward(*arrays, **params)`` gets ndarrays (or Python scalars) and keyword-only
    parameters; it may save intermediates on ``self`` for the VJP. ``vjp`` returns one
    gradient per input (``None`` where there is none), in the output's broadcast
    shape: the engine reduces it to each input's shape. ``self.needs_grad`` tells
    which inputs want a gradient, so costly VJPs can skip the others.

    ``vjp_uses_values = False`` declares that the VJP reads only shapes, never the
    values of the inputs or output (add, sum, reshape): changing those in place after
    recording cannot corrupt the gradient, so backward skips the version check.
    ``is_view = True`` declares that the output may be a view of the first input's data
    (reshape, transpose, basic indexing): the two then share one version counter, so
    an in-place write through either is seen when backward checks the other.
    ``recorded_at`` is the mutation clock when the op was recorded (see
    ``autograd.versions``); ``sequence`` the op's place in recording order (later ops
    have larger numbers), which backward sorts by. ``scalar_operand_as_array = True``
    lets the arithmetic operators pass a Python number beside a floating Tensor as a
    0-d array of its dtype (the same result as NumPy's weak scalars, computed faster).
    """

    name = None
    differentiable = True
    vjp_uses_values = True
    is_view = False
    needs_grad = ()
    scope = None
    recorded_at = 0
    sequence = 0
    scalar_operand_as_array = False

    def forward(self, *inputs, **params):
        raise NotImplementedError

    def vjp(self, grad, out, *inputs):
        raise NotImplementedError(f"op '{self.name}' has no gradient")

    def __repr__(self):
        return f"<op {self.name}>"


@dataclass
class OpEntry:
    """Registry entry: the op's public function plus what the generated tests need.

    sample: ``callable(strategies) -> hypothesis strategy of (args, kwargs)``, where
        ``strategies`` is ``autograd.testing.strategies`` (passed in so that autograd
        itself never imports Hypothesis). Array arguments are float64 ndarrays.
    torch: ``callable(torch, *args, **kwargs)`` computing the same thing in PyTorch,
        for parity tests; ``None`` when PyTorch has no direct counterpart.
    numpy: NumPy functions/ufuncs that dispatch to this op when given Tensors.
    public: whether ``autograd.<name>`` offers it (False for helper ops that other ops'
        VJPs use, such as ``prod_others``; they are still tested like every op).
    aliases: other public names of the same function (PyTorch's spellings: ``cat``).
    method: the Tensor method's name; ``methods`` every name it goes by (``reshape``,
        ``view``).
    second_order: whether the generated tests run gradgradcheck on it. True for every
        differentiable op (piecewise-linear ones included: their second derivative is
        zero away from kinks); set False only for an op whose VJP cannot itself be
        differentiated. Non-differentiable ops get False automatically.
    """

    name: str
    function: Callable
    op: Optional[type] = None
    method: Optional[str] = None
    numpy: tuple = ()
    differentiable: bool = True
    second_order: bool = True
    sample: Optional[Callable] = None
    torch: Optional[Callable] = None
    rtol: float = 1e-5
    atol: float = 1e-7
    notes: str = ""
    public: bool = True
    aliases: tuple = ()
    methods: tuple = ()
    extra: dict = field(default_factory=dict)


def apply(op_cls, inputs, params=_EMPTY):
    """Run ``op_cls`` on ``inputs``; record a graph node when a Tensor input requires grad.

    With no Tensor among the inputs this is plain NumPy: the result is an ndarray and
    nothing is recorded (the fast path used by VJPs on a plain backward). NumPy scalars
    among Tensor inputs count as Python numbers (weak: ``float32 * np.float64(2)`` stays
    float32, as in PyTorch).
    """
    for value in inputs:
        if isinstance(value, Tensor):
            break
    else:
        return op_cls().forward(*inputs, **params)
    flags = state.flags
    if flags.transforms:  # jvp/vmap levels are active: the innermost one that owns an input runs it
        return flags.transforms[-1].dispatch(op_cls, inputs, params)
    # One explicit pass (Python 3.11 runs each comprehension as a separate function call,
    # and this is the hottest loop of the library).
    arrays, needs, recording = [], [], False
    for value in inputs:
        if isinstance(value, Tensor):
            arrays.append(value.data)
            flag = value._requires_grad
            needs.append(flag)
            if flag:
                recording = True
        else:  # NumPy scalars count as Python numbers; arrays (the usual case) skip the test
            arrays.append(value if type(value) is np.ndarray or not isinstance(value, np.generic)
                          else value.item())
            needs.append(False)
    op = op_cls()
    try:
        out = op.forward(*arrays, **params) if params else op.forward(*arrays)
    except ValueError as err:
        named = _named_broadcast_error(op_cls.name, arrays, err)
        if named is None:
            raise
        raise named from err
    if type(out) is not np.ndarray:
        out = np.asarray(out)
    if recording and op_cls.differentiable and flags.enabled:
        op.needs_grad = tuple(needs)
        op.arrays = arrays  # what a plain VJP reads: the arrays as recorded
        sequence = op.sequence = next(SEQUENCE)
        if flags.scope is not None:
            op.scope = flags.scope
        if versions.clock.now:
            op.recorded_at = versions.clock.now
        if flags.anomaly:
            _anomaly_hooks.on_forward(op, out, inputs)
        result = _new_node(out, op, inputs if type(inputs) is tuple else tuple(inputs))
        if sequence > watch.deadline:
            watch.pause(result)
    else:
        result = Tensor._constant(out)
    if op_cls.is_view and out.base is not None:
        _share_view_counter(result, inputs[0], out)
    return result


_new_node = Tensor._node  # bound once: apply makes one per recorded op


def _share_view_counter(view, base, out):
    """A view op's result sees in-place writes of its base and the other way round."""
    if isinstance(base, Tensor) and np.may_share_memory(out, base.data):
        versions.share_counter(view, base)


def _named_broadcast_error(name, arrays, err):
    """NumPy's broadcast failure restated with the op's name and its input shapes."""
    if "broadcast" not in str(err) or str(err).startswith(name):
        return None
    shapes = ", ".join(str(np.shape(a)) for a in arrays)
    return ValueError(f"{name}: input shapes {shapes} cannot be broadcast together "
                      f"(NumPy rules: trailing dimensions must be equal or 1)")


class _NoAnomalyHooks:
    """Replaced by autograd.anomaly when anomaly mode is first used."""

    @staticmethod
    def on_forward(op, out, inputs):
        return None


_anomaly_hooks = _NoAnomalyHooks()


def functions(*names):
    """The public functions of registered ops, by name (for use inside VJPs)."""
    return tuple(REGISTRY[name].function for name in names)


def value_of(x):
    """The plain array behind an input: for masks and other constants inside a VJP."""
    return x.data if isinstance(x, Tensor) else np.asarray(x)


# PyTorch's spellings of NumPy's argument names, accepted wherever the NumPy one is.
TORCH_ARGUMENT_NAMES = {"dim": "axis", "keepdim": "keepdims"}


def accept_torch_names(name, kwargs, accepted):
    """Rename ``dim=``/``keepdim=`` to ``axis=``/``keepdims=`` for an op that takes those."""
    for torch_name, numpy_name in TORCH_ARGUMENT_NAMES.items():
        if torch_name in kwargs and torch_name not in accepted and numpy_name in accepted:
            if numpy_name in kwargs:
                raise TypeError(f"{name}() got both {torch_name}= and {numpy_name}=; "
                                f"pass one of them")
            kwargs[numpy_name] = kwargs.pop(torch_name)
    return kwargs


def _split_arguments(name, input_names, keyword_names):
    """Build the argument mapper from a public call to (inputs, params)."""
    n_inputs = len(input_names)
    accepted = frozenset(keyword_names) | frozenset(input_names)
    renames = accepted & set(TORCH_ARGUMENT_NAMES.values())

    def split(args, kwargs):
        if renames and kwargs:
            kwargs = accept_torch_names(name, kwargs, accepted)
        if len(args) < n_inputs:
            missing = input_names[len(args):]
            try:
                args = tuple(args) + tuple(kwargs.pop(arg) for arg in missing)
            except KeyError as err:
                raise TypeError(f"{name}() missing required argument {err.args[0]!r}") from None
        elif len(args) > n_inputs:
            extra = args[n_inputs:]
            if len(extra) > len(keyword_names):
                raise TypeError(f"{name}() takes at most {n_inputs + len(keyword_names)} "
                                f"positional arguments ({len(args)} given)")
            for key, value in zip(keyword_names, extra):
                if key in kwargs:
                    raise TypeError(f"{name}() got multiple values for argument {key!r}")
                kwargs[key] = value
            args = args[:n_inputs]
        if kwargs and not accepted.issuperset(kwargs):
            unknown = sorted(set(kwargs) - accepted)
            raise TypeError(f"{name}() got unexpected argument(s) {unknown}; "
                            f"it accepts {list(input_names) + list(keyword_names)}")
        return args, kwargs
    return split


def _function_for(name, op_cls):
    """The public function of an op, with the forward's signature minus ``self``."""
    parameters = list(inspect.signature(op_cls.forward).parameters.values())[1:]
    input_names = tuple(p.name for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD)
    keyword_names = tuple(p.name for p in parameters if p.kind is p.KEYWORD_ONLY)
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):
        raise TypeError(f"op '{name}': variadic forward needs an explicit function= in register()")
    if not keyword_names and len(input_names) == 1:
        def function(x):
            return apply(op_cls, (x,))
    elif not keyword_names and len(input_names) == 2:
        def function(x, y):
            return apply(op_cls, (x, y))
    else:
        split = _split_arguments(name, input_names, keyword_names)

        def function(*args, **kwargs):
            inputs, params = split(args, kwargs)
            return apply(op_cls, inputs, params)
        public = [p.replace(kind=p.POSITIONAL_OR_KEYWORD) for p in parameters]
        function.__signature__ = inspect.Signature(public)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = op_cls.__doc__
    return function


def public_functions():
    """Every public op function by its public names (aliases included).

    Kept up to date by ``register``: ``ag.exp`` looks its function up here on every
    access (module ``__getattr__``), so it must not be rebuilt per call."""
    return _PUBLIC


def register(name, *, method=None, numpy=(), operators=(), function=None, aliases=(),
             public=True, **hints):
    """Register an op class (or a composite function) under ``name``.

    method: Tensor method name (``True`` for ``name``), or a tuple of names.
    aliases: other public names of the function (``autograd.cat`` for ``concatenate``).
    public: False keeps a helper op out of the ``autograd`` namespace.
    numpy: NumPy callables that dispatch here when called on Tensors.
    operators: ``(dunder, reflected_dunder)`` pairs or single dunders to install on Tensor.
    function: explicit public function (for ops whose signature is not ``forward``'s).
    hints: test hints stored on the entry (see ``OpEntry``).
    """
    if isinstance(numpy, (list, tuple)):
        numpy = tuple(numpy)
    else:
        numpy = (numpy,)

    def decorate(target):
        if name in REGISTRY:
            raise ValueError(f"op '{name}' is already registered")
        if isinstance(target, type) and issubclass(target, Op):
            target.name = name
            public_function = (_accepting_torch_names(name, function) if function
                               else _function_for(name, target))
            differentiable = target.differentiable
            op_cls = target
        else:
            public_function, op_cls = _accepting_torch_names(name, target), None
            differentiable = hints.pop("differentiable", True)
        if not differentiable:
            hints["second_order"] = False
        method_names = _method_names(name if method is True else method)
        entry = OpEntry(name=name, function=public_function, op=op_cls, numpy=numpy,
                        differentiable=differentiable, public=public, aliases=tuple(aliases),
                        method=method_names[0] if method_names else None,
                        methods=method_names, **hints)
        REGISTRY[name] = entry
        if public:
            for public_name in (name,) + tuple(aliases):
                _PUBLIC[public_name] = public_function
        for method_name in method_names:
            setattr(Tensor, method_name, public_function)
        for dunder in operators:
            _install_operator(dunder, op_cls, public_function)
        return target if op_cls is not None else public_function
    return decorate


def _accepting_torch_names(name, function):
    """An explicit public function that also takes ``dim=``/``keepdim=`` where it takes
    ``axis=``/``keepdims=`` (the generated ones do this in ``_split_arguments``)."""
    parameters = inspect.signature(function).parameters
    accepted = frozenset(parameters)
    if not accepted & set(TORCH_ARGUMENT_NAMES.values()):
        return function

    @functools.wraps(function)
    def accepting(*args, **kwargs):
        if kwargs:
            kwargs = accept_torch_names(name, kwargs, accepted)
        return function(*args, **kwargs)
    return accepting


def _method_names(method):
    if not method:
        return ()
    return (method,) if isinstance(method, str) else tuple(method)


def _install_operator(dunder, op_cls, public):
    if isinstance(dunder, tuple):
        forward_name, reflected_name = dunder
        if op_cls is not None and op_cls.scalar_operand_as_array:
            def operator(self, other):
                if type(other) is float or type(other) is int:
                    other = _scalar_like(other, self.data.dtype)
                return apply(op_cls, (self, other))

            def reflected(self, other):
                if type(other) is float or type(other) is int:
                    other = _scalar_like(other, self.data.dtype)
                return apply(op_cls, (other, self))
        else:
            def operator(self, other):
                return apply(op_cls, (self, other))

            def reflected(self, other):
                return apply(op_cls, (other, self))
        operator.__name__, reflected.__name__ = forward_name, reflected_name
        setattr(Tensor, forward_name, operator)
        setattr(Tensor, reflected_name, reflected)
    else:
        setattr(Tensor, dunder, public)


# Read-only 0-d arrays of the Python numbers met in arithmetic, per floating dtype
# character; cleared when it grows past the limit (a schedule's ever-new learning rates).
_SCALARS = {}
_SCALARS_LIMIT = 4096


def _scalar_like(value, dtype):
    """A Python number beside a floating tensor as a 0-d array of the tensor's dtype.

    The result is the one NumPy's weak-scalar rule computes (the number converted to the
    tensor's dtype), but NumPy multiplies 8 elements by a 0-d array in 0.9 us and by a
    Python float in 1.5 us, in the forward and again in the VJP. Zero stays a Python
    number (0.0 == -0.0 would share an entry); so do numbers beside integer tensors
    (an integer tensor times 1.5 is a floating one).
    """
    if dtype.kind != "f" or not value:
        return value
    arrays = _SCALARS.get(dtype.char)
    if arrays is None:
        arrays = _SCALARS[dtype.char] = {}
    array = arrays.get(value)
    if array is None:
        if len(arrays) >= _SCALARS_LIMIT:
            arrays.clear()
        array = arrays[value] = np.array(value, dtype=dtype)
        array.flags.writeable = False
    return array
