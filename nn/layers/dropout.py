"""Dropout: inverted dropout in training, the identity in eval mode."""
from .. import functional as F
from ..module import Module
from ..validation import boolean, probability


class Dropout(Module):
    """Zero each element with probability ``p`` in training and scale the survivors by
    1 / (1 - p); in eval mode pass the input through. Masks come from the seeded
    default generator (``nn.manual_seed``)."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        self.p = probability("Dropout", "p", p)
        self.inplace = boolean("Dropout", "inplace", inplace)

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
