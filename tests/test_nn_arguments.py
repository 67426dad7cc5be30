"""Constructor and argument validation across nn: sizes are positive integers (bools,
floats and strings refused) with the argument named; dims checked as PyTorch checks
them; Embedding indices in range; ModelCheckpoint path templates checked up front."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import nn
import nn.functional as F
from autograd import Tensor
from nn import validation
from nn.training import ModelCheckpoint

BAD_SIZES = [(-1, ValueError), (0, ValueError), (3.5, TypeError), (3.0, TypeError),
             ("3", TypeError), (True, TypeError), (None, TypeError), (np.float64(2), TypeError)]

# (factory taking the bad value, owner, argument name)
SIZED = [
    (lambda v: nn.Linear(v, 2), "Linear", "in_features"),
    (lambda v: nn.Linear(2, v), "Linear", "out_features"),
    (lambda v: nn.Conv2d(v, 2, 3), "Conv2d", "in_channels"),
    (lambda v: nn.Conv2d(2, v, 3), "Conv2d", "out_channels"),
    (lambda v: nn.Conv2d(2, 2, 3, groups=v), "Conv2d", "groups"),
    (lambda v: nn.Embedding(v, 3), "Embedding", "num_embeddings"),
    (lambda v: nn.Embedding(3, v), "Embedding", "embedding_dim"),
    (lambda v: nn.BatchNorm1d(v), "BatchNorm1d", "num_features"),
    (lambda v: nn.BatchNorm2d(v), "BatchNorm2d", "num_features"),
    (lambda v: nn.LayerNorm((2, v)), "LayerNorm", "normalized_shape"),
]


@pytest.mark.parametrize("factory, owner, name", SIZED, ids=[f"{o}.{n}" for _, o, n in SIZED])
@pytest.mark.parametrize("value, error", BAD_SIZES, ids=[repr(v) for v, _ in BAD_SIZES])
def test_sizes_must_be_positive_integers(factory, owner, name, value, error):
    with pytest.raises(error, match=rf"^{owner}: {name} must be a positive integer, got "):
        factory(value)


def test_the_message_the_issue_asks_for():
    with pytest.raises(ValueError, match=r"^Linear: in_features must be a positive integer, "
                                         r"got -1$"):
        nn.Linear(-1, 5)


def test_numpy_integers_are_sizes_too():
    layer = nn.Linear(np.int64(3), np.int32(2))
    assert (layer.in_features, layer.out_features) == (3, 2)
    assert type(layer.in_features) is int


@pytest.mark.parametrize("factory, error, match", [
    (lambda: nn.Linear(2, 2, bias=1), TypeError, "Linear: bias must be True or False"),
    (lambda: nn.Conv2d(2, 2, 3, bias="yes"), TypeError, "Conv2d: bias must be True or False"),
    (lambda: nn.Dropout(True), TypeError, "Dropout: p must be a probability"),
    (lambda: nn.Dropout(1.5), ValueError, "Dropout: p must be a probability"),
    (lambda: nn.Dropout(float("nan")), ValueError, "Dropout: p must be a probability"),
    (lambda: nn.BatchNorm1d(3, eps=-1e-5), ValueError, "BatchNorm1d: eps must be"),
    (lambda: nn.BatchNorm1d(3, momentum=1.5), ValueError, "BatchNorm1d: momentum must be"),
    (lambda: nn.BatchNorm1d(3, affine=None), TypeError, "BatchNorm1d: affine must be"),
    (lambda: nn.LayerNorm([]), TypeError, "LayerNorm: normalized_shape must be"),
    (lambda: nn.LayerNorm(3, eps="small"), TypeError, "LayerNorm: eps must be"),
    (lambda: nn.MaxPool2d(0), ValueError, "MaxPool2d: kernel_size must be at least 1"),
    (lambda: nn.MaxPool2d(2.5), TypeError, "MaxPool2d: kernel_size must be an int or a pair"),
    (lambda: nn.MaxPool2d(2, padding=-1), ValueError, "MaxPool2d: padding must be at least 0"),
    (lambda: nn.AvgPool2d(2, stride=0), ValueError, "AvgPool2d: stride must be at least 1"),
    (lambda: nn.AvgPool2d(2, divisor_override=0), ValueError, "AvgPool2d: divisor_override"),
    (lambda: nn.Flatten(start_dim=1.5), TypeError, "Flatten: start_dim must be an integer"),
    (lambda: nn.Embedding(4, 2, padding_idx=1.0), TypeError, "Embedding: padding_idx must be"),
    (lambda: nn.Embedding(4, 2, padding_idx=4), ValueError, "Embedding: padding_idx 4"),
    (lambda: nn.LeakyReLU("steep"), TypeError, "LeakyReLU: negative_slope must be a number"),
    (lambda: nn.Softmax(dim=1.5), TypeError, "Softmax: dim must be an integer"),
    (lambda: nn.LogSoftmax(dim="x"), TypeError, "LogSoftmax: dim must be an integer"),
])
def test_other_constructor_arguments_are_checked(factory, error, match):
    with pytest.raises(error, match=match):
        factory()


# --- dims checked as PyTorch checks them (IndexError, "out of range") -------------------
@pytest.mark.parametrize("shape, start, end", [
    ((2, 3), 5, -1), ((2, 3), -3, -1), ((2, 3), 0, 2), ((2, 3), 0, -3), ((), 1, -1),
])
def test_flatten_dims_out_of_range_raise(shape, start, end):
    with pytest.raises(IndexError, match=r"flatten: (start|end)_dim is out of range"):
        nn.Flatten(start, end)(Tensor(np.zeros(shape)))


@settings(max_examples=40)
@given(ndim=st.integers(0, 4), start=st.integers(-6, 6), end=st.integers(-6, 6))
def test_flatten_accepts_and_refuses_what_pytorch_does(ndim, start, end):
    torch = pytest.importorskip("torch")
    data = np.arange(float(np.prod(range(2, 2 + ndim)))).reshape(tuple(range(2, 2 + ndim)))
    try:
        expected = torch.flatten(torch.tensor(data), start, end).numpy()
    except (IndexError, RuntimeError) as err:
        with pytest.raises((IndexError, ValueError)):
            nn.Flatten(start, end)(Tensor(data))
        return
    np.testing.assert_array_equal(nn.Flatten(start, end)(Tensor(data)).data, expected)


def test_flatten_0d_input_gives_1d_like_pytorch():
    assert F.flatten(Tensor(np.array(4.0))).shape == (1,)


@pytest.mark.parametrize("index", [-1, 4, -5])
def test_embedding_indices_out_of_range_raise(index):
    layer = nn.Embedding(4, 2)
    with pytest.raises(IndexError, match=rf"embedding: index {index} is out of range for 4"):
        layer(np.array([0, index]))


# --- ModelCheckpoint path templates -----------------------------------------------------
@pytest.mark.parametrize("path, match", [
    ("ckpt{}.npz", r"has the field \{\}"),
    ("ckpt{0}.npz", r"has the field \{0\}"),
    ("ckpt-{a.b}.npz", r"has the field \{a\.b\}"),
    ("ckpt-{epoch.npz", "not a valid template"),
    ("ckpt}.npz", "not a valid template"),
    ("ckpt-{epoch:q}.npz", "format spec 'q' fits neither"),
])
def test_model_checkpoint_refuses_bad_templates_at_construction(tmp_path, path, match):
    with pytest.raises(ValueError, match=rf"ModelCheckpoint: path .*{match}"):
        ModelCheckpoint(str(tmp_path / path))


def test_model_checkpoint_literal_braces_and_fields(tmp_path):
    callback = ModelCheckpoint(str(tmp_path / "{{run}}-{epoch:02d}-{val_loss:.2f}.npz"))
    assert callback.fields == ("epoch", "val_loss")


def test_model_checkpoint_unknown_field_names_the_logged_values(tmp_path):
    model = nn.Linear(2, 1, dtype=np.float64)
    x, y = np.random.default_rng(0).standard_normal((8, 2)), np.zeros((8, 1))
    callback = ModelCheckpoint(str(tmp_path / "ckpt-{val_acc:.2f}.npz"), monitor="loss")
    with pytest.raises(KeyError, match="names val_acc, which the logs of epoch 1 do not hold"):
        nn.training.fit(model, nn.MSELoss(), nn.optim.SGD(model.parameters(), lr=0.1), (x, y),
                        epochs=1, batch_size=4, metrics=(), callbacks=[callback], verbose=0)


# --- the shared validators themselves ---------------------------------------------------
def test_validators_return_plain_python_values():
    assert validation.positive_int("X", "n", np.int8(3)) == 3
    assert validation.non_negative_int("X", "n", 0) == 0
    assert validation.probability("X", "p", np.float32(0.25)) == 0.25
    assert validation.normalize_dim("X", "dim", -1, 3) == 2
    assert validation.normalize_dim("X", "dim", 0, 0) == 0
    with pytest.raises(ValueError, match="X: n must be a non-negative integer, got -1"):
        validation.non_negative_int("X", "n", -1)
    with pytest.raises(TypeError, match="X: flag must be True or False, got 1"):
        validation.boolean("X", "flag", 1)
    with pytest.raises(ValueError, match="X: lr must be a positive number, got inf"):
        validation.positive_float("X", "lr", float("inf"))
