"""Progress display for ``fit``: a tqdm bar per epoch on a terminal, else one line per epoch.

tqdm is optional (the ``progress`` extra); without it, or when stderr is not a terminal
(CI logs, notebooks writing to files), each epoch prints one plain line to stdout.
"""
import sys
import time

from .callbacks import Callback


class ProgressLogger(Callback):
    """Show training progress.

    Args:
        verbose: 0 silent; 1 a tqdm bar over each epoch's batches when tqdm is installed
            and stderr is a terminal, else a line per epoch; 2 always a line per epoch.
    """

    def __init__(self, verbose=1):
        self.verbose = verbose
        self._bar = None

    def use_bar(self):
        if self.verbose != 1 or not sys.stderr.isatty():
            return False
        try:
            import tqdm  # noqa: F401
        except ImportError:
            return False
        return True

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        self._seen = self._loss_sum = 0
        if self.verbose and self.use_bar():
            from tqdm.auto import tqdm
            self._bar = tqdm(total=self.context.steps_per_epoch, unit="batch", leave=True,
                             desc=f"epoch {epoch + 1}/{self.context.epochs}", file=sys.stderr)

    def on_batch_end(self, batch, logs=None):
        if self._bar is not None:
            self._seen += logs["size"]
            self._loss_sum += logs["loss"] * logs["size"]
            self._bar.set_postfix(loss=f"{self._loss_sum / self._seen:.4f}", refresh=False)
            self._bar.update(1)

    def on_epoch_end(self, epoch, logs=None):
        if not self.verbose:
            return
        summary = format_logs(logs)
        if self._bar is not None:
            self._bar.set_postfix_str(summary, refresh=True)
            self._bar.close()
            self._bar = None
            return
        elapsed = time.perf_counter() - self._start
        print(f"epoch {epoch + 1}/{self.context.epochs} - {summary} - {elapsed:.2f}s", flush=True)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def report_eval_mode(self):
        """Called by ``fit`` last, after every callback's ``on_train_end``."""
        if self.verbose:
            # fit has just put the model in eval mode; a hand-written loop after it
            # would otherwise run Dropout and BatchNorm in the wrong mode without a word.
            message = ("fit: done; the model is in eval mode now (Dropout off, BatchNorm "
                       "uses running statistics); call model.train() before training by hand")
            print(message, file=sys.stderr if self.use_bar() else sys.stdout, flush=True)


def format_logs(logs):
    """``loss 0.1234 - accuracy 0.9500 - lr 0.001`` from an epoch's logs."""
    return " - ".join(f"{key} {value:.4g}" if key == "lr" else f"{key} {value:.4f}"
                      for key, value in logs.items())
