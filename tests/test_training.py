"""nn.training: fit/evaluate/predict, History, callbacks, progress and metrics."""
import csv
import io
import os
import sys

import numpy as np
import pytest

import autograd as ag
import nn
from nn.checkpoint import load as load_checkpoint  # nn.load
from nn.data import DataLoader, Dataset, MinMaxScaler, TensorDataset, train_test_split
from nn.datasets import random_points, two_moons
from nn.training import (Callback, CSVLogger, EarlyStopping, LRSchedulerCallback, ModelCheckpoint,
                         accuracy, confusion_matrix, evaluate, f1_score, fit, precision, predict,
                         recall, top_k_accuracy)
from nn.training.callbacks import copy_state
from nn.training.metrics import default_mode

X_LINE = np.array([[1.0], [2.0], [-1.0], [-2.0], [0.5]], dtype=np.float32)


def _line_model(weight=0.0, bias=0.0):
    """nn.Linear(1, 1) with a known starting weight and bias."""
    model = nn.Linear(1, 1)
    model.load_state_dict({"weight": np.array([[weight]], np.float32),
                           "bias": np.array([bias], np.float32)})
    return model


def _hand_sgd(x, y, batches, lr, epochs, w=0.0, b=0.0, x_val=None, y_val=None):
    """MSE + plain SGD on y = w x + b by hand: (per-epoch weighted loss, val loss, weights)."""
    losses, val_losses, weights = [], [], []
    for _ in range(epochs):
        total = 0.0
        for batch in batches:
            xb, yb = x[batch, 0].astype(np.float64), y[batch, 0].astype(np.float64)
            error = w * xb + b - yb
            total += np.mean(error ** 2) * len(batch)
            w, b = w - lr * np.mean(2 * error * xb), b - lr * np.mean(2 * error)
        losses.append(total / len(x))
        weights.append((w, b))
        if x_val is not None:
            val_losses.append(np.mean((w * x_val[:, 0] + b - y_val[:, 0]) ** 2))
    return losses, val_losses, weights


class Snapshots(Callback):
    """Records a copy of the weights at the end of every epoch."""

    def __init__(self):
        self.states = []

    def on_epoch_end(self, epoch, logs=None):
        self.states.append(copy_state(self.model.state_dict()))


def _weights(model):
    return copy_state(model.state_dict())


# --- History against a hand computation -------------------------------------------------------
def test_history_matches_hand_computed_loss():
    y = 3 * X_LINE - 1
    x_val = np.array([[4.0], [-3.0]], np.float32)
    y_val = 3 * x_val - 1
    model = _line_model(0.5, 0.0)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.05)
    history = fit(model, nn.MSELoss(), optimizer, (X_LINE, y), epochs=4, batch_size=2,
                  shuffle=False, validation_data=(x_val, y_val), metrics=None, verbose=0)
    # Batches of 2, 2 and 1: the epoch loss is the batch losses weighted by batch size.
    losses, val_losses, weights = _hand_sgd(X_LINE, y, [[0, 1], [2, 3], [4]], 0.05, 4, w=0.5,
                                            x_val=x_val, y_val=y_val)
    np.testing.assert_allclose(history.history["loss"], losses, rtol=1e-5)
    np.testing.assert_allclose(history["val_loss"], val_losses, rtol=1e-5)
    assert history.history["lr"] == [0.05] * 4
    assert history.epoch == [0, 1, 2, 3] and len(history) == 4
    np.testing.assert_allclose(model.state_dict()["weight"].data, [[weights[-1][0]]], rtol=1e-5)


def test_fit_reports_accuracy_on_running_predictions_and_learns():
    X, y = two_moons(200, noise=0.1, seed=0)
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    optimizer = nn.optim.SGD(model.parameters(), lr=0.5)
    history = fit(model, nn.CrossEntropyLoss(), optimizer, (X, y), epochs=15, batch_size=32,
                  validation_split=0.25, seed=0, metrics=["accuracy", "f1"], verbose=0)
    assert set(history.history) == {"loss", "accuracy", "f1", "val_loss", "val_accuracy", "val_f1", "lr"}
    assert history["loss"][-1] < history["loss"][0]
    assert history["val_accuracy"][-1] > 0.8
    assert not model.training  # fit leaves the model in eval mode, ready to predict


# --- EarlyStopping and ModelCheckpoint ---------------------------------------------------------
def _overshooting_run(callbacks, epochs=8):
    """Train y = x from w = 0 while validating on y = x / 2: val_loss is best mid-way."""
    model = _line_model(0.0, 0.0)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.05)
    snapshots = Snapshots()
    x_val = np.array([[1.0], [-2.0]], np.float32)
    history = fit(model, nn.MSELoss(), optimizer, (X_LINE, X_LINE), epochs=epochs,
                  batch_size=len(X_LINE), validation_data=(x_val, x_val / 2), metrics=None,
                  callbacks=[snapshots] + callbacks, verbose=0)
    return model, history, snapshots


def test_early_stopping_restores_the_best_weights():
    stopper = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    model, history, snapshots = _overshooting_run([stopper])
    val_loss = history["val_loss"]
    best = int(np.argmin(val_loss))
    assert 0 < best < len(val_loss) - 1, "the setup must have its best epoch mid-way"
    assert stopper.best_epoch == best and stopper.best == val_loss[best]
    assert stopper.stopped_epoch == best + 2 and len(history) == best + 3
    for name, value in _weights(model).items():
        np.testing.assert_array_equal(value, snapshots.states[best][name])
    assert not np.array_equal(_weights(model)["weight"], snapshots.states[-1]["weight"])


def test_early_stopping_without_restore_keeps_the_last_weights():
    stopper = EarlyStopping(monitor="val_loss", patience=1)
    model, history, snapshots = _overshooting_run([stopper])
    np.testing.assert_array_equal(_weights(model)["weight"], snapshots.states[-1]["weight"])
    assert stopper.stopped_epoch == stopper.best_epoch + 1


def test_model_checkpoint_keeps_the_best_file(tmp_path):
    path = tmp_path / "best.npz"
    checkpoint = ModelCheckpoint(path, monitor="val_loss", save_best_only=True)
    _, history, snapshots = _overshooting_run([checkpoint])
    best = int(np.argmin(history["val_loss"]))
    assert checkpoint.best_epoch == best and best < len(history) - 1
    saved = load_checkpoint(path)
    for name, value in snapshots.states[best].items():
        np.testing.assert_array_equal(np.asarray(saved[name]), value)
    assert os.listdir(tmp_path) == ["best.npz"]  # no partial files left behind


def test_model_checkpoint_every_epoch_with_a_name_template(tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "ckpt-{epoch:02d}-{val_loss:.3f}.npz")
    _, history, snapshots = _overshooting_run([checkpoint], epochs=3)
    names = sorted(os.listdir(tmp_path))
    assert names == [f"ckpt-{e + 1:02d}-{history['val_loss'][e]:.3f}.npz" for e in range(3)]
    np.testing.assert_array_equal(np.asarray(load_checkpoint(tmp_path / names[1])["weight"]),
                                  snapshots.states[1]["weight"])
    resumable = ModelCheckpoint(tmp_path / "resume.npz", save_optimizer=True)
    _overshooting_run([resumable], epochs=1)
    _, optimizer_state = load_checkpoint(tmp_path / "resume.npz", with_optimizer=True)
    assert optimizer_state["param_groups"][0]["lr"] == 0.05


def test_monitor_names_are_checked_before_training():
    with pytest.raises(ValueError, match="EarlyStopping: monitor='val_los' is not logged.*val_loss"):
        _overshooting_run([EarlyStopping(monitor="val_los")])
    model = _line_model()
    with pytest.raises(ValueError, match="monitor='val_loss'.*validation_data="):
        fit(model, nn.MSELoss(), nn.optim.SGD(model.parameters(), lr=0.1), (X_LINE, X_LINE),
            callbacks=[ModelCheckpoint("unused.npz", save_best_only=True)], metrics=None, verbose=0)
    with pytest.raises(ValueError, match="mode must be"):
        EarlyStopping(mode="largest")


# --- schedulers, CSV, progress ------------------------------------------------------------------
def test_scheduler_steps_once_per_epoch_and_lr_is_logged():
    model = _line_model()
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1)
    scheduler = nn.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    history = fit(model, nn.MSELoss(), optimizer, (X_LINE, X_LINE), epochs=5, metrics=None,
                  scheduler=scheduler, verbose=0)
    np.testing.assert_allclose(history["lr"], [0.1, 0.1, 0.05, 0.05, 0.025])


def test_plateau_scheduler_gets_the_monitored_value():
    model = _line_model()
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1)
    plateau = nn.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=0)
    seen = []
    original_step = plateau.step
    plateau.step = lambda value, *args: (seen.append(value), original_step(value, *args))
    history = fit(model, nn.MSELoss(), optimizer, (X_LINE, X_LINE), epochs=3, metrics=None,
                  callbacks=[LRSchedulerCallback(plateau, monitor="loss")], verbose=0)
    assert seen == history["loss"]
    with pytest.raises(ValueError, match="monitor='val_acc'"):
        fit(model, nn.MSELoss(), optimizer, (X_LINE, X_LINE), metrics=None, verbose=0,
            callbacks=[LRSchedulerCallback(plateau, monitor="val_acc")])


def test_csv_logger_writes_one_row_per_epoch(tmp_path):
    path = tmp_path / "log.csv"
    _, history, _ = _overshooting_run([CSVLogger(path)], epochs=3)
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["epoch", "loss", "val_loss", "lr"]
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    np.testing.assert_allclose([float(r["val_loss"]) for r in rows], history["val_loss"])


def test_plain_progress_lines_when_not_a_terminal(capsys):
    _overshooting_run([], epochs=2)
    assert capsys.readouterr().out == ""  # verbose=0
    model = _line_model()
    fit(model, nn.MSELoss(), nn.optim.SGD(model.parameters(), lr=0.1), (X_LINE, X_LINE),
        epochs=2, metrics=None, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[0].startswith("epoch 1/2 - loss ") and "lr 0.1" in lines[0]
    assert "eval mode" in lines[2] and "model.train()" in lines[2]


def test_tqdm_bar_on_a_terminal(monkeypatch, capsys):
    pytest.importorskip("tqdm")

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    model = _line_model()
    fit(model, nn.MSELoss(), nn.optim.SGD(model.parameters(), lr=0.1), (X_LINE, X_LINE),
        epochs=2, batch_size=2, metrics=None, verbose=1)
    assert "epoch 2/2" in terminal.getvalue() and "3/3" in terminal.getvalue()
    assert capsys.readouterr().out == ""


# --- evaluate and predict ---------------------------------------------------------------------
def test_evaluate_and_predict():
    model = _line_model(2.0, 1.0)
    model.train()
    outputs = predict(model, X_LINE, batch_size=2)
    np.testing.assert_allclose(outputs, 2 * X_LINE + 1)
    assert model.training  # the mode is given back
    results = evaluate(model, nn.MSELoss(), (X_LINE, 2 * X_LINE), batch_size=2, metrics=None)
    np.testing.assert_allclose(results["loss"], 1.0, rtol=1e-6)  # every error is 1

    classifier = _line_model(1.0, 0.0)
    labels = np.array([1, 1, 0, 0, 0])  # sigmoid(x) > 0.5 predicts 1 for x > 0
    results = evaluate(classifier, nn.BCEWithLogitsLoss(), (X_LINE, labels[:, None].astype(np.float32)),
                       metrics=["accuracy"])
    assert results["accuracy"] == pytest.approx(0.8)


def test_fit_accepts_datasets_and_loaders():
    class Pairs(Dataset):
        def __len__(self):
            return len(X_LINE)

        def __getitem__(self, index):
            return X_LINE[index], 2 * X_LINE[index]

    model = _line_model()
    optimizer = nn.optim.SGD(model.parameters(), lr=0.05)
    history = fit(model, nn.MSELoss(), optimizer, Pairs(), epochs=2, batch_size=2,
                  validation_split=0.4, metrics=None, seed=0, verbose=0)
    assert set(history.history) == {"loss", "val_loss", "lr"}
    loader = DataLoader(TensorDataset(X_LINE, 2 * X_LINE), batch_size=5)
    history = fit(model, nn.MSELoss(), optimizer, loader, epochs=2, metrics=None,
                  validation_data=loader, verbose=0)
    assert history["val_loss"][-1] < history["loss"][0]
    np.testing.assert_allclose(predict(model, Pairs()), predict(model, X_LINE))


# --- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    ({"batch_size": 0}, "batch_size must be an integer >= 1, got 0"),
    ({"validation_split": 0.0}, "validation_split must be a fraction in \\(0, 1\\), got 0.0"),
    ({"validation_split": 1.0}, "validation_split must be a fraction in \\(0, 1\\), got 1.0"),
    ({"validation_split": -0.2}, "validation_split"),
    ({"validation_split": 0.2, "validation_data": (X_LINE, X_LINE)}, "either validation_data or validation_split"),
    ({"metrics": ["acuracy"]}, "unknown metric 'acuracy'"),
    ({"epochs": 0}, "epochs must be an integer >= 1"),
])
def test_fit_rejects_bad_arguments_by_name(kwargs, message):
    model = _line_model()
    with pytest.raises(ValueError, match=message):
        fit(model, nn.MSELoss(), nn.optim.SGD(model.parameters(), lr=0.1), (X_LINE, X_LINE),
            verbose=0, **kwargs)


def test_fit_rejects_x_y_length_mismatch():
    model = _line_model()
    with pytest.raises(ValueError, match="train_data: X has 5 samples but y has 4"):
        fit(model, nn.MSELoss(), nn.optim.SGD(model.parameters(), lr=0.1), (X_LINE, X_LINE[:4]),
            verbose=0)
    with pytest.raises(ValueError, match="validation_data: X has 5 samples but y has 3"):
        fit(model, nn.MSELoss(), nn.optim.SGD(model.parameters(), lr=0.1), (X_LINE, X_LINE),
            validation_data=(X_LINE, X_LINE[:3]), verbose=0)


# --- metrics --------------------------------------------------------------------------------
def test_metrics_against_hand_counts():
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 0])
    assert accuracy(y_true, y_pred) == pytest.approx(4 / 6)
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred),
                                  [[1, 1, 0], [0, 2, 0], [1, 0, 1]])
    # per class precision 1/2, 2/3, 1/1 and recall 1/2, 2/2, 1/2
    assert precision(y_true, y_pred) == pytest.approx((1 / 2 + 2 / 3 + 1) / 3)
    assert recall(y_true, y_pred) == pytest.approx((1 / 2 + 1 + 1 / 2) / 3)
    f1 = [2 * p * r / (p + r) for p, r in [(1 / 2, 1 / 2), (2 / 3, 1), (1, 1 / 2)]]
    assert f1_score(y_true, y_pred) == pytest.approx(np.mean(f1))
    assert default_mode("val_accuracy") == "max" and default_mode("val_loss") == "min"
    scores = np.eye(3)[y_pred]
    assert accuracy(np.eye(3)[y_true], scores) == pytest.approx(4 / 6)  # one-hot and scores


def test_top_k_accuracy_and_binary_threshold():
    scores = np.array([[0.1, 0.5, 0.4], [0.7, 0.2, 0.1], [0.2, 0.3, 0.5]])
    y_true = np.array([2, 1, 0])
    assert top_k_accuracy(y_true, scores, k=1) == 0
    assert top_k_accuracy(y_true, scores, k=2) == pytest.approx(2 / 3)
    assert top_k_accuracy(y_true, scores, k=3) == 1
    with pytest.raises(ValueError, match="k must be in \\[1, 3\\]"):
        top_k_accuracy(y_true, scores, k=4)
    assert accuracy([1, 0, 1], np.array([[0.9], [0.4], [0.2]])) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="y_true has 2 samples but y_pred has 3"):
        accuracy([1, 0], [1, 0, 1])


def test_min_max_normalisation_matters_on_random_points():
    """The source notes' lesson: the same network learns the regions only on scaled inputs."""
    X, y = random_points(1200, seed=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, seed=0)
    scaler = MinMaxScaler().fit(X_train)  # statistics of the training split only
    scores = {}
    for name, (train, test) in {"raw": (X_train, X_test),
                                "scaled": (scaler.transform(X_train), scaler.transform(X_test))}.items():
        ag.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 4))
        fit(model, nn.CrossEntropyLoss(), nn.optim.Adam(model.parameters(), lr=0.01),
            (train, y_train), epochs=20, batch_size=32, seed=0, verbose=0)
        scores[name] = evaluate(model, nn.CrossEntropyLoss(), (test, y_test))["accuracy"]
    assert scores["scaled"] > 0.95
    assert scores["scaled"] - scores["raw"] > 0.15
