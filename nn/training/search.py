"""Hyperparameter search: grid and random search with k-fold or hold-out validation.

Each (setting, fold) trial is one task submitted to a ``concurrent.futures.Executor``:
by default a process pool over the local cores; pass ``executor=`` to use threads, or
a cluster. Tasks are pickled to reach worker processes, so ``build`` must be a
top-level function of an importable module (not a lambda, a nested function or a
function defined in ``__main__`` of an interactive session when workers are spawned),
and parameter values and data must be picklable.

Every trial seeds autograd's generator with ``seed`` just before calling ``build``, and
seeds its shuffles with ``seed``, so a trial computes the same scores whichever worker
runs it: the table is the same under threads, processes or a cluster. (Layers that
draw random numbers during training, such as Dropout, share autograd's generator and
may differ between runs under a thread pool.)

Running on a cluster: a Dask distributed client offers an Executor::

    from dask.distributed import Client
    client = Client("tcp://scheduler:8786")
    table = grid_search(build, grid, (X, y), executor=client.get_executor())

and Ray's object references convert to futures, so a few lines make a Ray Executor::

    import ray
    from concurrent.futures import Executor

    class RayExecutor(Executor):
        def submit(self, fn, /, *args, **kwargs):
            return ray.remote(fn).remote(*args, **kwargs).future()

    ray.init(address="auto")
    table = random_search(build, space, (X, y), n_iter=50, executor=RayExecutor())

Both need this package installed on the workers.
"""
import itertools
import math
import os
import pickle
import threading
import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np

import autograd
from autograd import Tensor

from ..data.split import KFold, StratifiedKFold, train_test_split
from .fit import evaluate, fit
from .metrics import default_mode, get_metric

# Keys of a parameter setting that configure fit rather than build.
FIT_PARAMETERS = ("epochs", "batch_size")
# Serialises "seed the generator, build the model" between threads of one process.
_BUILD_LOCK = threading.Lock()


def grid_search(build, param_grid, data, *, cv=3, validation_split=None, metric="accuracy",
                mode="auto", epochs=10, batch_size=32, seed=0, executor=None, max_workers=None):
    """Train and score every combination of ``param_grid``; return a ranked ``SearchResults``.

    Args:
        build: a top-level function ``build(**params) -> (model, loss_fn, optimizer)``.
            Setting keys ``epochs`` and ``batch_size`` go to ``fit`` instead of ``build``.
        param_grid: ``{name: [values...]}``; every combination is tried, in order.
        data: ``(X, y)`` arrays.
        cv: number of folds (stratified by ``y`` when ``y`` holds integer class labels),
            or a ``KFold``/``StratifiedKFold`` object.
        validation_split: instead of folds, one hold-out fraction in (0, 1) (stratified
            for integer labels).
        metric: ``"loss"`` or a metric name (``"accuracy"``, ``"f1"``, ...) scored on
            the held-out part after training.
        mode: ``"max"``, ``"min"``, or ``"auto"`` (min for ``loss``, else max).
        epochs, batch_size: training length and batch size for every trial.
        seed: seed of the folds, of each trial's initialisation and of its shuffles.
        executor: a ``concurrent.futures.Executor`` to run trials on (left running);
            default: a ``ProcessPoolExecutor`` with ``max_workers`` (default: the local
            cores), shut down afterwards.

    Returns:
        SearchResults: one row per setting, best first, with ``params``, ``mean_score``,
        ``std_score`` (population std over folds), ``scores`` (per fold) and ``fit_time``.

    Raises:
        ValueError: an empty grid or value list, X/y length mismatch, bad ``cv`` or
            ``validation_split``, an unknown metric.
        TypeError: ``build`` cannot be pickled for a process-based executor.
    """
    if not isinstance(param_grid, dict) or not param_grid:
        raise ValueError(f"grid_search: param_grid must be a non-empty dict of name -> list of "
                         f"values, got {param_grid!r}")
    grid = {}
    for name, values in param_grid.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__") or not list(values):
            raise ValueError(f"grid_search: param_grid[{name!r}] must be a non-empty list of "
                             f"values, got {values!r}")
        grid[name] = list(values)
    settings = [dict(zip(grid, combo)) for combo in itertools.product(*grid.values())]
    return run_search("grid_search", build, settings, data, cv=cv,
                      validation_split=validation_split, metric=metric, mode=mode, epochs=epochs,
                      batch_size=batch_size, seed=seed, executor=executor, max_workers=max_workers)


def random_search(build, param_distributions, data, *, n_iter=10, cv=3, validation_split=None,
                  metric="accuracy", mode="auto", epochs=10, batch_size=32, seed=0,
                  executor=None, max_workers=None):
    """Train and score ``n_iter`` random settings; arguments and result as ``grid_search``.

    Args:
        param_distributions: ``{name: spec}`` where a spec is a list of values (one is
            drawn uniformly), a callable ``spec(rng) -> value`` such as ``log_uniform(1e-4,
            1e-1)``, or an object with ``rvs(random_state=rng)`` (scipy.stats).
        n_iter: number of settings drawn (with ``seed``, in the calling process).
    """
    if not isinstance(param_distributions, dict) or not param_distributions:
        raise ValueError("random_search: param_distributions must be a non-empty dict of "
                         f"name -> values or distribution, got {param_distributions!r}")
    if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)) or n_iter < 1:
        raise ValueError(f"random_search: n_iter must be an integer >= 1, got {n_iter!r}")
    rng = np.random.default_rng(seed)
    settings = [{name: _draw(name, spec, rng) for name, spec in param_distributions.items()}
                for _ in range(n_iter)]
    return run_search("random_search", build, settings, data, cv=cv,
                      validation_split=validation_split, metric=metric, mode=mode, epochs=epochs,
                      batch_size=batch_size, seed=seed, executor=executor, max_workers=max_workers)


class log_uniform:
    """A distribution for ``random_search``: ``exp(uniform(log low, log high))``, for rates."""

    def __init__(self, low, high):
        if not 0 < low < high:
            raise ValueError(f"log_uniform: need 0 < low < high, got low={low}, high={high}")
        self.low, self.high = float(low), float(high)

    def __call__(self, rng):
        return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))

    def __repr__(self):
        return f"log_uniform({self.low:g}, {self.high:g})"


class uniform:
    """A distribution for ``random_search``: uniform on ``[low, high)``."""

    def __init__(self, low, high):
        if not low < high:
            raise ValueError(f"uniform: need low < high, got low={low}, high={high}")
        self.low, self.high = float(low), float(high)

    def __call__(self, rng):
        return float(rng.uniform(self.low, self.high))

    def __repr__(self):
        return f"uniform({self.low:g}, {self.high:g})"


class SearchResults(list):
    """The rows of a search, best first: a list of dicts with a readable ``str``.

    Each row: ``rank`` (from 1), ``params``, ``mean_score``, ``std_score``, ``scores``
    (one per fold), ``fit_time`` (seconds, summed over folds). ``best`` is row 0,
    ``best_params`` its ``params``; ``metric`` and ``mode`` say how rows were ranked.
    """

    def __init__(self, rows, metric, mode):
        super().__init__(rows)
        self.metric, self.mode = metric, mode

    @property
    def best(self):
        return self[0]

    @property
    def best_params(self):
        return self[0]["params"]

    def __str__(self):
        names = list(dict.fromkeys(name for row in self for name in row["params"]))
        header = ["rank"] + names + [f"mean_{self.metric}", f"std_{self.metric}", "fit_time"]
        lines = [[str(row["rank"])] + [_format(row["params"].get(n, "")) for n in names]
                 + [f"{row['mean_score']:.4f}", f"{row['std_score']:.4f}",
                    f"{row['fit_time']:.2f}s"]
                 for row in self]
        widths = [max(len(text) for text in column) for column in zip(header, *lines)]
        return "\n".join("  ".join(text.rjust(width) for text, width in zip(line, widths))
                         for line in [header] + lines)

    def __repr__(self):
        return f"SearchResults({len(self)} rows, best {self.metric}={self[0]['mean_score']:.4f} " \
               f"with {self[0]['params']})" if self else "SearchResults(0 rows)"


def run_search(owner, build, settings, data, *, cv, validation_split, metric, mode, epochs,
               batch_size, seed, executor, max_workers):
    """Run every (setting, fold) trial on an executor and rank the settings."""
    X, y = _data(owner, data)
    splits = _splits(owner, X, y, cv, validation_split, seed)
    if metric != "loss":
        get_metric(metric)  # an unknown name fails here, not in every worker
    mode = (("min" if metric == "loss" else default_mode(metric)) if mode == "auto" else mode)
    if mode not in ("min", "max"):
        raise ValueError(f"{owner}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    own_executor = executor is None
    if own_executor:
        workers = max_workers or os.cpu_count() or 1
        executor = ProcessPoolExecutor(max_workers=min(workers, len(settings) * len(splits)))
    elif not isinstance(executor, Executor) and not hasattr(executor, "submit"):
        raise TypeError(f"{owner}: executor must be a concurrent.futures.Executor, got "
                        f"{type(executor).__name__}")
    if not isinstance(executor, ThreadPoolExecutor):
        _check_picklable(owner, build, settings)
    try:
        futures = [[executor.submit(run_trial, build, params, X, y, train, test, metric, epochs,
                                    batch_size, seed)
                    for train, test in splits] for params in settings]
        outcomes = [[_result(owner, future, params, fold) for fold, future in enumerate(row)]
                    for params, row in zip(settings, futures)]
    finally:
        if own_executor:
            executor.shutdown(wait=True, cancel_futures=True)
    rows = []
    for params, trials in zip(settings, outcomes):
        scores = [score for score, _ in trials]
        rows.append({"params": params, "mean_score": float(np.mean(scores)),
                     "std_score": float(np.std(scores)), "scores": scores,
                     "fit_time": float(sum(seconds for _, seconds in trials))})
    sign = -1.0 if mode == "max" else 1.0
    # NaN (a diverged setting) sorts last; ties keep the settings' order.
    order = sorted(range(len(rows)), key=lambda i: (math.isnan(rows[i]["mean_score"]),
                                                    sign * np.nan_to_num(rows[i]["mean_score"]), i))
    ranked = [dict(rank=rank, **rows[i]) for rank, i in enumerate(order, start=1)]
    return SearchResults(ranked, metric, mode)


def run_trial(build, params, X, y, train, test, metric, epochs, batch_size, seed):
    """Build, train and score one setting on one split; returns ``(score, seconds)``.

    A top-level function so that process pools and clusters can pickle it.
    """
    start = time.perf_counter()
    fit_options = {"epochs": epochs, "batch_size": batch_size}
    fit_options.update({k: v for k, v in params.items() if k in FIT_PARAMETERS})
    build_params = {k: v for k, v in params.items() if k not in FIT_PARAMETERS}
    with _BUILD_LOCK:
        autograd.manual_seed(seed)
        model, loss_fn, optimizer = build(**build_params)
    metrics = [] if metric == "loss" else [metric]
    fit(model, loss_fn, optimizer, (X[train], y[train]), metrics=metrics, verbose=0, seed=seed,
        **fit_options)
    results = evaluate(model, loss_fn, (X[test], y[test]), metrics=metrics)
    return results[metric], time.perf_counter() - start


def _result(owner, future, params, fold):
    try:
        return future.result()
    except Exception as err:
        raise RuntimeError(f"{owner}: the trial with params {params} on fold {fold} failed: "
                           f"{type(err).__name__}: {err}") from err


def _data(owner, data):
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"{owner}: data must be a pair (X, y), got {type(data).__name__}")
    X, y = (d.data if isinstance(d, Tensor) else np.asarray(d) for d in data)
    if len(X) != len(y):
        raise ValueError(f"{owner}: data: X has {len(X)} samples but y has {len(y)}; "
                         f"they must match")
    return X, y


def _splits(owner, X, y, cv, validation_split, seed):
    classification = y.ndim == 1 and y.dtype.kind in "iub"
    if validation_split is not None:
        if (isinstance(validation_split, bool)
                or not isinstance(validation_split, (float, np.floating))
                or not 0 < validation_split < 1):
            raise ValueError(f"{owner}: validation_split must be a fraction in (0, 1), got "
                             f"{validation_split!r}")
        train, test = train_test_split(np.arange(len(X)), test_size=float(validation_split),
                                       stratify=y if classification else None, seed=seed)
        return [(np.sort(train), np.sort(test))]
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        folds = (StratifiedKFold if classification else KFold)(int(cv), shuffle=True, seed=seed)
    elif hasattr(cv, "split"):
        folds = cv
    else:
        raise ValueError(f"{owner}: cv must be a number of folds (>= 2) or a "
                         f"KFold/StratifiedKFold, got {cv!r}")
    return list(folds.split(X, y))


def _check_picklable(owner, build, settings):
    try:
        pickle.dumps(build)
    except Exception as err:
        raise TypeError(f"{owner}: build={build!r} cannot be pickled for worker processes; make it "
                        f"a top-level function in an importable module (not a lambda or a nested "
                        f"function), or pass executor=ThreadPoolExecutor() ({err})") from err
    try:
        pickle.dumps(settings)
    except Exception as err:
        raise TypeError(f"{owner}: parameter values must be picklable for worker processes "
                        f"({err})") from err


def _draw(name, spec, rng):
    if hasattr(spec, "rvs"):
        return spec.rvs(random_state=rng)
    if callable(spec):
        return spec(rng)
    if isinstance(spec, (list, tuple)) and spec:
        return spec[int(rng.integers(len(spec)))]
    raise ValueError(f"random_search: param_distributions[{name!r}] must be a non-empty list, "
                     f"a callable spec(rng) or a distribution with rvs(), got {spec!r}")


def _format(value):
    return f"{value:.4g}" if isinstance(value, float) else str(value)
