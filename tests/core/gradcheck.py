"""Helpers shared by the core tests: central differences and tiny data sets."""

import numpy as np


def numerical_gradient(loss, array, eps=1e-6):
    """Central-difference gradient of ``loss()`` with respect to ``array``.

    ``array`` is perturbed in place, one element at a time, and restored.
    """
    grad = np.zeros_like(array, dtype=np.float64)
    for index in np.ndindex(array.shape):
        original = array[index]
        array[index] = original + eps
        plus = loss()
        array[index] = original - eps
        minus = loss()
        array[index] = original
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def blobs(n_per_class=20, n_features=3, labels=(0, 1, 2), seed=0, spread=0.5):
    """Well separated Gaussian blobs with the given labels."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, size=(len(labels), n_features))
    x = np.concatenate(
        [c + spread * rng.normal(size=(n_per_class, n_features)) for c in centres]
    )
    y = np.repeat(np.asarray(labels), n_per_class)
    return x, y


def linear_regression_data(n=60, n_features=3, seed=0, noise=0.1):
    """y = x @ w + 5 with a little noise, in units far from 0..1."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n_features)) * 10 + 100
    w = rng.normal(size=n_features)
    y = x @ w + 5 + noise * rng.normal(size=n)
    return x, y


def dense_spec(*layers, **top):
    """A config dict from (units, activation) pairs plus top-level overrides."""
    spec = {
        "network": {
            "layers": [
                {"type": "dense", "units": u, "activation": a} for u, a in layers
            ]
        }
    }
    for key, value in top.items():
        spec[key] = value
    return spec
