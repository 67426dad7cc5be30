"""Op families; importing this package registers every op."""
from . import elementwise, reduce, shape  # noqa: F401
