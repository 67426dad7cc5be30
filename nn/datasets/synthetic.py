"""Small synthetic classification problems, seeded: logic gates, moons, spirals, random points.

Every generator returns ``(X, y)`` with float32 ``X`` and int64 labels ``y``.
"""
import itertools

import numpy as np

GATES = {
    "and": lambda bits: bits.all(axis=1),
    "or": lambda bits: bits.any(axis=1),
    "xor": lambda bits: bits.sum(axis=1) % 2 == 1,
    "nand": lambda bits: ~bits.all(axis=1),
    "nor": lambda bits: ~bits.any(axis=1),
    "xnor": lambda bits: bits.sum(axis=1) % 2 == 0,
}


def logic_gate(gate="xor", n_inputs=2, n_samples=None, noise=0.0, seed=None):
    """The truth table of a logic gate, or noisy samples of it.

    Args:
        gate: one of ``and or xor nand nor xnor`` (xor of more inputs is parity).
        n_inputs: number of binary inputs.
        n_samples: ``None`` for the ``2**n_inputs`` rows of the truth table; a number to
            draw that many rows at random instead.
        noise: standard deviation of Gaussian noise added to the inputs.
        seed: seed of the row draws and noise.

    Raises:
        ValueError: an unknown gate or ``n_inputs`` below 1.
    """
    if gate not in GATES:
        raise ValueError(f"logic_gate: gate must be one of {sorted(GATES)}, got {gate!r}")
    if n_inputs < 1:
        raise ValueError(f"logic_gate: n_inputs must be >= 1, got {n_inputs}")
    rng = np.random.default_rng(seed)
    bits = np.array(list(itertools.product([False, True], repeat=n_inputs)))
    if n_samples is not None:
        bits = bits[rng.integers(0, len(bits), size=n_samples)]
    X = bits.astype(np.float32)
    if noise:
        X += rng.normal(0.0, noise, X.shape).astype(np.float32)
    return X, GATES[gate](bits).astype(np.int64)


def xor(n_samples=None, noise=0.0, seed=None):
    """The XOR problem: ``logic_gate("xor", 2, n_samples, noise, seed)``."""
    return logic_gate("xor", 2, n_samples, noise, seed)


def two_moons(n_samples=200, noise=0.1, seed=None):
    """Two interleaving half circles (class 0 the upper, class 1 the lower), shuffled.

    Args:
        n_samples: total points, split evenly (the lower moon gets any odd one).
        noise: standard deviation of Gaussian noise on the coordinates.
        seed: seed of the noise and the shuffle.
    """
    rng = np.random.default_rng(seed)
    n_upper = n_samples // 2
    upper = np.linspace(0, np.pi, n_upper)
    lower = np.linspace(0, np.pi, n_samples - n_upper)
    X = np.concatenate([np.stack([np.cos(upper), np.sin(upper)], axis=1),
                        np.stack([1 - np.cos(lower), 0.5 - np.sin(lower)], axis=1)])
    y = np.concatenate([np.zeros(n_upper), np.ones(n_samples - n_upper)]).astype(np.int64)
    X = X + rng.normal(0.0, noise, X.shape)
    order = rng.permutation(n_samples)
    return X[order].astype(np.float32), y[order]


def spirals(n_samples=300, n_classes=3, noise=0.2, seed=None):
    """Interleaved spiral arms, one per class (the CS231n toy problem), shuffled.

    Args:
        n_samples: total points, split as evenly as possible over the arms.
        n_classes: number of arms.
        noise: standard deviation of the Gaussian noise on each point's angle.
        seed: seed of the noise and the shuffle.
    """
    rng = np.random.default_rng(seed)
    counts = np.full(n_classes, n_samples // n_classes)
    counts[:n_samples % n_classes] += 1
    points, labels = [], []
    for arm, count in enumerate(counts):
        radius = np.linspace(0.0, 1.0, count)
        angle = np.linspace(arm * 4.0, (arm + 1) * 4.0, count) + rng.normal(0.0, noise, count)
        points.append(np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1))
        labels.append(np.full(count, arm))
    order = rng.permutation(n_samples)
    return (np.concatenate(points)[order].astype(np.float32),
            np.concatenate(labels)[order].astype(np.int64))


# Axis ranges in raw units, deliberately far apart (metres, a small offset, hundreds).
RANDOM_POINTS_BOX = ((0.0, 1000.0), (-5.0, 5.0), (200.0, 300.0))


def random_points(n_samples=1000, n_dims=2, regions="quadrants", box=None, seed=None):
    """Uniform random points labelled by the region they fall in, in raw, unnormalised units.

    The axes have very different ranges (default ``RANDOM_POINTS_BOX``: x in [0, 1000],
    y in [-5, 5], z in [200, 300]), so a network trained on the raw coordinates does
    poorly while the same network on min-max normalised inputs learns the regions:
    the problem exists to show why normalisation matters.

    Args:
        n_samples: number of points.
        n_dims: 2 or 3.
        regions: ``"quadrants"``: the label is which half of each axis's range the point
            is in (4 classes in 2-D, 8 in 3-D, bit i set for the upper half of axis i);
            ``"ball"``: 1 inside the ball around the box's centre whose radius is 0.35 of
            each axis's range, else 0.
        box: ``n_dims`` pairs ``(low, high)`` overriding the default ranges.
        seed: seed of the points.

    Raises:
        ValueError: ``n_dims`` not 2 or 3, an unknown ``regions``, or a bad ``box``.
    """
    if n_dims not in (2, 3):
        raise ValueError(f"random_points: n_dims must be 2 or 3, got {n_dims}")
    box = np.asarray(RANDOM_POINTS_BOX[:n_dims] if box is None else box, dtype=np.float64)
    if box.shape != (n_dims, 2) or not (box[:, 0] < box[:, 1]).all():
        raise ValueError(f"random_points: box must be {n_dims} pairs (low, high) with low < high, "
                         f"got {box.tolist()}")
    rng = np.random.default_rng(seed)
    unit = rng.random((n_samples, n_dims))
    if regions == "quadrants":
        y = ((unit > 0.5) * (1 << np.arange(n_dims))).sum(axis=1)
    elif regions == "ball":
        y = (np.linalg.norm(unit - 0.5, axis=1) < 0.35).astype(np.int64)
    else:
        raise ValueError(f"random_points: regions must be 'quadrants' or 'ball', got {regions!r}")
    X = box[:, 0] + unit * (box[:, 1] - box[:, 0])
    return X.astype(np.float32), y.astype(np.int64)
