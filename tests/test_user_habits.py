"""Issue 14, nn/viz side: the first-hour slips of PyTorch and Keras users, each as it was
typed, now working or answered by a message that says what to do (key words asserted)."""
import configparser
import inspect
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

import autograd as ag
import nn
import viz
from autograd import Tensor
from nn.data import train_test_split
from nn.datasets import fashion_mnist, two_moons
from nn.training import EarlyStopping, ModelCheckpoint, TerminateOnNaN, evaluate, fit, predict

F = nn.functional
ROOT = Path(__file__).resolve().parents[1]
X, Y = two_moons(120, noise=0.2, seed=0)


def make_model(dropout=0.0):
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Dropout(dropout), nn.Linear(8, 2))


def parts(model=None, lr=0.05):
    model = model or make_model()
    return model, nn.CrossEntropyLoss(), nn.optim.SGD(model.parameters(), lr=lr)


# --- 3. PyTorch spellings in nn ------------------------------------------------------------------
def test_one_hot_as_pytorch():
    encoded = F.one_hot(Tensor(np.array([0, 2, 1])))            # num_classes=-1: max + 1
    assert encoded.dtype == np.int64 and encoded.shape == (3, 3)
    np.testing.assert_array_equal(encoded.data, np.eye(3, dtype=np.int64)[[0, 2, 1]])
    assert F.one_hot(np.array([[1], [0]]), num_classes=4).shape == (2, 1, 4)
    with pytest.raises(ValueError, match=r"one_hot: labels must be in \[0, num_classes=2\)"):
        F.one_hot(np.array([0, 2]), 2)


def test_one_hot_matches_torch():
    torch = pytest.importorskip("torch")
    labels = np.array([3, 0, 1, 3])
    np.testing.assert_array_equal(F.one_hot(labels, 5).data,
                                  torch.nn.functional.one_hot(torch.tensor(labels), 5).numpy())


def test_clip_grad_norm_lives_in_nn_utils_and_nn_optim():
    assert nn.utils.clip_grad_norm_ is nn.optim.clip_grad_norm_
    assert nn.utils.clip_grad_value_ is nn.optim.clip_grad_value_
    w = nn.Parameter(np.zeros(4))
    w.grad = Tensor(np.full(4, 2.0))                              # norm 4
    total = nn.utils.clip_grad_norm_([w], max_norm=1.0)
    assert total.item() == pytest.approx(4.0)
    assert np.linalg.norm(w.grad.data) == pytest.approx(1.0, rel=1e-5)


def test_functional_softmax_takes_axis_as_well_as_dim():
    x = Tensor(np.random.default_rng(0).normal(size=(3, 4)))
    np.testing.assert_allclose(F.softmax(x, axis=1).data, F.softmax(x, dim=1).data)
    np.testing.assert_allclose(F.log_softmax(x, axis=0).data, F.log_softmax(x, dim=0).data)
    with pytest.raises(TypeError, match="softmax: got both dim= and axis="):
        F.softmax(x, dim=1, axis=1)


def test_every_functional_with_dim_or_keepdim_also_takes_the_numpy_name():
    """The one mechanism (accepts_numpy_names) is on every function that has such an argument."""
    covered = []
    for name in F.__all__:
        function = getattr(F, name)
        parameters = inspect.signature(function).parameters
        for numpy_name, torch_name in F.NUMPY_ARGUMENT_NAMES.items():
            if torch_name in parameters:
                assert numpy_name not in parameters
                assert getattr(function, "__wrapped__", None) is not None, name
                covered.append(name)
    assert {"softmax", "log_softmax"} <= set(covered)


# --- 4. one seed ---------------------------------------------------------------------------------
def _seeded_run(seed, **fit_options):
    nn.manual_seed(seed)
    model, loss_fn, optimizer = parts(make_model(dropout=0.3))
    history = fit(model, loss_fn, optimizer, (X, Y), epochs=3, batch_size=16,
                  validation_split=0.25, verbose=0, **fit_options)
    return history.history, {k: np.array(v) for k, v in model.state_dict().items()}


def test_manual_seed_makes_fit_reproducible_bit_for_bit():
    assert nn.manual_seed is ag.manual_seed
    first, second, other = _seeded_run(0), _seeded_run(0), _seeded_run(1)
    assert first[0] == second[0]                          # identical floats, not approx
    for key in first[1]:
        np.testing.assert_array_equal(first[1][key], second[1][key])
    assert first[0] != other[0]


def test_fit_seed_still_decides_shuffles_and_split():
    def run(global_seed):
        nn.manual_seed(0)
        model, loss_fn, optimizer = parts()                # same initial weights, no dropout
        nn.manual_seed(global_seed)                        # ... then a different global state
        return fit(model, loss_fn, optimizer, (X, Y), epochs=2, batch_size=16,
                   validation_split=0.25, seed=7, verbose=0).history
    assert run(1) == run(2)


def test_splits_follow_manual_seed():
    nn.manual_seed(3)
    first = train_test_split(np.arange(20))
    nn.manual_seed(3)
    np.testing.assert_array_equal(first[1], train_test_split(np.arange(20))[1])


# --- 5. a NaN loss -------------------------------------------------------------------------------
def _diverging():
    nn.manual_seed(0)
    return parts(lr=1e30)


def test_fit_stops_on_a_nan_loss_and_says_where_and_what_to_do():
    model, loss_fn, optimizer = _diverging()
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning) as caught:
        history = fit(model, loss_fn, optimizer, (X * 1e20, Y), epochs=5, batch_size=16,
                      verbose=0)
    message = next(str(w.message) for w in caught if "training stopped" in str(w.message))
    assert "epoch 1/5" in message and "batch 2/8" in message
    assert "detect_anomaly" in message and "terminate_on_nan=False" in message
    assert len(history) == 1


def test_terminate_on_nan_can_be_switched_off():
    model, loss_fn, optimizer = _diverging()
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)     # no TerminateOnNaN warning either
        history = fit(model, loss_fn, optimizer, (X * 1e20, Y), epochs=3, batch_size=16,
                      verbose=0, terminate_on_nan=False)
    assert len(history) == 3 and np.isnan(history["loss"][-1])


def test_a_callback_of_your_own_replaces_the_default_one():
    model, loss_fn, optimizer = _diverging()
    mine = TerminateOnNaN()
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning, match="training stopped"):
        fit(model, loss_fn, optimizer, (X * 1e20, Y), epochs=2, verbose=0, callbacks=[mine])
    assert (mine.stopped_epoch, mine.stopped_batch) == (0, 1)   # the second batch, as above


# --- 6. an optimizer over another model ----------------------------------------------------------
def test_optimizer_of_an_earlier_model_is_refused():
    old_model, loss_fn, optimizer = parts()
    model = make_model()                                  # the model cell run again
    with pytest.raises(ValueError, match="optimizer holds none of the model's trainable "
                                         "parameters.*another model.*model.parameters()"):
        fit(model, loss_fn, optimizer, (X, Y), verbose=0)


def test_an_optimizer_over_part_of_the_model_is_fine():
    model = make_model()
    optimizer = nn.optim.SGD(model[3].parameters(), lr=0.1)   # fine-tune the head only
    fit(model, nn.CrossEntropyLoss(), optimizer, (X, Y), verbose=0)


# --- 7. swapped and Keras-style arguments --------------------------------------------------------
@pytest.mark.parametrize("arguments, pattern", [
    (lambda m, l, o: (m, o, l, (X, Y)), r"fit: loss_fn is an optimizer \(SGD\); the order is "
                                        r"fit\(model, loss_fn, optimizer"),
    (lambda m, l, o: (m, nn.CrossEntropyLoss, o, (X, Y)),
     r"fit: loss_fn is the class CrossEntropyLoss; pass an instance: CrossEntropyLoss\(\)"),
    (lambda m, l, o: (m, l, nn.optim.Adam, (X, Y)),
     r"fit: optimizer is the class Adam; pass an instance .*Adam\(model.parameters\(\)"),
    (lambda m, l, o: (m, "sparse_categorical_crossentropy", o, (X, Y)),
     r"loss_fn='sparse_categorical_crossentropy' is a string.*nn.CrossEntropyLoss\(\)"),
    (lambda m, l, o: (m, l, "adam", (X, Y)), r"optimizer='adam' is a string.*nn.optim.Adam"),
    (lambda m, l, o: (m, l, o, X, Y), r"fit: epochs got an array of shape \(120,\): pass the "
                                      r"training data as one tuple"),
])
def test_misplaced_arguments_get_a_message_that_says_what_to_write(arguments, pattern):
    with pytest.raises(TypeError, match=pattern) as error:
        fit(*arguments(*parts()), verbose=0)
    assert "array([" not in str(error.value) and len(str(error.value)) < 400


def test_evaluate_errors_name_evaluate():
    model, loss_fn, _ = parts()
    with pytest.raises(TypeError, match=r"^evaluate: data must be a pair.*one tuple"):
        evaluate(model, loss_fn, X)
    with pytest.raises(TypeError, match=r"^evaluate: loss_fn is the class MSELoss"):
        evaluate(model, nn.MSELoss, (X, Y))
    with pytest.raises(ValueError, match=r"^evaluate: data is empty"):
        evaluate(model, loss_fn, (X[:0], Y[:0]))


# --- 8. plots in notebooks -----------------------------------------------------------------------
def test_plot_history_overlays_named_runs_on_shared_axes():
    pytest.importorskip("matplotlib")
    sgd = {"loss": [1.0, 0.8, 0.7], "val_loss": [1.1, 0.9, 0.8], "accuracy": [0.5, 0.6, 0.7]}
    adam = {"loss": [0.9, 0.5, 0.3], "val_loss": [1.0, 0.6, 0.4], "accuracy": [0.6, 0.8, 0.9]}
    figure = viz.plot_history({"SGD": sgd, "Adam": adam})
    loss_axes, accuracy_axes = figure.axes[:2]
    labels = [line.get_label() for line in loss_axes.get_lines()]
    assert labels == ["SGD train", "SGD validation", "Adam train", "Adam validation"]
    assert [line.get_label() for line in accuracy_axes.get_lines()] == ["SGD", "Adam"]
    colours = {line.get_label(): line.get_color() for line in loss_axes.get_lines()}
    assert colours["SGD train"] == colours["SGD validation"] != colours["Adam train"]


def test_plot_history_overlays_real_histories():
    pytest.importorskip("matplotlib")
    histories = {}
    for name, make in [("SGD", nn.optim.SGD), ("Adam", nn.optim.Adam)]:
        model = make_model()
        histories[name] = fit(model, nn.CrossEntropyLoss(), make(model.parameters(), lr=0.01),
                              (X, Y), epochs=2, verbose=0)
    figure = viz.plot_history(histories, metrics=["loss"])
    assert [line.get_label() for line in figure.axes[0].get_lines()] == ["SGD", "Adam"]


def test_plots_are_closed_under_the_inline_backend_so_jupyter_shows_them_once():
    pytest.importorskip("matplotlib_inline", reason="ipykernel's inline backend is not installed")
    script = textwrap.dedent("""
        import matplotlib
        matplotlib.use("module://matplotlib_inline.backend_inline")
        import matplotlib.pyplot as plt
        import viz
        figure = viz.plot_history({"loss": [1.0, 0.5]})
        print(type(figure).__name__, plt.get_fignums())
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.stdout.split() == ["Figure", "[]"], result.stderr


def test_plots_stay_open_for_plt_show_elsewhere():
    plt = pytest.importorskip("matplotlib.pyplot")
    figure = viz.plot_history({"loss": [1.0, 0.5]})
    assert figure.number in plt.get_fignums()
    plt.close(figure)


# --- 9. a light extra for the demo ---------------------------------------------------------------
def test_setup_cfg_has_a_light_demo_extra_and_all_holds_every_extra():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    extras = {name: set(value.split()) for name, value in config["options.extras_require"].items()}
    assert {entry.split(">")[0] for entry in extras["demo"]} == {"graphviz", "matplotlib", "tqdm"}
    assert extras["notebook"] and extras["scaleout"]
    for name, requirements in extras.items():
        assert requirements <= extras["all"], name


# --- 10. HIPS autograd installed alongside -------------------------------------------------------
@pytest.mark.parametrize("package", ["nn", "viz"])
def test_importing_with_another_autograd_first_on_the_path_names_the_clash(tmp_path, package):
    fake = tmp_path / "autograd"
    fake.mkdir()
    (fake / "__init__.py").write_text("from .extend import primitive, defvjp\n")   # as HIPS's
    (fake / "extend.py").write_text("def primitive(f):\n    return f\n\n"
                                    "def defvjp(*args):\n    pass\n")
    path = os.pathsep.join([str(tmp_path), str(ROOT)])
    result = subprocess.run([sys.executable, "-c", f"import {package}"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, PYTHONPATH=path))
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: numpy-autograd's nn and viz need this project's autograd")
    assert str(fake) in last and "HIPS autograd" in last and "pip uninstall autograd" in last


# --- 11. smaller things --------------------------------------------------------------------------
def _overshooting(callbacks, epochs=6):
    """Fit y = x from w = 0 while validating on y = x / 2: val_loss is best mid-way."""
    model = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(model.weight)
    x = np.linspace(-1, 1, 8, dtype=np.float32)[:, None]
    return fit(model, nn.MSELoss(), nn.optim.SGD(model.parameters(), lr=0.3), (x, x),
               epochs=epochs, batch_size=8, validation_data=(x, x / 2), metrics=None,
               callbacks=callbacks, verbose=0)


def test_early_stopping_says_why_and_which_weights_it_restored(capsys):
    stopper = EarlyStopping("val_loss", patience=1, restore_best_weights=True, verbose=1)
    _overshooting([stopper])
    out = capsys.readouterr().out
    assert f"EarlyStopping: stopped after epoch {stopper.stopped_epoch + 1}: val_loss did not " \
           f"improve for 1 epoch(s)" in out
    assert f"restored the weights of epoch {stopper.best_epoch + 1}, the best val_loss" in out


def test_callbacks_follow_fits_verbose_by_default(capsys, tmp_path):
    _overshooting([EarlyStopping("val_loss", patience=1),
                   ModelCheckpoint(tmp_path / "best.npz", save_best_only=True)])
    assert capsys.readouterr().out == ""                   # fit(verbose=0): silent


def test_model_checkpoint_says_what_it_saved(capsys, tmp_path):
    path = tmp_path / "best.npz"
    _overshooting([ModelCheckpoint(path, save_best_only=True, verbose=1)], epochs=4)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"ModelCheckpoint: epoch 1: val_loss improved from inf to " \
                       f"{float(lines[0].split(' to ')[1].split(',')[0]):.4f}, saved the model " \
                       f"to {path}"
    assert any("did not improve" in line and "not saved" in line for line in lines)


def test_fit_leaves_the_model_in_eval_mode_and_says_so(capsys):
    model, loss_fn, optimizer = parts(make_model(dropout=0.5))
    fit(model, loss_fn, optimizer, (X, Y), epochs=1, verbose=2)
    assert not model.training and not model[2].training
    assert "the model is in eval mode now" in capsys.readouterr().out
    first = model(Tensor(X)).data                          # Dropout off: deterministic
    np.testing.assert_array_equal(first, model(Tensor(X)).data)
    np.testing.assert_array_equal(first, predict(model, X))
    assert 0 <= evaluate(model, loss_fn, (X, Y))["accuracy"] <= 1


def test_summary_reads_the_input_shape_from_the_first_layer():
    model = nn.Sequential(nn.Sequential(nn.Linear(784, 32)), nn.ReLU(), nn.Linear(32, 10))
    assert str(model.summary()) == str(model.summary((784,)))
    with pytest.raises(ValueError, match=r"summary: the input shape cannot be read from the "
                                         r"first layer \(Conv2d\); pass it"):
        nn.Sequential(nn.Conv2d(1, 4, 3)).summary()


def test_float64_input_into_a_float32_model_is_refused_with_the_fix():
    model = nn.Sequential(nn.Linear(3, 2))
    with pytest.raises(TypeError, match=r"Linear '0': input dtype float64 does not match the "
                                        r"layer's float32 parameters; convert the input "
                                        r"\(x.astype\(np.float32\)\) or the model "
                                        r"\(model.to\(np.float64\)\)"):
        model(Tensor(np.zeros((2, 3))))
    assert model.to(np.float64)(Tensor(np.zeros((2, 3)))).dtype == np.float64
    with pytest.raises(TypeError, match=r"Conv2d: input dtype float64 does not match"):
        nn.Conv2d(1, 1, 2)(np.zeros((1, 1, 3, 3)))
    with pytest.raises(TypeError, match=r"Linear: input dtype int64 .*x.astype\(np.float32\)"):
        nn.Linear(2, 1)(Tensor(np.array([[0, 1]])))


def test_fit_with_float64_data_names_the_layer_and_the_fix():
    model, loss_fn, optimizer = parts()
    with pytest.raises(TypeError, match=r"Linear '0': input dtype float64 .*astype"):
        fit(model, loss_fn, optimizer, (X.astype(np.float64), Y), verbose=0)


def test_bce_with_a_flat_target_says_reshape():
    probabilities = Tensor(np.full((4, 1), 0.5, np.float32))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input has shape \(4, 1\) but "
                                         r"target has shape \(4,\).*reshape the target: "
                                         r"y.reshape\(-1, 1\)"):
        nn.BCELoss()(probabilities, np.ones(4, np.float32))
    with pytest.raises(ValueError, match="mismatched batch sizes"):
        nn.BCELoss()(probabilities, np.ones(3, np.float32))


def test_images_into_linear_suggest_flatten():
    model = nn.Sequential(nn.Linear(784, 10))
    with pytest.raises(ValueError, match=r"Linear '0' expected input with last dimension 784 "
                                         r"\(images of shape \(1, 28, 28\)\? flatten them first: "
                                         r"nn.Flatten\(\)"):
        model(Tensor(np.zeros((2, 1, 28, 28), np.float32)))


def test_unknown_dataset_names_list_the_data_sets():
    import nn.datasets
    with pytest.raises(AttributeError, match=r"nn.datasets has no data set 'fashion_mnst'; did "
                                             r"you mean 'fashion_mnist'\? the data sets are: "
                                             r"fashion_mnist, mnist"):
        nn.datasets.fashion_mnst  # noqa: B018
    with pytest.raises(AttributeError, match="no data set 'cifar10'"):
        nn.datasets.cifar10  # noqa: B018


def test_fashion_mnist_honours_root(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match=rf"is not in {missing}, and download=False; "
                                                rf"root='{missing}' \(no such folder\) is the only "
                                                rf"folder searched"):
        fashion_mnist(root=missing, download=False)


def test_graph_drawing_shows_integer_targets_as_labels():
    model = nn.Sequential(nn.Linear(4, 10))
    loss = nn.CrossEntropyLoss()(model(Tensor(np.zeros((3, 4), np.float32))), np.array([1, 2, 3]))
    source = viz.draw_graph(loss, model=model).source
    assert "labels (3,) as rows" in source and "array (3, 10)" not in source
