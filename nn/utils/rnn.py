"""Variable-length sequences: padding a list of them into one array, and masks from lengths.

    from nn.utils.rnn import pad_sequence, sequence_mask
    batch = pad_sequence([a, b, c], batch_first=True)   # (3, longest, *features)
    valid = sequence_mask([len(a), len(b), len(c)])     # (3, longest) bool, True = real step

``pad_sequence`` follows PyTorch (``torch.nn.utils.rnn.pad_sequence``) and is built from
registered ops (pad, stack), so gradients flow back to every sequence.
"""
import numpy as np

from autograd import Tensor
from autograd.extend import functions

pad, stack = functions("pad", "stack")


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences of shapes (L_i, *) into (max L, batch, *) (or (batch, max L, *)
    with ``batch_first``), filling with ``padding_value`` on ``padding_side`` ("right"
    or "left"). Sequences are Tensors or arrays with the same trailing shape.

    Raises ValueError for an empty list, 0-d sequences, mismatched trailing shapes or an
    unknown padding side.
    """
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'right' or 'left', "
                         f"got {padding_side!r}")
    sequences = [s if isinstance(s, Tensor) else np.asarray(s) for s in sequences]
    if not sequences:
        raise ValueError("pad_sequence: expected a non-empty list of sequences, got none")
    shapes = [tuple(s.shape) for s in sequences]
    if any(len(shape) == 0 for shape in shapes):
        raise ValueError(f"pad_sequence: every sequence needs a length (first) dimension; "
                         f"got shapes {shapes}")
    if len({shape[1:] for shape in shapes}) > 1:
        raise ValueError(f"pad_sequence: sequences must share their trailing shape (all but "
                         f"the length); got shapes {shapes}")
    longest = max(shape[0] for shape in shapes)
    padded = []
    for sequence, shape in zip(sequences, shapes):
        missing = longest - shape[0]
        if missing:
            widths = [(0, missing) if padding_side == "right" else (missing, 0)]
            widths += [(0, 0)] * (len(shape) - 1)
            sequence = pad(sequence, pad_width=widths, constant_values=padding_value)
        padded.append(sequence)
    return stack(padded, axis=0 if batch_first else 1)


def sequence_mask(lengths, max_length=None):
    """Boolean (batch, max_length) mask, True at the first ``lengths[i]`` steps of row i.

    ``max_length`` defaults to the longest length; a length above it raises ValueError.
    """
    lengths = _lengths(lengths, "sequence_mask")
    max_length = int(lengths.max(initial=0)) if max_length is None else int(max_length)
    if lengths.size and lengths.max() > max_length:
        raise ValueError(f"sequence_mask: lengths up to {lengths.max()} do not fit "
                         f"max_length={max_length}")
    return np.arange(max_length) < lengths[:, None]


def padding_mask(lengths, max_length=None):
    """The complement of ``sequence_mask``: True at padded steps, PyTorch's convention
    for ``key_padding_mask`` in attention."""
    return ~sequence_mask(lengths, max_length)


def _lengths(lengths, name):
    lengths = np.asarray(lengths.data if isinstance(lengths, Tensor) else lengths)
    if lengths.ndim != 1 or (lengths.size and lengths.dtype.kind not in "iu"):
        raise ValueError(f"{name}: expected a 1-d array of integer lengths, got "
                         f"shape {lengths.shape} dtype {lengths.dtype}")
    if lengths.size and lengths.min() < 0:
        raise ValueError(f"{name}: lengths must be non-negative, got {lengths.min()}")
    return lengths.astype(np.int64)
