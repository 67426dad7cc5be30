"""viz plots: each figure is saved to PNG, read back, and must be non-blank with the right
labels."""
import subprocess
import sys

import numpy as np
import pytest

import viz
from autograd import Tensor

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

BLANK_VARIANCE = 1e-4   # a figure with nothing drawn has variance 0; our plots are > 5e-3


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def pixel_variance(path):
    image = mpimg.imread(path)
    return float(image[..., :3].mean(axis=-1).var())


def assert_saved_non_blank(fig, path):
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert pixel_variance(path) > BLANK_VARIANCE
    assert fig.get_size_inches().prod() > 1


class History:
    """What a Keras-style fit() returns."""

    def __init__(self, history):
        self.history = history


HISTORY = {"loss": [1.0, 0.6, 0.4, 0.3], "val_loss": [1.1, 0.7, 0.55, 0.5],
           "accuracy": [0.5, 0.7, 0.8, 0.85], "val_accuracy": [0.45, 0.6, 0.7, 0.72],
           "lr": [1e-2, 1e-3, 1e-4, 1e-5]}


# --- training history -------------------------------------------------------------------
@pytest.mark.parametrize("wrap", [History, dict, lambda h: [
    {key: values[epoch] for key, values in h.items()} for epoch in range(4)]])
def test_history_panels_train_and_validation(wrap, tmp_path):
    fig = viz.plot_history(wrap(HISTORY), path=tmp_path / "history.png")
    assert_saved_non_blank(fig, tmp_path / "history.png")
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_ylabel() for ax in panels] == ["loss", "accuracy", "lr"]
    assert all(ax.get_xlabel() == "epoch" for ax in panels)
    loss_lines = {line.get_label(): line for line in panels[0].get_lines()}
    assert set(loss_lines) == {"train", "validation"}
    np.testing.assert_allclose(loss_lines["validation"].get_ydata(), HISTORY["val_loss"])
    np.testing.assert_allclose(loss_lines["train"].get_xdata(), [1, 2, 3, 4])
    assert panels[2].get_yscale() == "log" and panels[0].get_yscale() == "linear"


def test_history_picks_metrics_and_uses_epoch_numbers():
    history = {"epoch": [10, 11, 12], "loss": [3.0, 2.0, 1.0], "val_loss": [3.5, 2.5, 2.0],
               "mae": [Tensor(np.float32(1.0)), 0.8, 0.7]}
    fig = viz.plot_history(history, metrics=["loss"])
    (ax,) = [ax for ax in fig.axes if ax.get_visible()]
    assert list(ax.get_lines()[0].get_xdata()) == [10, 11, 12]
    with pytest.raises(ValueError, match="accuracy"):
        viz.plot_history(history, metrics=["accuracy"])
    with pytest.raises(TypeError, match="History"):
        viz.plot_history(42)


# --- weight histograms -------------------------------------------------------------------
class TinyModel:
    """Anything with named_parameters() counts as a model."""

    def __init__(self, rng):
        self.weight = Tensor(rng.standard_normal((20, 10)) * 0.1, requires_grad=True)
        self.bias = Tensor(np.zeros(10), requires_grad=True)

    def named_parameters(self):
        return iter([("fc.weight", self.weight), ("fc.bias", self.bias)])


def test_weight_histograms_before_and_after_side_by_side(tmp_path):
    rng = np.random.default_rng(0)
    model = TinyModel(rng)
    before = {name: np.array(p.data) for name, p in model.named_parameters()}
    model.weight.data += rng.standard_normal((20, 10)) * 0.5     # "training"
    fig = viz.plot_weight_histograms(before, model, path=tmp_path / "weights.png")
    assert_saved_non_blank(fig, tmp_path / "weights.png")
    axes = np.array(fig.axes).reshape(2, 2)
    assert [ax.get_title() for ax in axes[0]] == ["fc.weight (20, 10): before",
                                                  "fc.weight (20, 10): after"]
    assert all(ax.get_xlabel() == "value" and ax.get_ylabel() == "count" for ax in fig.axes)
    for ax, data in zip(axes[0], (before["fc.weight"], model.weight.data)):
        assert sum(patch.get_height() for patch in ax.patches) == data.size
    # both columns of a row share bins, so shapes can be compared by eye
    assert axes[0, 0].patches[0].get_x() == axes[0, 1].patches[0].get_x()
    assert np.std(model.weight.data) > 2 * np.std(before["fc.weight"])


def test_weight_histograms_single_model_and_errors():
    model = TinyModel(np.random.default_rng(1))
    fig = viz.plot_weight_histograms(model, names=["fc.weight"])
    assert len(fig.axes) == 1 and fig.axes[0].get_title().endswith("values")
    with pytest.raises(ValueError, match="fc.kernel"):
        viz.plot_weight_histograms(model, names=["fc.kernel"])
    with pytest.raises(TypeError, match="state dict"):
        viz.plot_weight_histograms([1, 2, 3])


def test_weight_histograms_count_nan_and_inf_instead_of_failing():
    before = {"w": np.array([1.0, 2.0, 3.0, 4.0])}
    after = {"w": np.array([1.0, np.nan, np.inf, 2.0])}
    fig = viz.plot_weight_histograms(before, after)
    assert sum(p.get_height() for p in fig.axes[1].patches) == 2
    assert "2 NaN/Inf" in fig.axes[1].texts[0].get_text()


# --- decision boundary and 3-D scatter ------------------------------------------------------
def blobs(rng, n=120):
    labels = rng.integers(0, 3, n)
    centres = np.array([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]])
    return centres[labels] + rng.standard_normal((n, 2)) * 0.6, labels


def nearest_centre_scores(points):
    centres = np.array([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]])
    return Tensor(-((points[:, None, :] - centres) ** 2).sum(axis=-1))


def test_decision_boundary_regions_and_points(tmp_path):
    X, y = blobs(np.random.default_rng(2))
    fig = viz.plot_decision_boundary(nearest_centre_scores, X, y, resolution=80,
                                     class_names=["left", "right", "top"],
                                     path=tmp_path / "boundary.png")
    assert_saved_non_blank(fig, tmp_path / "boundary.png")
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x1", "x2")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["left", "right", "top"]
    assert ax.get_xlim()[0] <= X[:, 0].min() and ax.get_xlim()[1] >= X[:, 0].max()


@pytest.mark.parametrize("predict", [
    lambda a: 1 / (1 + np.exp(-a[:, :1])),            # probability per point, (M, 1)
    lambda a: a[:, 0],                                  # logit per point
    lambda a: (a[:, 0] > 0).astype(np.int64),           # labels
])
def test_decision_boundary_accepts_probabilities_logits_and_labels(predict):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((50, 2))
    fig = viz.plot_decision_boundary(predict, X, (X[:, 0] > 0).astype(int), resolution=40)
    region = fig.axes[0].collections[0]
    assert region is not None
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        viz.plot_decision_boundary(predict, rng.standard_normal((5, 3)))


def test_decision_boundary_with_minus_one_plus_one_labels():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((40, 2))
    y = np.where(X[:, 1] > 0, 1, -1)
    fig = viz.plot_decision_boundary(lambda a: np.where(a[:, 1] > 0, 1, -1), X, y,
                                     resolution=30)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["class -1", "class 1"]


def test_predictions_3d_regression_and_classes(tmp_path):
    rng = np.random.default_rng(4)
    X = rng.uniform(-2, 2, (150, 2))
    target = np.sin(X[:, 0]) * X[:, 1]
    fig = viz.plot_predictions_3d(X, target + 0.05, targets=target, path=tmp_path / "p.png")
    assert_saved_non_blank(fig, tmp_path / "p.png")
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_zlabel()) == ("x1", "x2", "prediction")
    X3 = rng.standard_normal((60, 3))
    scores = rng.standard_normal((60, 4))
    fig = viz.plot_predictions_3d(X3, scores, targets=scores.argmax(1))
    assert fig.axes[0].get_zlabel() == "x3"
    assert fig.axes[0].get_legend().get_texts()[0].get_text() == "wrong (0)"


# --- confusion matrix and images ---------------------------------------------------------------
def test_confusion_matrix_counts_and_labels(tmp_path):
    y_true = np.array([0, 0, 1, 1, 1, 2, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 0, 2, 2, 2, 1])
    fig = viz.plot_confusion_matrix(y_true, y_pred, class_names=["a", "b", "c"],
                                    path=tmp_path / "cm.png")
    assert_saved_non_blank(fig, tmp_path / "cm.png")
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted", "true")
    cells = [[int(t.get_text()) for t in ax.texts[row * 3:row * 3 + 3]] for row in range(3)]
    assert cells == [[1, 1, 0], [1, 2, 0], [0, 1, 3]]
    assert ax.get_title() == "accuracy 66.7%"
    normalized = viz.plot_confusion_matrix(y_true, np.eye(3)[y_pred], normalize=True).axes[0]
    assert [t.get_text() for t in normalized.texts[6:9]] == ["0.00", "0.25", "0.75"]


def test_image_grid_titles_and_wrong_predictions_in_red(tmp_path):
    rng = np.random.default_rng(5)
    images = rng.random((10, 784)).astype(np.float32)     # flat 28x28, as (Fashion-)MNIST
    labels = np.arange(10) % 3
    predictions = labels.copy()
    predictions[4] = 0
    names = ["T-shirt", "Trouser", "Pullover"]
    fig = viz.plot_image_grid(images, labels, predictions, class_names=names, ncols=5,
                              path=tmp_path / "grid.png")
    assert_saved_non_blank(fig, tmp_path / "grid.png")
    assert len(fig.axes) == 10
    assert fig.axes[0].images[0].get_array().shape == (28, 28)
    assert fig.axes[0].get_title() == "T-shirt"
    assert fig.axes[4].get_title() == "T-shirt\n(true Trouser)"
    assert fig.axes[4].title.get_color() != fig.axes[0].title.get_color()
    channels_first = viz.plot_image_grid(rng.random((3, 3, 8, 8)), labels[:3])
    assert channels_first.axes[0].images[0].get_array().shape == (8, 8, 3)
    with pytest.raises(ValueError, match="square"):
        viz.plot_image_grid(rng.random((2, 10)))


# --- optional dependencies ------------------------------------------------------------------
def test_importing_viz_loads_neither_matplotlib_nor_graphviz():
    code = ("import sys, autograd, nn, viz; "
            "print('matplotlib' in sys.modules, 'graphviz' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.split() == ["False", "False"]


# --- with the library's own training loop ------------------------------------------------------
def test_plots_from_a_real_fit_history_and_model(tmp_path):
    import nn
    from nn.training import fit
    rng = np.random.default_rng(6)
    X = rng.standard_normal((64, 2)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    nn.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    # state_dict() shares the model's arrays, so the "before" column needs a copy
    snapshot = {name: np.array(value) for name, value in model.state_dict().items()}
    history = fit(model, nn.CrossEntropyLoss(), nn.optim.Adam(model.parameters(), lr=0.05),
                  (X, y), epochs=3, batch_size=16, validation_split=0.25, verbose=0, seed=0)
    fig = viz.plot_history(history, path=tmp_path / "fit.png")
    assert_saved_non_blank(fig, tmp_path / "fit.png")
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_ylabel() for ax in panels] == ["loss", "accuracy", "lr"]
    assert len(panels[0].get_lines()[0].get_xdata()) == 3
    fig = viz.plot_weight_histograms(snapshot, model, names=["0.weight", "2.weight"])
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["0.weight (16, 2): before", "0.weight (16, 2): after",
                      "2.weight (2, 16): before", "2.weight (2, 16): after"]
    heights = [[p.get_height() for p in ax.patches] for ax in fig.axes[:2]]
    assert heights[0] != heights[1]      # training moved the weights
    fig = viz.plot_decision_boundary(lambda points: model(Tensor(points)), X, y, resolution=50)
    assert fig.axes[0].get_xlabel() == "x1"
