"""Layer behaviours: gradients by finite differences (first and second order) for every
layer with stride/padding variants, BatchNorm's modes and statistics, Dropout's
randomness, initialisation, dtypes, and errors on bad input."""
import math

import numpy as np
import pytest

import nn
import nn.functional as F
from autograd import Tensor
from autograd.testing import gradcheck, gradgradcheck, numerical_grad



def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def as_float64(module):
    return module.to(np.float64)


# --- finite differences through the layers' ops -----------------------------------------
CONV_VARIANTS = [
    dict(),
    dict(stride=2),
    dict(padding=1),
    dict(stride=(2, 1), padding=(1, 2)),
    dict(dilation=2, padding=1),
    dict(groups=2),
    dict(padding="same"),
    dict(stride=3, padding=2, dilation=(1, 2)),
]


@pytest.mark.parametrize("options", CONV_VARIANTS, ids=[str(v) for v in CONV_VARIANTS])
def test_conv2d_gradients_match_finite_differences(options):
    x, bias = randn(2, 4, 6, 5), randn(2, seed=2)
    weight = randn(2, 4 // options.get("groups", 1), 3, 2, seed=1)

    def conv(x, weight, bias):
        return F.conv2d(x, weight, bias, **options)
    assert gradcheck(conv, x, weight, bias)
    assert gradgradcheck(conv, x, weight, bias)


POOL_VARIANTS = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(3, 2), stride=(1, 2), padding=(1, 0)),
    dict(kernel_size=2, stride=1),
    dict(kernel_size=2, ceil_mode=True),
]


@pytest.mark.parametrize("options", POOL_VARIANTS, ids=[str(v) for v in POOL_VARIANTS])
def test_pooling_gradients_match_finite_differences(options):
    # Distinct, well-separated values: a finite difference across a tie in max pooling
    # measures neither neighbour's derivative.
    x = np.random.default_rng(0).permutation(2 * 3 * 5 * 7).reshape(2, 3, 5, 7) * 0.1
    assert gradcheck(lambda x: F.max_pool2d(x, **options), x)
    assert gradgradcheck(lambda x: F.max_pool2d(x, **options), x)
    assert gradcheck(lambda x: F.avg_pool2d(x, **options), x)
    assert gradcheck(lambda x: F.avg_pool2d(x, count_include_pad=False, **options), x)
    assert gradgradcheck(lambda x: F.avg_pool2d(x, **options), x)


def test_max_pool_dilation_gradient_matches_finite_differences():
    x = np.random.default_rng(1).permutation(2 * 7 * 6).reshape(1, 2, 7, 6) * 0.1
    assert gradcheck(lambda x: F.max_pool2d(x, 3, stride=2, padding=1, dilation=2), x)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2), (3, 3, 2, 2)])
def test_batch_norm_gradients_match_finite_differences(shape, training):
    x = randn(*shape) + np.arange(np.prod(shape)).reshape(shape) % 4
    weight, bias = randn(3, seed=1) + 2, randn(3, seed=2)
    running_mean, running_var = randn(3, seed=3), randn(3, seed=4) ** 2 + 0.5

    def batch_norm(x, weight, bias):
        return F.batch_norm(x, running_mean.copy(), running_var.copy(), weight, bias,
                            training=training)
    assert gradcheck(batch_norm, x, weight, bias)
    assert gradgradcheck(batch_norm, x, weight, bias)


def test_layer_norm_and_linear_gradients_match_finite_differences():
    x, weight, bias = randn(3, 2, 4), randn(2, 4, seed=1), randn(2, 4, seed=2)
    assert gradcheck(lambda x, w, b: F.layer_norm(x, (2, 4), w, b), x, weight, bias)
    assert gradgradcheck(lambda x, w, b: F.layer_norm(x, (2, 4), w, b), x, weight, bias)
    w, b = randn(5, 4, seed=3), randn(5, seed=4)
    assert gradcheck(F.linear, x, w, b)
    assert gradgradcheck(F.linear, x, w, b)


@pytest.mark.parametrize("activation", [
    lambda x: F.leaky_relu(x, 0.2), F.silu, F.gelu, lambda x: F.gelu(x, approximate="tanh")])
def test_activation_second_derivatives_match_finite_differences(activation):
    x = randn(3, 4) + 0.05  # away from leaky_relu's kink at 0
    assert gradcheck(activation, x)
    assert gradgradcheck(activation, x)


def test_whole_model_gradient_matches_finite_differences():
    nn.manual_seed(0)
    model = as_float64(nn.Sequential(
        nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.SiLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(12, 5), nn.LayerNorm(5), nn.GELU(), nn.Linear(5, 2)))
    x = randn(3, 2, 4, 4)
    cotangent = randn(3, 2, seed=1)
    parameters = list(model.parameters())

    def loss(x, *values):
        for parameter, value in zip(parameters, values):
            parameter.data = np.array(value.data)
        return (model(x) * cotangent).sum()
    initial = [np.array(p.data) for p in parameters]
    assert gradcheck(lambda x: loss(x, *initial), x)
    numeric = numerical_grad(loss, x, *initial)[1:]
    model.zero_grad()
    loss(Tensor(x), *initial).backward()
    for (name, parameter), expected in zip(model.named_parameters(), numeric):
        np.testing.assert_allclose(parameter.grad.data, expected, rtol=1e-4, atol=1e-6,
                                   err_msg=name)


# --- BatchNorm ---------------------------------------------------------------------------
def test_batch_norm_train_uses_batch_statistics_and_eval_uses_running_ones():
    bn = nn.BatchNorm1d(2, momentum=0.5, dtype=np.float64)
    x = np.array([[1.0, 10.0], [3.0, 14.0], [5.0, 18.0]])
    out = bn(Tensor(x)).data
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), 1.0 / (1.0 + 1e-5 / x.var(axis=0)), rtol=1e-9)
    # running = 0.5 * initial + 0.5 * batch, variance unbiased (n - 1 = 2)
    np.testing.assert_allclose(bn.running_mean.data, 0.5 * np.array([3.0, 14.0]))
    np.testing.assert_allclose(bn.running_var.data, 0.5 + 0.5 * np.array([4.0, 16.0]))
    assert bn.num_batches_tracked.item() == 1
    bn.eval()
    expected = (x - bn.running_mean.data) / np.sqrt(bn.running_var.data + 1e-5)
    np.testing.assert_allclose(bn(Tensor(x)).data, expected)
    assert bn.num_batches_tracked.item() == 1  # eval leaves the statistics alone


def test_batch_norm_needs_more_than_one_value_per_channel_in_training():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(Tensor(np.ones((1, 3), dtype=np.float32)))
    bn.eval()
    assert bn(Tensor(np.ones((1, 3), dtype=np.float32))).shape == (1, 3)


def test_batch_norm_float32_stays_float32():
    bn = nn.BatchNorm2d(3)
    out = bn(Tensor(randn(4, 3, 2, 2).astype(np.float32)))
    assert out.dtype == np.float32 and bn.running_var.dtype == np.float32
    assert bn.num_batches_tracked.dtype == np.int64


# --- Dropout -----------------------------------------------------------------------------
def test_dropout_is_reproducible_under_manual_seed():
    x = Tensor(np.ones((20, 30), dtype=np.float32))
    nn.manual_seed(123)
    first = nn.Dropout(0.4)(x).data
    nn.manual_seed(123)
    second = nn.Dropout(0.4)(x).data
    third = nn.Dropout(0.4)(x).data
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(second, third)
    assert set(np.unique(first)) == {0.0, np.float32(1 / 0.6)}
    assert first.dtype == np.float32


def test_dropout_rejects_probabilities_outside_zero_one():
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(Tensor(np.ones(3)), p=-0.1)


# --- initialisation ------------------------------------------------------------------------
def test_calculate_gain_matches_torch(torch):
    for nonlinearity, param in [("linear", None), ("conv2d", None), ("sigmoid", None),
                                ("tanh", None), ("relu", None), ("leaky_relu", None),
                                ("leaky_relu", 0.2), ("leaky_relu", 0), ("selu", None)]:
        assert nn.init.calculate_gain(nonlinearity, param) == pytest.approx(
            torch.nn.init.calculate_gain(nonlinearity, param))
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        nn.init.calculate_gain("swish")


def test_default_initialisation_bounds_are_torchs():
    nn.manual_seed(0)
    linear = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for parameter in (linear.weight, linear.bias):
        assert np.abs(parameter.data).max() <= bound
        assert np.abs(parameter.data).max() > 0.95 * bound  # uniform fills the interval
    conv = nn.Conv2d(6, 8, (3, 5), groups=2)
    bound = 1 / math.sqrt(3 * 3 * 5)
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.bias.data).max() <= bound
    bn = nn.BatchNorm1d(4)
    assert np.all(bn.weight.data == 1) and np.all(bn.bias.data == 0)
    embedding = nn.Embedding(1000, 20, padding_idx=3)
    assert abs(embedding.weight.data.std() - 1) < 0.05 and np.all(embedding.weight.data[3] == 0)


@pytest.mark.parametrize("name, kwargs, expected_std", [
    ("kaiming_normal_", dict(nonlinearity="relu"), math.sqrt(2 / 500)),
    ("kaiming_normal_", dict(a=0.01, nonlinearity="leaky_relu", mode="fan_out"),
     math.sqrt(2 / (1 + 0.01 ** 2)) / math.sqrt(400)),
    ("kaiming_uniform_", dict(nonlinearity="relu"), math.sqrt(2 / 500)),
    ("xavier_normal_", dict(gain=2.0), 2.0 * math.sqrt(2 / 900)),
    ("xavier_uniform_", dict(), math.sqrt(2 / 900)),
    ("normal_", dict(mean=0.0, std=0.3), 0.3),
])
def test_init_distributions_have_torchs_spread(name, kwargs, expected_std):
    nn.manual_seed(1)
    weight = nn.Parameter(np.zeros((400, 500)))
    result = getattr(nn.init, name)(weight, **kwargs)
    assert result is weight
    assert weight.data.std() == pytest.approx(expected_std, rel=0.02)
    assert abs(weight.data.mean()) < 0.01 * max(expected_std, 1e-3) * 10


def test_init_is_reproducible_and_dtype_independent():
    nn.manual_seed(5)
    a = nn.init.uniform_(nn.Parameter(np.zeros((3, 4), dtype=np.float32)), -1, 1)
    nn.manual_seed(5)
    b = nn.init.uniform_(nn.Parameter(np.zeros((3, 4), dtype=np.float64)), -1, 1)
    np.testing.assert_allclose(a.data, b.data, rtol=1e-7)
    assert a.dtype == np.float32
    nn.manual_seed(5)
    first = nn.Linear(4, 3).weight.data.copy()
    nn.manual_seed(5)
    np.testing.assert_array_equal(nn.Linear(4, 3).weight.data, first)


def test_init_constant_helpers_and_errors():
    weight = nn.Parameter(np.ones((2, 3)))
    nn.init.zeros_(weight)
    assert np.all(weight.data == 0)
    nn.init.constant_(weight, 2.5)
    assert np.all(weight.data == 2.5)
    nn.init.ones_(weight)
    assert np.all(weight.data == 1)
    nn.init.eye_(weight)
    np.testing.assert_array_equal(weight.data, np.eye(2, 3))
    assert weight.grad is None and weight.is_leaf
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(nn.Parameter(np.zeros(5)))
    with pytest.raises(ValueError, match="mode"):
        nn.init.kaiming_normal_(weight, mode="fan_middle")


# --- shapes, dtypes and odds -----------------------------------------------------------------
def test_layers_keep_float32():
    nn.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.ReLU(),
                          nn.AvgPool2d(2), nn.Flatten(), nn.Linear(8, 4), nn.LayerNorm(4),
                          nn.GELU(), nn.Dropout(0.2), nn.Linear(4, 3), nn.LogSoftmax(dim=1))
    out = model(Tensor(randn(2, 1, 4, 4).astype(np.float32)))
    assert out.dtype == np.float32 and out.shape == (2, 3)
    out.sum().backward()
    assert all(p.grad.dtype == np.float32 for p in model.parameters())


def test_softmax_without_dim_uses_torchs_implicit_choice():
    x = randn(2, 3)
    np.testing.assert_allclose(nn.Softmax()(Tensor(x)).data.sum(axis=1), 1.0)
    x3 = randn(2, 3, 4)
    np.testing.assert_allclose(nn.Softmax()(Tensor(x3)).data.sum(axis=0), 1.0)


def test_embedding_accepts_tensors_lists_and_arrays_of_indices():
    embedding = nn.Embedding(5, 2)
    expected = embedding.weight.data[[1, 4]]
    for indices in ([1, 4], np.array([1, 4]), Tensor(np.array([1, 4]))):
        np.testing.assert_array_equal(embedding(indices).data, expected)


def test_embedding_repeated_indices_accumulate_gradients():
    embedding = nn.Embedding(4, 2, dtype=np.float64)
    embedding(np.array([1, 1, 3, 1])).sum().backward()
    np.testing.assert_array_equal(embedding.weight.grad.data[:, 0], [0, 3, 0, 1])


def test_flatten_functional_and_module():
    x = Tensor(randn(2, 3, 4))
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0, -1)(x).shape == (24,)
    assert F.flatten(x, 1, 1).shape == (2, 3, 4)
    with pytest.raises(ValueError, match="start_dim"):
        F.flatten(x, 2, 1)


# --- bad input -------------------------------------------------------------------------------
def test_linear_wrong_width_names_the_layer_path_and_both_shapes():
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    with pytest.raises(ValueError) as error:
        model(Tensor(np.zeros((100, 783), dtype=np.float32)))
    assert str(error.value) == ("Linear '0' expected input with last dimension 784, "
                                "got shape (100, 783)")


def test_nested_layer_errors_name_the_full_dotted_path():
    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(4, 3)

        def forward(self, x):
            return self.fc1(x)

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = Encoder()
            self.head = nn.Sequential(nn.Linear(2, 2))

        def forward(self, x):
            return self.head(self.encoder(x))

    model = Model()
    with pytest.raises(ValueError,
                       match=r"Linear 'encoder\.fc1' expected .* 4, got shape \(2, 5\)"):
        model(Tensor(np.zeros((2, 5))))
    with pytest.raises(ValueError, match=r"Linear 'head\.0' expected .* 2, got shape \(2, 3\)"):
        model(Tensor(np.zeros((2, 4), np.float32)))
    with pytest.raises(ValueError, match=r"^Linear expected input with last dimension 4"):
        nn.Linear(4, 3)(Tensor(np.zeros((2, 5))))  # a module called on its own has no path


@pytest.mark.parametrize("module, x, message", [
    (lambda: nn.Sequential(nn.Conv2d(3, 8, 3)), np.zeros((2, 4, 8, 8)),
     r"Conv2d '0' expected input with 3 channels.*got shape \(2, 4, 8, 8\)"),
    (lambda: nn.Conv2d(3, 8, 3), np.zeros((3, 8)), r"Conv2d expected a 4-d input"),
    (lambda: nn.Conv2d(3, 8, 3), np.zeros((2, 8, 8)),
     r"Conv2d expected input with 3 channels, shape \(3, H, W\), got shape \(2, 8, 8\)"),
    (lambda: nn.Conv2d(3, 8, 5), np.zeros((1, 3, 3, 3), np.float32),
     r"smaller than the \(dilated\) kernel"),
    (lambda: nn.Sequential(nn.Flatten(), nn.BatchNorm1d(5)), np.zeros((4, 6)),
     r"BatchNorm1d '1' expected input with 5 features.*got shape \(4, 6\)"),
    (lambda: nn.BatchNorm1d(3), np.zeros((2, 3, 4, 4)), r"expected 2D or 3D input, got 4D"),
    (lambda: nn.BatchNorm2d(3), np.zeros((2, 3)), r"expected 4D input, got 2D"),
    (lambda: nn.LayerNorm(4), np.zeros((2, 5)), r"last dimensions are \(4,\), got shape \(2, 5\)"),
    (lambda: nn.MaxPool2d(2), np.zeros((2, 4)), r"MaxPool2d expected a 4-d input"),
    (lambda: nn.MaxPool2d(2, padding=2), np.zeros((1, 1, 4, 4)), r"padding should be at most half"),
    (lambda: nn.Embedding(3, 2), np.zeros(4),
     r"Embedding expected integer indices, got dtype float64"),
    (lambda: nn.Embedding(3, 2), np.array([0, 3]), r"index 3 is out of range for 3 embeddings"),
])
def test_bad_input_raises_a_clear_error(module, x, message):
    with pytest.raises((ValueError, TypeError, IndexError), match=message):
        module()(x if x.dtype.kind == "i" else Tensor(x))


def test_constructor_arguments_are_checked():
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="strided"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(TypeError, match="kernel_size must be an int or a pair"):
        nn.Conv2d(3, 4, "3")
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(3, 2, padding_idx=3)


def test_functional_ops_name_themselves_on_bad_shapes():
    with pytest.raises(ValueError, match=r"linear: expected x of shape \(\.\.\., 3\)"):
        F.linear(np.zeros((2, 4)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="conv2d: expected an input with 2 channels"):
        F.conv2d(np.zeros((1, 3, 5, 5)), np.zeros((4, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"batch_norm: expected weight of shape \(3,\)"):
        F.batch_norm(np.zeros((2, 3)), None, None, np.ones(4), training=True)
    with pytest.raises(ValueError, match="fold: expected columns of shape"):
        F.fold(np.zeros((1, 8, 5)), (4, 4), 2)
