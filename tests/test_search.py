"""nn.training.search: grid and random search over executors, k-fold and hold-out."""
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest

import nn
from nn.datasets import two_moons
from nn.training import grid_search, log_uniform, random_search

X, Y = two_moons(90, noise=0.15, seed=0)
GRID = {"hidden": [2, 8], "lr": [0.05, 0.5]}


def build(hidden, lr):
    """Top-level, so that worker processes can unpickle it."""
    model = nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, 2))
    return model, nn.CrossEntropyLoss(), nn.optim.SGD(model.parameters(), lr=lr)


def _comparable(table):
    return [(row["rank"], row["params"], row["mean_score"], row["std_score"], row["scores"])
            for row in table]


def test_grid_of_four_settings_by_three_folds_gives_four_ranked_rows():
    with ThreadPoolExecutor(max_workers=2) as executor:
        table = grid_search(build, GRID, (X, Y), cv=3, epochs=4, batch_size=16, seed=0,
                            executor=executor)
    assert len(table) == 4
    assert sorted(map(str, (row["params"] for row in table))) == sorted(map(str, [
        {"hidden": h, "lr": lr} for h in GRID["hidden"] for lr in GRID["lr"]]))
    for row in table:
        assert len(row["scores"]) == 3
        assert row["mean_score"] == pytest.approx(np.mean(row["scores"]))
        assert row["std_score"] == pytest.approx(np.std(row["scores"]))
        assert all(0 <= s <= 1 for s in row["scores"])
    means = [row["mean_score"] for row in table]
    assert means == sorted(means, reverse=True)  # accuracy: best first
    assert [row["rank"] for row in table] == [1, 2, 3, 4]
    assert table.best_params == table[0]["params"]
    text = str(table)
    assert text.splitlines()[0].split() == ["rank", "hidden", "lr", "mean_accuracy",
                                            "std_accuracy", "fit_time"]
    assert len(text.splitlines()) == 5


def test_thread_and_process_executors_give_the_same_table():
    options = dict(cv=3, epochs=3, batch_size=16, seed=4)
    with ThreadPoolExecutor(max_workers=2) as threads:
        by_threads = grid_search(build, GRID, (X, Y), executor=threads, **options)
    with ProcessPoolExecutor(max_workers=2) as processes:
        by_processes = grid_search(build, GRID, (X, Y), executor=processes, **options)
    assert _comparable(by_threads) == _comparable(by_processes)
    # a different seed changes the folds and initialisations, hence the scores
    with ThreadPoolExecutor(max_workers=2) as threads:
        other = grid_search(build, GRID, (X, Y), executor=threads, **dict(options, seed=5))
    assert _comparable(other) != _comparable(by_threads)


def test_default_executor_is_a_process_pool():
    table = grid_search(build, {"hidden": [4], "lr": [0.5]}, (X, Y), cv=2, epochs=2,
                        batch_size=32, seed=0, max_workers=2)
    with ThreadPoolExecutor(max_workers=1) as threads:
        same = grid_search(build, {"hidden": [4], "lr": [0.5]}, (X, Y), cv=2, epochs=2,
                           batch_size=32, seed=0, executor=threads)
    assert _comparable(table) == _comparable(same)


def test_random_search_with_hold_out_and_loss_ranking():
    space = {"hidden": [2, 4, 8], "lr": log_uniform(1e-2, 1.0), "epochs": [1, 3]}
    with ThreadPoolExecutor(max_workers=2) as threads:
        table = random_search(build, space, (X, Y), n_iter=3, validation_split=0.3, metric="loss",
                              batch_size=16, seed=1, executor=threads)
        again = random_search(build, space, (X, Y), n_iter=3, validation_split=0.3, metric="loss",
                              batch_size=16, seed=1, executor=threads)
    assert len(table) == 3 and all(len(row["scores"]) == 1 for row in table)
    assert all(1e-2 <= row["params"]["lr"] <= 1.0 for row in table)
    assert all(row["params"]["epochs"] in (1, 3) for row in table)  # fit options, not build's
    means = [row["mean_score"] for row in table]
    assert means == sorted(means)  # a loss: lowest first
    assert table.metric == "loss" and table.mode == "min"
    assert _comparable(table) == _comparable(again)


def test_search_errors_name_the_argument():
    with pytest.raises(TypeError, match="cannot be pickled.*top-level function"):
        grid_search(lambda hidden, lr: build(hidden, lr), GRID, (X, Y), cv=2,
                    executor=ProcessPoolExecutor(max_workers=1))
    with ThreadPoolExecutor(max_workers=1) as threads:
        with pytest.raises(ValueError, match="X has 90 samples but y has 89"):
            grid_search(build, GRID, (X, Y[:-1]), executor=threads)
        with pytest.raises(ValueError, match="unknown metric 'acc_top'"):
            grid_search(build, GRID, (X, Y), metric="acc_top", executor=threads)
        with pytest.raises(ValueError, match=r"param_grid\['lr'\] must be a non-empty list"):
            grid_search(build, {"hidden": [2], "lr": []}, (X, Y), executor=threads)
        with pytest.raises(ValueError, match="validation_split must be a fraction"):
            grid_search(build, GRID, (X, Y), validation_split=1.5, executor=threads)
        with pytest.raises(ValueError, match="y: class 1 has 1 sample.*n_splits=3"):
            grid_search(build, GRID, (X[:31], np.r_[np.zeros(30, int), 1]), cv=3, executor=threads)
        with pytest.raises(RuntimeError, match="hidden.*fold 0 failed"):
            grid_search(build, {"hidden": [-1], "lr": [0.1]}, (X, Y), cv=2, executor=threads)


def test_dask_cluster_gives_the_process_pool_table():
    """A real dask.distributed LocalCluster (worker processes on 127.0.0.1) through
    ``client.get_executor()``: the same tables as a process pool for the same seeds."""
    distributed = pytest.importorskip(
        "distributed", reason="dask[distributed] is not installed (the scaleout extra)")
    grid_options = dict(cv=3, epochs=3, batch_size=16, seed=4)
    random_options = dict(n_iter=3, validation_split=0.3, epochs=3, batch_size=16, seed=2)
    space = {"hidden": [2, 4, 8], "lr": log_uniform(0.01, 0.5)}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        assert all(address.startswith("tcp://127.0.0.1:") for address in
                   client.scheduler_info()["workers"])
        executor = client.get_executor()
        by_dask = grid_search(build, GRID, (X, Y), executor=executor, **grid_options)
        drawn_by_dask = random_search(build, space, (X, Y), executor=executor, **random_options)
    with ProcessPoolExecutor(max_workers=2) as processes:
        by_processes = grid_search(build, GRID, (X, Y), executor=processes, **grid_options)
        drawn_by_processes = random_search(build, space, (X, Y), executor=processes,
                                           **random_options)
    assert _comparable(by_dask) == _comparable(by_processes)
    assert _comparable(drawn_by_dask) == _comparable(drawn_by_processes)
