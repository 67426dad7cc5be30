"""nn.utils: helpers around layers, in PyTorch's spelling (``nn.utils.rnn.pad_sequence``)."""
from . import rnn  # noqa: F401
