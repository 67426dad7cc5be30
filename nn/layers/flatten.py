"""Flatten: merge a range of dimensions into one (by default all but the batch)."""
from .. import functional as F
from ..module import Module
from ..validation import integer


class Flatten(Module):
    """Reshape dimensions ``start_dim..end_dim`` into one: (N, C, H, W) -> (N, C*H*W)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = integer("Flatten", "start_dim", start_dim)
        self.end_dim = integer("Flatten", "end_dim", end_dim)

    def forward(self, x):
        return F.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
