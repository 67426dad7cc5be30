"""The conv family against PyTorch in float64: Conv1d, ConvTranspose1d/2d, MaxPool1d,
AvgPool1d, AdaptiveAvgPool1d/2d, GroupNorm, Upsample built from Hypothesis-drawn small
sizes and options, weights copied by state_dict key, then equal outputs, input gradients
and gradients of every parameter for a random cotangent. Plus the behaviours parity
cannot show: max pooling's tie rule on both paths, Dropout2d's channel masks, the
default initialisation bounds and the errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import nn
import nn.functional as F
from autograd import Tensor

RTOL, ATOL = 1e-6, 1e-9


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def assert_close(ours, theirs, what):
    ours = ours.data if isinstance(ours, Tensor) else np.asarray(ours)
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != {theirs.shape}"
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL, err_msg=what)


def check_against_torch(torch, ours, theirs, x, seed=0):
    """Same weights (by state_dict key), same input: equal outputs and gradients."""
    ours.to(np.float64)
    theirs.double()
    ours.load_state_dict({key: value.detach().numpy().copy()
                          for key, value in theirs.state_dict().items()})
    our_x, their_x = Tensor(x.copy(), requires_grad=True), torch.tensor(x, requires_grad=True)
    our_out, their_out = ours(our_x), theirs(their_x)
    assert_close(our_out, their_out, "output")
    cotangent = np.random.default_rng(seed).standard_normal(their_out.shape)
    (our_out * cotangent).sum().backward()
    (their_out * torch.from_numpy(cotangent)).sum().backward()
    assert_close(our_x.grad, their_x.grad, "input gradient")
    their_parameters = dict(theirs.named_parameters())
    our_parameters = dict(ours.named_parameters())
    assert our_parameters.keys() == their_parameters.keys()
    for name, parameter in their_parameters.items():
        assert_close(our_parameters[name].grad, parameter.grad, f"gradient of {name}")


def draw_input(data, shape):
    seed = data.draw(st.integers(0, 2 ** 16), label="input seed")
    return np.random.default_rng(seed).standard_normal(shape)


@settings(max_examples=15)
@given(data=st.data())
def test_conv1d_matches_torch(torch, data):
    groups = data.draw(st.sampled_from((1, 2)))
    in_channels, out_channels = groups * data.draw(st.integers(1, 2)), groups * data.draw(st.integers(1, 3))
    kernel, stride, dilation = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 2)),
                                data.draw(st.integers(1, 2)))
    padding = data.draw(st.sampled_from((0, 1, 2, "valid") + (("same",) if stride == 1 else ())))
    bias = data.draw(st.booleans())
    length = dilation * (kernel - 1) + 1 + data.draw(st.integers(0, 5))
    batch = data.draw(st.sampled_from(((), (1,), (3,))))
    options = dict(stride=stride, padding=padding, dilation=dilation, groups=groups, bias=bias)
    check_against_torch(torch, nn.Conv1d(in_channels, out_channels, kernel, **options),
                        torch.nn.Conv1d(in_channels, out_channels, kernel, **options),
                        draw_input(data, batch + (in_channels, length)))


@settings(max_examples=15)
@given(data=st.data())
def test_conv_transpose2d_matches_torch(torch, data):
    groups = data.draw(st.sampled_from((1, 2)))
    in_channels, out_channels = groups * data.draw(st.integers(1, 2)), groups * data.draw(st.integers(1, 2))
    kernel = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    stride = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 2)))
    dilation = data.draw(st.integers(1, 2))
    output_padding = tuple(data.draw(st.integers(0, max(s, dilation) - 1)) for s in stride)
    padding = data.draw(st.integers(0, 1))
    sides = (data.draw(st.integers(2, 4)), data.draw(st.integers(2, 4)))
    batch = data.draw(st.sampled_from(((), (2,))))
    options = dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups,
                   dilation=dilation, bias=data.draw(st.booleans()))
    check_against_torch(torch, nn.ConvTranspose2d(in_channels, out_channels, kernel, **options),
                        torch.nn.ConvTranspose2d(in_channels, out_channels, kernel, **options),
                        draw_input(data, batch + (in_channels,) + sides))


@settings(max_examples=10)
@given(data=st.data())
def test_conv_transpose1d_matches_torch(torch, data):
    kernel, stride = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 3))
    options = dict(stride=stride, padding=data.draw(st.integers(0, 1)),
                   output_padding=data.draw(st.integers(0, stride - 1)),
                   bias=data.draw(st.booleans()))
    length = data.draw(st.integers(2, 6))
    check_against_torch(torch, nn.ConvTranspose1d(2, 3, kernel, **options),
                        torch.nn.ConvTranspose1d(2, 3, kernel, **options),
                        draw_input(data, (2, 2, length)))


@settings(max_examples=15)
@given(data=st.data())
def test_pool1d_matches_torch(torch, data):
    kernel = data.draw(st.integers(1, 4))
    stride = data.draw(st.one_of(st.none(), st.integers(1, 3)))
    padding = data.draw(st.integers(0, kernel // 2))
    ceil_mode = data.draw(st.booleans())
    shape = data.draw(st.sampled_from(((2, 3), (1, 2), (3,)))) + (kernel + data.draw(st.integers(0, 6)),)
    x = draw_input(data, shape)
    if data.draw(st.booleans(), label="average"):
        include = data.draw(st.booleans())
        ours = nn.AvgPool1d(kernel, stride, padding, ceil_mode, count_include_pad=include)
        theirs = torch.nn.AvgPool1d(kernel, stride, padding, ceil_mode, count_include_pad=include)
    else:
        dilation = data.draw(st.integers(1, 2))
        if dilation * (kernel - 1) + 1 > shape[-1] + 2 * padding:
            dilation = 1
        options = dict(stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
        ours, theirs = nn.MaxPool1d(kernel, **options), torch.nn.MaxPool1d(kernel, **options)
    check_against_torch(torch, ours, theirs, x)


@settings(max_examples=15)
@given(data=st.data())
def test_adaptive_avg_pool_matches_torch(torch, data):
    if data.draw(st.booleans(), label="2-d"):
        output = data.draw(st.one_of(st.integers(1, 5),
                                     st.tuples(st.one_of(st.none(), st.integers(1, 5)),
                                               st.integers(1, 5))))
        ours, theirs = nn.AdaptiveAvgPool2d(output), torch.nn.AdaptiveAvgPool2d(output)
        shape = data.draw(st.sampled_from(((2, 3), (2,)))) + (data.draw(st.integers(1, 9)),
                                                             data.draw(st.integers(1, 9)))
    else:
        output = data.draw(st.integers(1, 6))
        ours, theirs = nn.AdaptiveAvgPool1d(output), torch.nn.AdaptiveAvgPool1d(output)
        shape = data.draw(st.sampled_from(((2, 3), (2,)))) + (data.draw(st.integers(1, 11)),)
    check_against_torch(torch, ours, theirs, draw_input(data, shape))


@settings(max_examples=15)
@given(data=st.data())
def test_group_norm_matches_torch(torch, data):
    groups = data.draw(st.integers(1, 3))
    channels = groups * data.draw(st.integers(1, 3))
    spatial = tuple(data.draw(st.lists(st.integers(2, 4), min_size=1, max_size=2)))
    affine, eps = data.draw(st.booleans()), data.draw(st.sampled_from((1e-5, 1e-3)))
    ours = nn.GroupNorm(groups, channels, eps=eps, affine=affine)
    theirs = torch.nn.GroupNorm(groups, channels, eps=eps, affine=affine)
    if affine:  # not the identity affine map, so the parameter gradients mean something
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 2.0)
            theirs.bias.uniform_(-1.0, 1.0)
    x = draw_input(data, (data.draw(st.integers(1, 3)), channels) + spatial)
    check_against_torch(torch, ours, theirs, x * 2 + 1)


@settings(max_examples=20)
@given(data=st.data())
def test_upsample_matches_torch(torch, data):
    mode = data.draw(st.sampled_from(("nearest", "linear", "bilinear")))
    rank = 1 if mode == "linear" else 2 if mode == "bilinear" else data.draw(st.integers(1, 2))
    spatial = tuple(data.draw(st.integers(1, 6)) for _ in range(rank))
    options = dict(mode=mode)
    if data.draw(st.booleans(), label="by size"):
        options["size"] = tuple(data.draw(st.integers(1, 9)) for _ in range(rank))
    else:
        options["scale_factor"] = data.draw(st.sampled_from((2, 3, 1.5, 0.5, 2.25)))
        if min(int(side * options["scale_factor"]) for side in spatial) < 1:
            options["scale_factor"] = 2
    if mode != "nearest":
        options["align_corners"] = data.draw(st.booleans())
    check_against_torch(torch, nn.Upsample(**options), torch.nn.Upsample(**options),
                        draw_input(data, (2, 3) + spatial))


@pytest.mark.parametrize("kernel, stride", [(2, None), (3, None), (2, 1), ((2, 3), (2, 3))])
def test_max_pool2d_gives_ties_to_the_first_maximum_as_torch(torch, kernel, stride):
    # Integer values make many ties; kernel == stride takes the strided-slices path.
    x = np.random.default_rng(0).integers(0, 3, (2, 3, 7, 8)).astype(np.float64)
    ours, theirs = Tensor(x.copy(), requires_grad=True), torch.tensor(x, requires_grad=True)
    our_out = F.max_pool2d(ours, kernel, stride)
    their_out = torch.nn.functional.max_pool2d(theirs, kernel, stride)
    assert_close(our_out, their_out, "output")
    cotangent = np.random.default_rng(1).standard_normal(our_out.shape)
    (our_out * cotangent).sum().backward()
    (their_out * torch.from_numpy(cotangent)).sum().backward()
    assert_close(ours.grad, theirs.grad, "input gradient")


def test_max_pool2d_fast_path_is_twice_differentiable_with_ties():
    import autograd as ag
    x = Tensor(np.array([[[[1.0, 1.0, 0.0, 2.0], [0.0, 1.0, 2.0, 2.0]]]]), requires_grad=True)
    (grad,) = ag.grad(F.max_pool2d(x, 2).sum() * 3, [x], create_graph=True)
    np.testing.assert_array_equal(grad.data, [[[[3, 0, 0, 3], [0, 0, 0, 0]]]])
    (second,) = ag.grad((grad * x).sum(), [x])   # d/dx sum(mask * 3 * x) = mask * 3
    np.testing.assert_array_equal(second.data, grad.data)


def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    nn.manual_seed(0)
    layer = nn.Dropout2d(0.5)
    x = np.random.default_rng(0).uniform(1.0, 2.0, (8, 16, 3, 4))
    out = layer(Tensor(x)).data
    dropped = np.all(out == 0, axis=(2, 3))
    kept = np.all(np.isclose(out, 2 * x), axis=(2, 3))
    assert np.all(dropped | kept)
    assert 0.3 < dropped.mean() < 0.7
    layer.eval()
    assert layer(Tensor(x)).data is not None
    np.testing.assert_array_equal(np.asarray(layer(Tensor(x)).data), x)


def test_dropout2d_gradient_is_the_channel_mask():
    nn.manual_seed(1)
    x = Tensor(np.ones((4, 6, 2, 2)), requires_grad=True)
    out = F.dropout2d(x, p=0.25)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, out.data)   # 0 or 1 / (1 - p), per channel


def test_dropout2d_is_reproducible_with_manual_seed_and_reads_3d_as_n_c_l():
    x = Tensor(np.ones((3, 5, 7)))
    nn.manual_seed(3)
    first = F.dropout2d(x, 0.5).data
    nn.manual_seed(3)
    np.testing.assert_array_equal(F.dropout2d(x, 0.5).data, first)
    assert np.all(np.ptp(first, axis=2) == 0)      # one decision per (sample, channel)


@pytest.mark.parametrize("build, weight_shape, fan_in", [
    (lambda: nn.Conv1d(4, 6, 3, groups=2), (6, 2, 3), 6),
    (lambda: nn.ConvTranspose2d(4, 6, 3, groups=2), (4, 3, 3, 3), 27),
    (lambda: nn.ConvTranspose1d(2, 5, 4), (2, 5, 4), 20),
])
def test_default_initialisation_bounds_follow_torch(build, weight_shape, fan_in):
    layer = build()
    assert layer.weight.shape == weight_shape
    bound = 1 / np.sqrt(fan_in)
    assert np.abs(layer.weight.data).max() <= bound
    assert np.abs(layer.bias.data).max() <= bound
    assert np.abs(layer.weight.data).max() > bound / 2   # drawn, not left at zero


@pytest.mark.parametrize("call, message", [
    (lambda: nn.Conv1d(3, 4, 3)(Tensor(np.ones((2, 2, 9)))), "Conv1d expected input with 3 channels"),
    (lambda: nn.Conv1d(3, 4, 3)(Tensor(np.ones((2, 3, 9, 9)))), "Conv1d expected a 3-d input"),
    (lambda: nn.Conv1d(3, 4, 3, stride=2, padding="same"), "not supported for strided"),
    (lambda: nn.ConvTranspose2d(2, 2, 3, stride=1, output_padding=1),
     "output_padding must be smaller"),
    (lambda: nn.GroupNorm(3, 4), "divisible by num_groups"),
    (lambda: nn.GroupNorm(2, 4)(Tensor(np.ones((2, 6, 3)))), "GroupNorm expected an input"),
    (lambda: F.interpolate(Tensor(np.ones((1, 1, 4))), scale_factor=2, mode="bilinear"),
     "mode 'bilinear' expects a 4-d input"),
    (lambda: F.interpolate(Tensor(np.ones((1, 1, 4))), scale_factor=2, align_corners=True),
     "align_corners option can only be set"),
    (lambda: F.interpolate(Tensor(np.ones((1, 1, 4)))), "exactly one of size and scale_factor"),
    (lambda: F.interpolate(Tensor(np.ones((1, 1, 4))), size=3, mode="cubic"), "mode must be"),
    (lambda: F.adaptive_avg_pool2d(Tensor(np.ones((1, 1, 4, 4))), (2, 0)), "output_size"),
    (lambda: F.dropout2d(Tensor(np.ones((2, 3))), 0.5), "dropout2d: expected a 4-d input"),
    (lambda: nn.MaxPool1d(2)(Tensor(np.ones((1, 1, 2, 4)))), "MaxPool1d expected a 3-d input"),
])
def test_errors_name_the_layer_and_what_came(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_conv2d_weight_gradient_from_saved_columns_survives_retain_graph():
    # The forward's im2col columns serve the weight gradient of every retained backward.
    rng = np.random.default_rng(0)
    layer = nn.Conv2d(2, 3, 3, padding=1, dtype=np.float64)
    x = Tensor(rng.standard_normal((2, 2, 5, 4)), requires_grad=True)
    out = (layer(x) ** 2).sum()
    out.backward(retain_graph=True)
    first = layer.weight.grad.data.copy(), x.grad.data.copy()
    out.backward()
    np.testing.assert_allclose(layer.weight.grad.data, 2 * first[0])
    np.testing.assert_allclose(x.grad.data, 2 * first[1])
