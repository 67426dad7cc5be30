"""Dropout2d: channel-wise dropout in training, the identity in eval mode."""
from .. import functional as F
from ..module import Module
from ..validation import boolean, probability


class Dropout2d(Module):
    """Zero whole channels of (N, C, H, W) with probability ``p`` in training and scale
    the kept ones by 1 / (1 - p) (a 3-d input is read as (N, C, L), as PyTorch 2.13 does);
    in eval mode pass the input through. Masks come from ``nn.manual_seed``'s generator."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        self.p = probability("Dropout2d", "p", p)
        self.inplace = boolean("Dropout2d", "inplace", inplace)

    def forward(self, x):
        return F.dropout2d(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
