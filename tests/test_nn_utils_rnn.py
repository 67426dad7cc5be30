"""nn.utils.rnn: pad_sequence against PyTorch (values and gradients), masks from lengths."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autograd import Tensor
from nn.utils.rnn import pad_sequence, padding_mask, sequence_mask


@settings(max_examples=30)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4), st.integers(0, 2), st.booleans(),
       st.sampled_from(["right", "left"]), st.sampled_from([0.0, -1.5]), st.integers(0, 99))
def test_pad_sequence_matches_torch(lengths, feature_dims, batch_first, side, value, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    features = tuple(rng.integers(1, 3, size=feature_dims))
    arrays = [rng.standard_normal((length,) + features) for length in lengths]
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    mine = pad_sequence(ours, batch_first=batch_first, padding_value=value, padding_side=side)
    reference = torch.nn.utils.rnn.pad_sequence(theirs, batch_first=batch_first,
                                                padding_value=value, padding_side=side)
    np.testing.assert_array_equal(mine.data, reference.detach().numpy())
    cotangent = rng.standard_normal(mine.shape)
    (mine * cotangent).sum().backward()
    (reference * torch.from_numpy(cotangent)).sum().backward()
    for leaf, ref in zip(ours, theirs):
        np.testing.assert_array_equal(leaf.grad.data, ref.grad.numpy())


def test_pad_sequence_errors():
    with pytest.raises(ValueError, match="non-empty"):
        pad_sequence([])
    with pytest.raises(ValueError, match=r"trailing shape.*\(2, 3\), \(1, 4\)"):
        pad_sequence([np.zeros((2, 3)), np.zeros((1, 4))])
    with pytest.raises(ValueError, match="padding_side"):
        pad_sequence([np.zeros(2)], padding_side="middle")


def test_masks_from_lengths():
    np.testing.assert_array_equal(sequence_mask([2, 0, 3]),
                                  [[True, True, False], [False, False, False],
                                   [True, True, True]])
    np.testing.assert_array_equal(padding_mask([1, 2], max_length=3),
                                  [[False, True, True], [False, False, True]])
    assert sequence_mask([], max_length=2).shape == (0, 2)
    with pytest.raises(ValueError, match="max_length=2"):
        sequence_mask([3], max_length=2)
    with pytest.raises(ValueError, match="integer lengths"):
        sequence_mask([1.5])
    assert nn.utils.rnn.pad_sequence is pad_sequence


def test_padded_batch_through_a_gru_masks_the_loss():
    """Padding plus a mask: the loss of a padded batch equals the per-sequence losses."""
    nn.manual_seed(0)
    gru = nn.GRU(2, 3, batch_first=True, dtype=np.float64)
    rng = np.random.default_rng(0)
    sequences = [rng.standard_normal((n, 2)) for n in (3, 1, 2)]
    output, _ = gru(pad_sequence(sequences, batch_first=True))
    mask = sequence_mask([3, 1, 2])
    padded_total = (output * mask[:, :, None]).sum().item()
    separate = sum(gru(Tensor(s[None]))[0].sum().item() for s in sequences)
    assert padded_total == pytest.approx(separate, rel=1e-12)
