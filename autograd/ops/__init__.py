"""Op families; importing this package registers every op."""
from . import elementwise, reduce, shape, index, linalg, softmax  # noqa: F401
