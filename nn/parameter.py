"""Parameter: a Tensor that a Module registers as learnable when assigned as an attribute."""
import numpy as np

from autograd import Tensor


class Parameter(Tensor):
    """A Tensor that requires grad by default and is registered by ``Module.__setattr__``.

    Args:
        data: a Tensor (its array is shared, not copied), an ndarray (kept as is) or
            Python data (converted with the default dtype). ``None`` gives an empty
            float tensor of the default dtype.
        requires_grad: whether the parameter accumulates gradients (default True).

    Raises:
        TypeError: ``requires_grad=True`` with integer or boolean data.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            from autograd import get_default_dtype
            data = np.empty((0,), dtype=get_default_dtype())
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        # Tensor.__slots__ holds graph links; a copied or pickled parameter is a fresh leaf.
        return (_rebuild_parameter, (self.data, self.requires_grad, self.grad))


def _rebuild_parameter(data, requires_grad, grad):
    parameter = Parameter(data, requires_grad=requires_grad)
    parameter.grad = grad
    return parameter
