"""Helpers for the examples' smoke tests: load an example as a module, check its figures,
and a small generated stand-in for Fashion-MNIST (tests use data they make, so they need
neither Debian's dataset package nor a network)."""
import importlib.util
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load_example(name):
    """Import ``examples/<name>.py`` as a module without running its ``__main__`` part."""
    spec = importlib.util.spec_from_file_location(f"{name}_example", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_figures(folder, names):
    """Every named file exists and is non-empty; SVGs are well-formed XML."""
    for name in names:
        path = Path(folder) / name
        assert path.is_file() and path.stat().st_size > 0, f"{name} was not written"
        if name.endswith(".svg"):
            ET.fromstring(path.read_text())   # well-formed XML, not an error page


def synthetic_fashion(train=1000, test=300, seed=0):
    """A stand-in for ``nn.datasets.fashion_mnist`` with its signature and shapes.

    Each of the 10 classes is a fixed random 28x28 pattern; an image is its class's
    pattern plus noise, so a few batches of training already beat guessing clearly.
    """
    rng = np.random.default_rng(seed)
    patterns = rng.random((10, 28, 28), dtype=np.float32)

    def split(count):
        labels = rng.integers(0, 10, count)
        noise = rng.normal(0.0, 0.35, (count, 28, 28)).astype(np.float32)
        return np.clip(patterns[labels] + noise, 0.0, 1.0), labels.astype(np.int64)
    data = (split(train), split(test))

    def fashion_mnist(root=None, *, download=True, normalize=False, flatten=False):
        assert normalize, "the examples train on pixels scaled to [0, 1]"
        return tuple((x.reshape(len(x), -1) if flatten else x, y) for x, y in data)
    return fashion_mnist
