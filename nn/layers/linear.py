"""Linear: the affine layer y = x W^T + b."""
import math

import numpy as np

from autograd import get_default_dtype
from autograd.extend import apply

from .. import init
from ..module import Module
from ..ops.linear import Linear as LinearOp
from ..parameter import Parameter
from ..validation import boolean, positive_int


def input_shape(x):
    """The shape of a Tensor, ndarray or nested list."""
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def check_size(module, x, axis, expected, description):
    """Raise ValueError naming the module's path unless ``x.shape[axis] == expected``."""
    shape = input_shape(x)
    if len(shape) <= (axis if axis >= 0 else -axis - 1) or shape[axis] != expected:
        raise ValueError(f"{module._error_name()} expected input with {description}, "
                         f"got shape {shape}")


def check_dtype(module, x, weight):
    """Raise TypeError naming the module's path when ``x`` is not of the parameters' dtype.

    PyTorch refuses such a mix too; silently promoting would run a float32 model in
    float64 (NumPy arrays are float64 by default), twice as slow, with float64 outputs."""
    dtype = getattr(x, "dtype", None)
    if dtype is not None and dtype != weight.dtype:
        raise TypeError(f"{module._error_name()}: input dtype {dtype} does not match the "
                        f"layer's {weight.dtype} parameters; convert the input "
                        f"(x.astype(np.{weight.dtype})) or the model (model.to(np.{dtype}))"
                        if dtype.kind == "f" else
                        f"{module._error_name()}: input dtype {dtype} does not match the "
                        f"layer's {weight.dtype} parameters; convert the input "
                        f"(x.astype(np.{weight.dtype}))")


def add_affine_parameters(module, weight_shape, bias, dtype):
    """Give ``module`` an uninitialised ``weight`` of ``weight_shape`` and, if ``bias``,
    a ``bias`` of shape ``weight_shape[:1]`` (else ``bias`` is registered as None), in
    ``dtype`` (None: the default dtype). ``reset_affine`` then fills them."""
    dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
    module.weight = Parameter(np.empty(weight_shape, dtype=dtype))
    if bias:
        module.bias = Parameter(np.empty(weight_shape[:1], dtype=dtype))
    else:
        module.register_parameter("bias", None)


def reset_affine(weight, bias):
    """PyTorch's default for Linear and Conv: kaiming_uniform_(a=sqrt(5)) on the weight,
    i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for the bias."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init.calculate_fan_in_and_fan_out(weight)
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        init.uniform_(bias, -bound, bound)


class Linear(Module):
    """y = x @ weight.T + bias, for x of shape (..., in_features).

    weight: (out_features, in_features); bias: (out_features,) unless ``bias=False``.
    Both start as PyTorch's: U(-1/sqrt(in_features), 1/sqrt(in_features)).
    """

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        self.in_features = positive_int("Linear", "in_features", in_features)
        self.out_features = positive_int("Linear", "out_features", out_features)
        bias = boolean("Linear", "bias", bias)
        add_affine_parameters(self, (self.out_features, self.in_features), bias, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw the default initial weights again."""
        reset_affine(self.weight, self.bias)

    def forward(self, x):
        parameters = self._parameters  # read once: this runs every step
        weight = parameters["weight"]
        # The usual input (an array or Tensor of the parameters' dtype and width) costs
        # two attribute reads; every other goes through the checks that explain. "is",
        # as NumPy finds None (a list's dtype here) equal to float64.
        if getattr(x, "dtype", None) is not weight.dtype or x.shape[-1:] != (self.in_features,):
            self._check_input(x, weight)
        return apply(LinearOp, (x, weight, parameters["bias"]))

    def _check_input(self, x, weight):
        shape = input_shape(x)
        if not shape or shape[-1] != self.in_features:
            description = f"last dimension {self.in_features}"
            if len(shape) >= 3 and math.prod(shape[1:]) == self.in_features:
                description += (f" (images of shape {shape[1:]}? flatten them first: "
                                f"nn.Flatten() before this layer, or x.reshape(len(x), -1))")
            check_size(self, x, -1, self.in_features, description)
        check_dtype(self, x, weight)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")
