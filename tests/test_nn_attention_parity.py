"""Attention layers against PyTorch's in float64: weights copied by state_dict key, the
same inputs and masks give the same outputs, input gradients and gradients of every
parameter (dropout 0), over Hypothesis-drawn sizes, both layouts, both norm orders."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import nn
from autograd import Tensor
from autograd.testing import gradcheck

RTOL, ATOL = 1e-6, 1e-9


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def close(ours, theirs, what):
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != {theirs.shape}"
    np.testing.assert_allclose(ours.data, theirs, rtol=RTOL, atol=ATOL, err_msg=what)


def paired(torch, theirs, ours):
    """Both in float64, ours holding their weights (load_state_dict checks the keys)."""
    theirs.double()
    ours.to(np.float64)
    ours.load_state_dict({key: value.detach().numpy().copy()
                          for key, value in theirs.state_dict().items()})
    return theirs, ours


def compare(torch, theirs, ours, inputs, our_kwargs, their_kwargs, pick=lambda out: out,
            order=None):
    """Run both on the same float inputs (``order``: which input goes in each argument;
    self-attention passes one object three times, as users do); compare outputs and
    every gradient of sum(output * cotangent)."""
    their_inputs = [torch.tensor(x, requires_grad=True) for x in inputs]
    our_inputs = [Tensor(x.copy(), requires_grad=True) for x in inputs]
    order = range(len(inputs)) if order is None else order
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch warns about mixed mask types
        their_out = theirs(*[their_inputs[i] for i in order], **their_kwargs)
    our_out = ours(*[our_inputs[i] for i in order], **our_kwargs)
    their_main, our_main = pick(their_out), pick(our_out)
    close(our_main, their_main, "output")
    if isinstance(their_out, tuple) and their_out[1] is not None:
        close(our_out[1], their_out[1], "attention weights")
    cotangent = np.random.default_rng(1).standard_normal(tuple(their_main.shape))
    (their_main * torch.from_numpy(cotangent)).sum().backward()
    (our_main * cotangent).sum().backward()
    for index, (mine, reference) in enumerate(zip(our_inputs, their_inputs)):
        if reference.grad is not None:
            close(mine.grad, reference.grad, f"gradient of input {index}")
    our_parameters = dict(ours.named_parameters())
    assert our_parameters.keys() == dict(theirs.named_parameters()).keys()
    for name, parameter in theirs.named_parameters():
        if parameter.grad is None:
            assert our_parameters[name].grad is None or not np.any(our_parameters[name].grad.data)
        else:
            close(our_parameters[name].grad, parameter.grad, f"gradient of {name}")


def sequence(rng, batch, length, width, batch_first, batched=True):
    if not batched:
        return rng.standard_normal((length, width))
    return rng.standard_normal((batch, length, width) if batch_first else (length, batch, width))


def masks(draw, torch, rng, batch, length, source, heads, batched):
    """(ours, theirs) keyword masks of a drawn kind; every query keeps at least one key."""
    kind = draw(st.sampled_from(["none", "padding", "float", "bool", "per-head", "both"]))
    ours = {}
    if kind in ("padding", "both"):
        padding = rng.random((batch, source) if batched else (source,)) < 0.4
        padding[..., 0] = False
        ours["key_padding_mask"] = padding
    if kind in ("float", "both"):
        ours["attn_mask"] = rng.standard_normal((length, source))
    if kind == "bool":
        mask = np.triu(np.ones((length, source), bool), k=1)  # causal
        ours["attn_mask"] = mask
    if kind == "per-head":
        shape = (batch * heads if batched else heads, length, source)
        ours["attn_mask"] = rng.standard_normal(shape)
    return ours, {key: torch.tensor(value) for key, value in ours.items()}


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_multihead_attention_matches_torch(torch, data):
    draw = data.draw
    heads, head_dim = draw(st.integers(1, 3), label="heads"), draw(st.integers(1, 3))
    embed = heads * head_dim
    batch, length, source = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    batch_first, batched = draw(st.booleans()), draw(st.booleans())
    mode = draw(st.sampled_from(["self", "cross", "kdim"]))
    bias, need_weights, average = draw(st.booleans()), draw(st.booleans()), draw(st.booleans())
    if mode == "self":
        source = length
    kdim, vdim = (draw(st.integers(1, 4)), draw(st.integers(1, 4))) if mode == "kdim" else (None, None)
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    theirs, ours = paired(torch, torch.nn.MultiheadAttention(
        embed, heads, bias=bias, kdim=kdim, vdim=vdim, batch_first=batch_first),
        nn.MultiheadAttention(embed, heads, bias=bias, kdim=kdim, vdim=vdim,
                              batch_first=batch_first))
    query = sequence(rng, batch, length, embed, batch_first, batched)
    inputs = [query] if mode == "self" else [
        query, sequence(rng, batch, source, kdim or embed, batch_first, batched),
        sequence(rng, batch, source, vdim or embed, batch_first, batched)]
    our_masks, their_masks = masks(draw, torch, rng, batch, length, source, heads, batched)
    order = [0, 0, 0] if mode == "self" else [0, 1, 2]
    options = dict(need_weights=need_weights, average_attn_weights=average)
    compare(torch, theirs, ours, inputs, dict(our_masks, **options), dict(their_masks, **options),
            pick=lambda out: out[0], order=order)


def layer_options(draw):
    return dict(dim_feedforward=draw(st.integers(1, 6)),
                activation=draw(st.sampled_from(["relu", "gelu"])),
                batch_first=draw(st.booleans()), norm_first=draw(st.booleans()),
                bias=draw(st.booleans()), dropout=0.0,
                layer_norm_eps=draw(st.sampled_from([1e-5, 1e-3])))


@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_encoder_layer_matches_torch(torch, data):
    draw = data.draw
    heads, head_dim = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    d_model = heads * head_dim
    options = layer_options(draw)
    batch, length = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    theirs, ours = paired(torch, torch.nn.TransformerEncoderLayer(d_model, heads, **options),
                          nn.TransformerEncoderLayer(d_model, heads, **options))
    src = sequence(rng, batch, length, d_model, options["batch_first"])
    our_masks = {}
    if draw(st.booleans(), label="causal"):
        our_masks["src_mask"] = nn.generate_square_subsequent_mask(length, np.float64)
    if draw(st.booleans(), label="padding"):
        padding = rng.random((batch, length)) < 0.4
        padding[:, 0] = False
        our_masks["src_key_padding_mask"] = padding
    their_masks = {key: torch.tensor(value) for key, value in our_masks.items()}
    compare(torch, theirs, ours, [src], our_masks, their_masks)


@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_decoder_layer_matches_torch(torch, data):
    draw = data.draw
    heads, head_dim = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    d_model = heads * head_dim
    options = layer_options(draw)
    batch, length, source = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    theirs, ours = paired(torch, torch.nn.TransformerDecoderLayer(d_model, heads, **options),
                          nn.TransformerDecoderLayer(d_model, heads, **options))
    tgt = sequence(rng, batch, length, d_model, options["batch_first"])
    memory = sequence(rng, batch, source, d_model, options["batch_first"])
    our_masks = {"tgt_mask": nn.generate_square_subsequent_mask(length, np.float64)}
    if draw(st.booleans(), label="memory padding"):
        padding = rng.random((batch, source)) < 0.4
        padding[:, 0] = False
        our_masks["memory_key_padding_mask"] = padding
    their_masks = {key: torch.tensor(value) for key, value in our_masks.items()}
    compare(torch, theirs, ours, [tgt, memory], our_masks, their_masks)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_stack_matches_torch_and_copies_the_layer(torch, norm_first):
    layer = dict(d_model=4, nhead=2, dim_feedforward=5, dropout=0.0, batch_first=True,
                 norm_first=norm_first, activation="gelu")
    theirs = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(**layer), 3,
                                         norm=torch.nn.LayerNorm(4), enable_nested_tensor=False)
    our_layer = nn.TransformerEncoderLayer(**layer)
    ours = nn.TransformerEncoder(our_layer, 3, norm=nn.LayerNorm(4))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.layers[0] is not our_layer and ours.layers[0].linear1 is not ours.layers[1].linear1
    theirs, ours = paired(torch, theirs, ours)
    src = np.random.default_rng(0).standard_normal((2, 5, 4))
    mask = nn.generate_square_subsequent_mask(5, np.float64)
    compare(torch, theirs, ours, [src], dict(mask=mask), dict(mask=torch.tensor(mask)))


def test_decoder_stack_matches_torch(torch):
    layer = dict(d_model=4, nhead=2, dim_feedforward=3, dropout=0.0)
    theirs = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(**layer), 2)
    ours = nn.TransformerDecoder(nn.TransformerDecoderLayer(**layer), 2)
    theirs, ours = paired(torch, theirs, ours)
    rng = np.random.default_rng(0)
    compare(torch, theirs, ours, [rng.standard_normal((3, 2, 4)), rng.standard_normal((4, 2, 4))],
            {}, {})


def test_activation_module_or_callable(torch):
    theirs, ours = paired(torch, torch.nn.TransformerEncoderLayer(4, 2, 3, 0.0, torch.nn.GELU()),
                          nn.TransformerEncoderLayer(4, 2, 3, 0.0, nn.GELU()))
    compare(torch, theirs, ours, [np.random.default_rng(0).standard_normal((3, 2, 4))], {}, {})
    layer = nn.TransformerEncoderLayer(4, 2, 3, 0.0, activation=lambda x: x * 2)
    assert layer(Tensor(np.ones((3, 2, 4), np.float32))).shape == (3, 2, 4)


def test_causal_mask_matches_torch(torch):
    ours = nn.generate_square_subsequent_mask(4, np.float64)
    theirs = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    np.testing.assert_array_equal(ours, theirs.numpy())


def test_multihead_attention_default_init_follows_torch_shapes_and_biases(torch):
    ours, theirs = nn.MultiheadAttention(6, 3), torch.nn.MultiheadAttention(6, 3)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert not np.any(ours.in_proj_bias.data) and not np.any(ours.out_proj.bias.data)
    bound = np.sqrt(6.0 / (6 + 18))  # Xavier-uniform on (3 * 6, 6)
    assert np.abs(ours.in_proj_weight.data).max() <= bound


def test_multihead_attention_second_derivative():
    from autograd.testing import gradgradcheck
    nn.manual_seed(0)
    layer = nn.MultiheadAttention(4, 2, batch_first=True).to(np.float64)
    query = np.random.default_rng(0).standard_normal((1, 3, 4))
    mask = nn.generate_square_subsequent_mask(3, np.float64)
    f = lambda q: layer(q, q, q, attn_mask=mask, need_weights=False)[0]  # noqa: E731
    assert gradcheck(f, query) and gradgradcheck(f, query)


def test_dropout_in_training_only_and_reproducible():
    layer = nn.MultiheadAttention(4, 2, dropout=0.5, batch_first=True).to(np.float64)
    x = Tensor(np.random.default_rng(0).standard_normal((2, 3, 4)))
    nn.manual_seed(1)
    first = layer(x, x, x, need_weights=False)[0].data
    nn.manual_seed(1)
    again = layer(x, x, x, need_weights=False)[0].data
    np.testing.assert_array_equal(first, again)
    layer.eval()
    plain = layer(x, x, x, need_weights=False)[0].data
    assert not np.allclose(first, plain)
    np.testing.assert_allclose(layer(x, x, x)[0].data, plain, rtol=1e-12)


def test_sinusoidal_positional_encoding_matches_the_pytorch_tutorial(torch):
    import math
    d_model, max_len = 6, 10
    position = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float64)
                         * (-math.log(10000.0) / d_model))
    expected = torch.zeros(max_len, d_model, dtype=torch.float64)
    expected[:, 0::2] = torch.sin(position * div_term)
    expected[:, 1::2] = torch.cos(position * div_term)
    layer = nn.SinusoidalPositionalEncoding(d_model, max_len=max_len, dtype=np.float64)
    assert layer.state_dict() == {} and not list(layer.parameters())
    x = np.random.default_rng(0).standard_normal((7, 2, d_model))
    np.testing.assert_allclose(layer(Tensor(x)).data, x + expected[:7, None].numpy(), rtol=1e-12)
    odd = nn.SinusoidalPositionalEncoding(5, max_len=4, batch_first=True, dtype=np.float64)
    assert odd(Tensor(np.zeros((2, 4, 5)))).shape == (2, 4, 5)


def test_learned_positional_embedding_adds_and_learns():
    layer = nn.LearnedPositionalEmbedding(8, 3, batch_first=True).to(np.float64)
    x = Tensor(np.zeros((2, 5, 3)), requires_grad=True)
    out = layer(x)
    np.testing.assert_allclose(out.data, np.broadcast_to(layer.weight.data[:5], (2, 5, 3)))
    out.sum().backward()
    expected = np.zeros((8, 3))
    expected[:5] = 2.0
    np.testing.assert_allclose(layer.weight.grad.data, expected)
    assert list(layer.state_dict()) == ["weight"]


def test_bad_inputs_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match="embed_dim 10 must be divisible by num_heads 3"):
        nn.MultiheadAttention(10, 3)
    model = nn.Sequential(nn.TransformerEncoderLayer(4, 2, 8, batch_first=True))
    x = Tensor(np.zeros((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match=r"TransformerEncoderLayer '0'.*\(2, 3, 5\)"):
        model(Tensor(np.zeros((2, 3, 5))))
    with pytest.raises(ValueError, match=r"MultiheadAttention '0.self_attn'.*attn_mask of shape "
                                         r"\(3, 3\) or \(4, 3, 3\), got shape \(3, 4\)"):
        model[0](x, src_mask=np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"key_padding_mask of shape \(2, 3\), got shape \(3, 2\)"):
        model[0](x, src_key_padding_mask=np.zeros((3, 2), bool))
    with pytest.raises(TypeError, match="boolean or floating attn_mask, got dtype int64"):
        model[0](x, src_mask=np.zeros((3, 3), np.int64))
    attention = nn.MultiheadAttention(4, 2)
    with pytest.raises(ValueError, match=r"key and value with the same batch size and sequence "
                                         r"length, got key \(3, 2, 4\) and value \(5, 2, 4\)"):
        attention(np.zeros((3, 2, 4)), np.zeros((3, 2, 4)), np.zeros((5, 2, 4)))
    with pytest.raises(ValueError, match=r"query with last dimension 4, got shape \(3, 2, 6\)"):
        attention(np.zeros((3, 2, 6)), np.zeros((3, 2, 4)), np.zeros((3, 2, 4)))
    with pytest.raises(TypeError, match=r"MultiheadAttention: input dtype float64 does not "
                                        r"match the layer's float32 parameters"):
        attention(np.zeros((3, 2, 4)), np.zeros((3, 2, 4)), np.zeros((3, 2, 4)))
    with pytest.raises(ValueError, match="holds 4 positions, got a sequence of 6"):
        nn.LearnedPositionalEmbedding(4, 3)(np.zeros((6, 1, 3)))
    with pytest.raises(ValueError, match="activation should be relu/gelu"):
        nn.TransformerEncoderLayer(4, 2, activation="tanh")


def test_attention_op_is_stable_for_large_scores_and_zero_for_fully_masked_rows(torch):
    rng = np.random.default_rng(0)
    query, key, value = (rng.standard_normal(shape) for shape in ((2, 3, 4), (2, 5, 4), (2, 5, 3)))
    query *= 1e3  # scores around 1e6: exp overflows unless shifted by the row maximum
    mask = np.ones((3, 5), bool)
    mask[1] = False                                       # query 1 sees no key at all
    ours = [Tensor(x.copy(), requires_grad=True) for x in (query, key, value)]
    theirs = [torch.tensor(x, requires_grad=True) for x in (query, key, value)]
    out = nn.functional.scaled_dot_product_attention(*ours, mask)
    expected = torch.nn.functional.scaled_dot_product_attention(*theirs, torch.tensor(mask))
    assert np.all(np.isfinite(out.data)) and not np.any(out.data[:, 1])
    close(out, expected, "output")
    out.sum().backward()
    expected.sum().backward()
    for mine, reference in zip(ours, theirs):
        assert np.all(np.isfinite(mine.grad.data))
        close(mine.grad, reference.grad, "gradient")


def test_attention_dropout_is_differentiable_twice_with_a_fixed_seed():
    from autograd.testing import gradgradcheck
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal(shape) for shape in ((2, 3, 2), (2, 4, 2), (2, 4, 3))]

    def attend(q, k, v):
        nn.manual_seed(0)  # the same dropout mask on every evaluation
        return nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=0.4, is_causal=True)
    assert gradcheck(attend, *inputs) and gradgradcheck(attend, *inputs)
    nn.manual_seed(0)
    dropped = attend(*inputs).data
    plain = nn.functional.scaled_dot_product_attention(*inputs, is_causal=True).data
    assert not np.allclose(dropped, plain)
