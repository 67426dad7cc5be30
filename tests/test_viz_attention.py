"""viz.plot_attention: the heatmap is drawn (not blank), with the right labels and panels."""
import warnings

import numpy as np
import pytest

import nn
import viz
from autograd import Tensor

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def pixel_variance(path):
    image = mpimg.imread(path)
    return float(image[..., :3].mean(axis=-1).var())


def test_one_map_with_token_labels(tmp_path):
    weights = np.tril(np.ones((4, 4)))
    weights /= weights.sum(axis=1, keepdims=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no layout warnings either
        fig = viz.plot_attention(weights, query_labels=list("abcd"), title="causal",
                                 path=tmp_path / "attention.png")
    assert (tmp_path / "attention.png").read_bytes().startswith(b"\x89PNG")
    assert pixel_variance(tmp_path / "attention.png") > 1e-3
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == list("abcd")
    assert [t.get_text() for t in ax.get_xticklabels()] == list("abcd")  # square: same labels
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("key", "query")
    np.testing.assert_allclose(ax.images[0].get_array(), weights)
    assert fig._suptitle.get_text() == "causal"
    assert fig.axes[-1].get_ylabel() == "attention weight"  # the colorbar


def test_one_panel_per_head_from_multihead_attention(tmp_path):
    nn.manual_seed(0)
    layer = nn.MultiheadAttention(8, 4, batch_first=True)
    x = Tensor(np.random.default_rng(0).standard_normal((2, 5, 8)).astype(np.float32))
    _, weights = layer(x, x, x, average_attn_weights=False)
    fig = viz.plot_attention(weights[1], query_labels=list("hello"), ncols=2,
                             path=tmp_path / "heads.png")
    assert pixel_variance(tmp_path / "heads.png") > 1e-3
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 4  # the colorbar's axis holds no image
    assert [ax.get_title() for ax in panels] == ["head 0", "head 1", "head 2", "head 3"]
    np.testing.assert_allclose(panels[2].images[0].get_array(), weights.data[1, 2], rtol=1e-6)


def test_rectangular_map_and_bad_labels():
    fig = viz.plot_attention(np.full((2, 3), 1 / 3), query_labels=["x", "y"],
                             key_labels=["p", "q", "r"], head_names=["cross"])
    assert fig.axes[0].get_title() == "cross"
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["p", "q", "r"]
    with pytest.raises(ValueError, match=r"3 query_labels for weights of shape \(2, 3\)"):
        viz.plot_attention(np.ones((2, 3)), query_labels="abc")
    with pytest.raises(ValueError, match=r"shape \(1, 2, 2, 2\).*weights\[i\]"):
        viz.plot_attention(np.ones((1, 2, 2, 2)))
