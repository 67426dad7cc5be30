"""The source notes' Keras workflow on Fashion-MNIST, with fit() and callbacks.

    python examples/fashion_keras_style.py          # both models, offline
    python examples/fashion_keras_style.py --smoke  # a few batches, seconds (run by the tests)

1. A single softmax layer (multinomial logistic regression), Adam with a cosine decay: the
   notes report 83.95% test accuracy.
2. 100 ReLU units + Dropout(0.3), RMSprop (step decayed 15% per epoch), EarlyStopping
   (patience=2 on validation accuracy, restoring the best weights) and ModelCheckpoint
   (save_best_only) on a 48,000/12,000 train/validation split: the notes report 87.32%
   best validation accuracy.
Figures go to outputs/fashion_keras_style/: curves, the softmax layer's weights as images,
the test confusion matrix and a grid of test predictions.
"""
import argparse
from pathlib import Path

import nn
import viz
from nn.data import train_test_split
from nn.datasets import FASHION_MNIST_CLASSES, fashion_mnist
from nn.optim import lr_scheduler
from nn.training import EarlyStopping, ModelCheckpoint, evaluate, fit, predict

SOFTMAX_EPOCHS = 15
SOFTMAX_LR = 2e-3            # Adam, cosine decay to 0 over the epochs
MAX_EPOCHS = 60              # the dense model stops early
HIDDEN, DROPOUT = 100, 0.3
RMSPROP = dict(lr=2e-3, alpha=0.9, eps=1e-7)   # Keras's rho=0.9 and epsilon
LR_DECAY = 0.85              # per epoch: a smaller step each epoch lets validation keep improving
PATIENCE = 2
MONITOR = "val_accuracy"
BATCH_SIZE = 100
VALIDATION_SIZE = 12000
SEED = 0
OUT_DIR = Path("outputs/fashion_keras_style")


def softmax_model():
    """Flatten -> Dense(10): softmax regression (the softmax itself lives in the loss)."""
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))


def dense_model():
    """Flatten -> Dense(100, relu) -> Dropout(0.3) -> Dense(10)."""
    return nn.Sequential(nn.Flatten(), nn.Linear(784, HIDDEN), nn.ReLU(), nn.Dropout(DROPOUT),
                         nn.Linear(HIDDEN, 10))


def main(softmax_epochs=SOFTMAX_EPOCHS, max_epochs=MAX_EPOCHS, smoke=False, out_dir=OUT_DIR):
    """Train both models and write the figures; returns the headline numbers."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (x_train, y_train), (x_test, y_test) = fashion_mnist(normalize=True)
    validation_size = VALIDATION_SIZE
    if smoke:
        (x_train, y_train), (x_test, y_test) = (x_train[:600], y_train[:600]), (x_test[:200], y_test[:200])
        softmax_epochs, max_epochs, validation_size = 1, 2, 120
    x_fit, x_val, y_fit, y_val = train_test_split(x_train, y_train, test_size=validation_size,
                                                  seed=SEED)
    loss_fn = nn.CrossEntropyLoss()
    nn.manual_seed(SEED)

    print(f"--- 1. softmax layer, Adam, {len(x_train)} training images ---")
    softmax = softmax_model()
    adam = nn.optim.Adam(softmax.parameters(), lr=SOFTMAX_LR)
    softmax_history = fit(softmax, loss_fn, adam, (x_train, y_train), epochs=softmax_epochs,
                          batch_size=BATCH_SIZE, validation_data=(x_test, y_test), seed=SEED,
                          verbose=2, scheduler=lr_scheduler.CosineAnnealingLR(adam, softmax_epochs))
    softmax_test = evaluate(softmax, loss_fn, (x_test, y_test))["accuracy"]

    print(f"--- 2. {HIDDEN} ReLU + Dropout({DROPOUT}), RMSprop, "
          f"{len(x_fit)}/{len(x_val)} split ---")
    dense = dense_model()
    checkpoint = ModelCheckpoint(out_dir / "best_dense.npz", monitor=MONITOR, save_best_only=True)
    stopping = EarlyStopping(MONITOR, patience=PATIENCE, restore_best_weights=True)
    rmsprop = nn.optim.RMSprop(dense.parameters(), **RMSPROP)
    dense_history = fit(dense, loss_fn, rmsprop, (x_fit, y_fit), epochs=max_epochs,
                        batch_size=BATCH_SIZE, validation_data=(x_val, y_val),
                        callbacks=[checkpoint, stopping], seed=SEED, verbose=2,
                        scheduler=lr_scheduler.ExponentialLR(rmsprop, LR_DECAY))
    restored = dense_model()
    restored.load_state_dict(nn.load(checkpoint.last_saved))
    best_validation = evaluate(restored, loss_fn, (x_val, y_val))["accuracy"]
    dense_test = evaluate(dense, loss_fn, (x_test, y_test))["accuracy"]

    print(f"softmax layer: test accuracy {softmax_test:.4f} (notes: 0.8395)")
    print(f"dense + dropout: best validation accuracy {best_validation:.4f} at epoch "
          f"{stopping.best_epoch + 1} of {len(dense_history)} (notes: 0.8732); "
          f"test accuracy {dense_test:.4f}")

    viz.plot_history(softmax_history, path=out_dir / "softmax_curves.png",
                     title="softmax layer (validation = test set)")
    viz.plot_history(dense_history, path=out_dir / "dense_curves.png",
                     title="100 ReLU + dropout, RMSprop, early stopping")
    templates = softmax[1].weight.data.reshape(10, 28, 28)
    viz.plot_image_grid(templates, labels=range(10), class_names=FASHION_MNIST_CLASSES, ncols=5,
                        cmap="RdBu", path=out_dir / "softmax_weights.png")
    scores = predict(dense, x_test)
    viz.plot_confusion_matrix(y_test, scores, class_names=FASHION_MNIST_CLASSES,
                              path=out_dir / "confusion_matrix.png")
    viz.plot_image_grid(x_test[:32], labels=y_test[:32], predictions=scores[:32],
                        class_names=FASHION_MNIST_CLASSES, path=out_dir / "predictions.png")
    print(f"wrote {out_dir}/softmax_curves.png, dense_curves.png, softmax_weights.png, "
          f"confusion_matrix.png, predictions.png, best_dense.npz")
    return {"softmax_test_accuracy": softmax_test, "dense_best_val_accuracy": best_validation,
            "dense_test_accuracy": dense_test, "dense_epochs": len(dense_history)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--softmax-epochs", type=int, default=SOFTMAX_EPOCHS)
    parser.add_argument("--max-epochs", type=int, default=MAX_EPOCHS)
    parser.add_argument("--smoke", action="store_true", help="a few batches, for tests")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    main(args.softmax_epochs, args.max_epochs, args.smoke, args.out)
