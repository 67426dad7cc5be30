"""Every error path names the op or argument, what was expected and what came.

Each case checks the exception type and that the message names the culprit, so that a
bare NumPy traceback from deep inside (which names neither) fails the test.
"""
import numpy as np
import pytest

import autograd as ag
from autograd import Tensor


def leaf(shape=(2, 3)):
    return Tensor(np.ones(shape), requires_grad=True)


# --- backward ------------------------------------------------------------------------------

def test_non_scalar_backward_needs_grad():
    with pytest.raises(RuntimeError, match=r"backward.*one-element.*\(2, 3\)"):
        (leaf() * 2).backward()


def test_backward_grad_of_wrong_shape():
    with pytest.raises(ValueError, match=r"backward.*\(3,\).*\(2, 3\)"):
        (leaf() * 2).backward(np.ones(3))


def test_backward_on_tensor_not_requiring_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(np.ones(2)).sum().backward()
    with ag.no_grad():
        y = (leaf() * 2).sum()
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_second_backward_through_freed_graph_names_op_and_retain_graph():
    y = (leaf() * 2).exp().sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"(?s)'sum'.*retain_graph=True"):
        y.backward()


def test_second_backward_through_a_freed_subgraph():
    x = leaf()
    shared = x.exp()
    shared.sum().backward()
    with pytest.raises(RuntimeError, match=r"(?s)'exp'.*retain_graph=True"):
        (shared * 2).sum().backward()


# --- tensors and dtypes ---------------------------------------------------------------------

def test_int_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match=r"floating.*int64"):
        Tensor(np.arange(3), requires_grad=True)
    with pytest.raises(TypeError, match=r"floating.*bool"):
        Tensor(np.array([True]), requires_grad=True)


def test_tensor_from_non_numbers():
    with pytest.raises(TypeError, match="not numbers"):
        Tensor([object()])


def test_item_of_many_elements():
    with pytest.raises(ValueError, match=r"item.*\(2, 3\)"):
        leaf().item()


# --- NumPy dispatch -------------------------------------------------------------------------

def test_unregistered_numpy_function_is_named():
    with pytest.raises(TypeError, match=r"numpy\.convolve has no registered autograd op"):
        np.convolve(leaf()[0], leaf()[1])
    with pytest.raises(TypeError, match=r"numpy\.heaviside has no registered autograd op"):
        np.heaviside(leaf(), 1.0)


def test_ufunc_out_argument_with_two_outputs_is_refused():
    with pytest.raises(TypeError, match=r"numpy\.divmod: out= with 2 outputs"):
        np.divmod(leaf(), 2.0, out=(np.empty((2, 3)), np.empty((2, 3))))


def test_ufunc_method_on_tensor():
    with pytest.raises(TypeError, match=r"numpy\.multiply\.accumulate"):
        np.multiply.accumulate(leaf())


# --- arguments ------------------------------------------------------------------------------

def test_unknown_keyword_names_the_function_and_the_argument():
    with pytest.raises(TypeError, match=r"sum\(\).*'?axs'?.*accepts.*axis"):
        ag.sum(leaf(), axs=0)
    with pytest.raises(TypeError, match=r"mean\(\).*keepdimz"):
        leaf().mean(keepdimz=True)
    with pytest.raises(TypeError, match=r"mean\(\) got both dim= and axis="):
        leaf().mean(dim=0, axis=0)
    with pytest.raises(TypeError, match=r"reshape\(\).*order"):
        leaf().reshape(3, 2, order="F")


def test_too_many_positional_arguments():
    with pytest.raises(TypeError, match=r"sum\(\) takes at most 3"):
        ag.sum(leaf(), 0, True, 1)


def test_missing_argument_is_named():
    with pytest.raises(TypeError, match=r"where\(\).*'y'"):
        ag.where(np.array([True]), leaf((1,)))


@pytest.mark.parametrize("name", ["sum", "mean"])
def test_bad_axis_names_the_op(name):
    x = leaf()
    function = getattr(ag, name)
    with pytest.raises(ValueError, match=rf"{name}: axis 2 is out of range for a 2-d input"):
        function(x, axis=2)
    with pytest.raises(ValueError, match=rf"{name}: axis .* repeats"):
        function(x, axis=(1, -1))
    with pytest.raises(TypeError, match=rf"{name}: axis must be"):
        function(x, axis=0.5)


@pytest.mark.parametrize("name", ["var", "std", "max", "min", "prod", "logsumexp", "argmax",
                                  "argmin", "softmax", "log_softmax"])
def test_bad_axis_names_the_op_in_every_reduction(name):
    with pytest.raises(ValueError, match=rf"{name}.*axis"):
        getattr(ag, name)(leaf(), axis=3)


def test_reshape_to_the_wrong_size():
    with pytest.raises(ValueError, match=r"reshape.*\(2, 3\).*\(4, 2\)"):
        leaf().reshape(4, 2)


def test_transpose_with_bad_axes():
    with pytest.raises(ValueError, match=r"transpose.*\(0, 0\)"):
        leaf().transpose(0, 0)


def test_broadcast_to_an_incompatible_shape():
    with pytest.raises(ValueError, match=r"broadcast_to.*\(2, 3\).*\(4, 3\)"):
        ag.broadcast_to(leaf(), (4, 3))


@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "divide", "maximum"])
def test_binary_op_with_unbroadcastable_shapes_names_the_op(name):
    with pytest.raises(ValueError, match=rf"{name}.*\(2, ?3\).*\(4,\)"):
        getattr(ag, name)(leaf(), np.ones(4))


def test_operator_with_unbroadcastable_shapes_names_the_op():
    with pytest.raises(ValueError, match=r"add.*\(2, ?3\).*\(4,\)"):
        leaf() + leaf((4,))


def test_clip_without_bounds():
    with pytest.raises(ValueError, match="clip: at least one of a_min and a_max"):
        ag.clip(leaf())


# --- ops with structured arguments ----------------------------------------------------------

def test_matmul_with_incompatible_shapes():
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        leaf((2, 3)) @ leaf((4, 5))
    with pytest.raises(ValueError, match="matmul"):
        ag.matmul(leaf(()), leaf((3,)))


def test_dot_and_tensordot_with_incompatible_shapes():
    with pytest.raises(ValueError, match="dot"):
        ag.dot(leaf((2, 3)), leaf((2, 3)))
    with pytest.raises(ValueError, match="tensordot"):
        ag.tensordot(leaf((2, 3)), leaf((4, 5)), axes=1)


def test_bad_einsum():
    with pytest.raises(ValueError, match="einsum"):
        ag.einsum("ij,jk->ik", leaf((2, 3)), leaf((4, 5)))
    with pytest.raises(ValueError, match="einsum"):
        ag.einsum("ij->ik", leaf((2, 3)))


def test_bad_index():
    x = leaf((3, 4))
    with pytest.raises(IndexError, match=r"getitem.*\(3, 4\)"):
        x[5]
    with pytest.raises(IndexError, match="getitem"):
        x[np.array([0, 7])]
    with pytest.raises(IndexError, match="getitem"):
        x[np.array([True, False])]
    with pytest.raises(TypeError, match=r"getitem.*1\.5"):
        x[1.5]


def test_concatenate_and_stack_with_mismatched_shapes():
    with pytest.raises(ValueError, match="concatenate"):
        ag.concatenate([leaf((2, 3)), leaf((2, 4))], axis=0)
    with pytest.raises(ValueError, match="stack"):
        ag.stack([leaf((2, 3)), leaf((3, 2))])


def test_split_into_unequal_parts():
    with pytest.raises(ValueError, match="split"):
        ag.split(leaf((5,)), 2)


def test_squeeze_of_a_non_unit_axis():
    with pytest.raises(ValueError, match=r"squeeze.*axis"):
        ag.squeeze(leaf((2, 1)), axis=0)


@pytest.mark.parametrize("name, call", [
    pytest.param("swapaxes", lambda x: ag.swapaxes(x, 0, 5), id="swapaxes"),
    pytest.param("expand_dims", lambda x: ag.expand_dims(x, 4), id="expand_dims"),
    pytest.param("flip", lambda x: ag.flip(x, axis=3), id="flip"),
])
def test_shape_ops_with_bad_axes(name, call):
    with pytest.raises(ValueError, match=rf"{name}.*ax"):
        call(leaf())


def test_where_with_unbroadcastable_shapes():
    with pytest.raises(ValueError, match=r"where.*\(4,\).*\(2, ?3\)"):
        ag.where(np.ones(4, dtype=bool), leaf(), leaf())


@pytest.mark.parametrize("name", ["max", "min"])
def test_extremum_over_an_empty_axis(name):
    with pytest.raises(ValueError, match=rf"{name}.*\(0, 3\)"):
        getattr(ag, name)(leaf((0, 3)), axis=0)


BAD_STRUCTURED_ARGUMENTS = [
    ("pad", lambda x: ag.pad(x, -1), "pad_width"),
    ("pad", lambda x: ag.pad(x, ((1, 1),) * 3), "pad_width"),
    ("repeat", lambda x: ag.repeat(x, -1), "repeats"),
    ("repeat", lambda x: ag.repeat(x, 2, axis=5), "axis"),
    ("tile", lambda x: ag.tile(x, -1), "reps"),
    ("split", lambda x: ag.split(x, 4, axis=1), "sections"),
    ("split", lambda x: ag.split(x, 2, axis=4), "axis"),
    ("concatenate", lambda x: ag.concatenate([x, x], axis=4), "axis"),
    ("concatenate", lambda x: ag.concatenate([]), "at least one"),
    ("stack", lambda x: ag.stack([]), "at least one"),
    ("einsum", lambda x: ag.einsum("ij,jk->ik", x), "operand"),
    ("matmul", lambda x: ag.matmul(Tensor(np.ones(())), x), r"1-D.*\(\)"),
]


@pytest.mark.parametrize("name, call, pattern", BAD_STRUCTURED_ARGUMENTS,
                         ids=[f"{name}-{i}" for i, (name, _, _) in enumerate(BAD_STRUCTURED_ARGUMENTS)])
def test_bad_structured_arguments_name_op_and_argument(name, call, pattern):
    with pytest.raises(ValueError, match=rf"{name}.*{pattern}"):
        call(leaf())
