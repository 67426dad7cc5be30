"""Op families; importing this package registers every op.

The order is the layering: each family may use the ones before it in its VJPs.
"""
from . import elementwise, index, shape, reduce, softmax, linalg  # noqa: F401
from . import (trigonometric, exponential, special, rounding, arrange, gather,  # noqa: F401
               scan, sorting)
