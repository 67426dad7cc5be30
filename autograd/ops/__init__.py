"""Op families; importing this package registers every op."""
from . import elementwise, reduce, shape, index, linalg, softmax  # noqa: F401
from . import (trigonometric, exponential, special, rounding, arrange, gather,  # noqa: F401
               scan, sorting)
