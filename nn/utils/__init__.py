"""Helpers that PyTorch keeps in ``torch.nn.utils``: gradient clipping, and in
``nn.utils.rnn`` padding of variable-length sequences."""
from . import rnn  # noqa: F401
from .clip_grad import clip_grad_norm_, clip_grad_value_
