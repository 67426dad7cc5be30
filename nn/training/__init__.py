"""Training toolkit: fit/evaluate/predict, callbacks, progress, metrics, hyperparameter search."""
from . import metrics
from .callbacks import (Callback, CSVLogger, EarlyStopping, History, LRSchedulerCallback,
                        ModelCheckpoint, TerminateOnNaN, TrainingContext)
from .fit import evaluate, fit, predict
from .metrics import accuracy, confusion_matrix, f1_score, precision, recall, top_k_accuracy
from .progress import ProgressLogger
from .search import SearchResults, grid_search, log_uniform, random_search, uniform

__all__ = ["fit", "evaluate", "predict", "Callback", "History", "EarlyStopping",
           "ModelCheckpoint", "TerminateOnNaN", "LRSchedulerCallback", "CSVLogger",
           "ProgressLogger",
           "TrainingContext", "metrics", "accuracy", "top_k_accuracy", "confusion_matrix",
           "precision", "recall", "f1_score", "grid_search", "random_search", "log_uniform",
           "uniform", "SearchResults"]
