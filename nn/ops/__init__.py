"""Registered autograd ops that nn's layers are built on (one graph node per layer).

Importing this package registers them in ``autograd.extend.REGISTRY``, so the registry-
driven tests gradcheck them and compare them with PyTorch like every core op.
"""
from . import (activation, attention, conv, embedding, linear, loss_ops,  # noqa: F401
               normalization, pooling, recurrent, unfold)
