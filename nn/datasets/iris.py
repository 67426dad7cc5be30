"""Fisher's Iris data (1936), bundled as ``iris.csv`` beside this module.

The 150 rows are Fisher's published measurements, 50 per species. The widely copied
UCI file has two transcription errors in rows 35 and 38; this copy has Fisher's values
(as scikit-learn's does): row 35 is 4.9,3.1,1.5,0.2 and row 38 is 4.9,3.6,1.4,0.1.
"""
import csv
from pathlib import Path

import numpy as np

IRIS_CSV = Path(__file__).with_name("iris.csv")
IRIS_FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")
IRIS_CLASSES = ("setosa", "versicolor", "virginica")


def iris():
    """Fisher's Iris flowers: 150 samples of 4 measurements (cm) in 3 balanced classes.

    Returns:
        ``(X, y)``: float32 ``X`` of shape (150, 4) with columns ``IRIS_FEATURES`` and
        int64 ``y`` in 0..2 naming ``IRIS_CLASSES``, in the file's order (sorted by class,
        so split with ``train_test_split(..., stratify=y)`` before training).
    """
    with open(IRIS_CSV, newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    if tuple(header) != IRIS_FEATURES + ("species",):
        raise ValueError(f"{IRIS_CSV}: unexpected header {header}")
    X = np.array([[float(v) for v in row[:4]] for row in body], dtype=np.float32)
    y = np.array([IRIS_CLASSES.index(row[4]) for row in body], dtype=np.int64)
    return X, y
