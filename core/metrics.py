"""Metrics reported per epoch and on the test split, in plain Python floats.

Names follow the history the API stores: ``loss``, ``accuracy`` (classification)
or ``rmse`` and ``r2`` (regression), each with a ``val_`` twin for the
validation split. ``r2`` of a constant target is 1.0 for a perfect fit and 0.0
otherwise (scikit-learn's ``force_finite``), so no metric is ever NaN by
construction.
"""

import math

import numpy as np

MAXIMIZED = frozenset({"accuracy", "val_accuracy", "r2", "val_r2"})


def metric_names(task: str, validation: bool) -> tuple[str, ...]:
    """Metrics a run reports for ``task``, with ``val_`` ones when validating."""
    train = ("loss", "accuracy") if task == "classification" else ("loss", "rmse", "r2")
    if not validation:
        return train
    return train + tuple(f"val_{name}" for name in train)


def accuracy(predicted: np.ndarray, target: np.ndarray) -> float:
    """Fraction of rows whose predicted class index equals the target's."""
    return float(np.count_nonzero(predicted == target)) / len(target)


def rmse(predicted: np.ndarray, target: np.ndarray) -> float:
    """Root mean squared error, in the units of the arrays given."""
    diff = np.asarray(predicted, dtype=np.float64) - target
    return math.sqrt(float(np.mean(diff * diff)))


def r2(predicted: np.ndarray, target: np.ndarray) -> float:
    """Coefficient of determination ``1 - SSE / SST``."""
    target = np.asarray(target, dtype=np.float64)
    residual = float(np.sum((np.asarray(predicted, dtype=np.float64) - target) ** 2))
    total = float(np.sum((target - target.mean()) ** 2))
    if total == 0.0:
        return 1.0 if residual == 0.0 else 0.0
    return 1.0 - residual / total


def confusion_matrix(predicted: np.ndarray, target: np.ndarray, n_classes: int):
    """Counts ``[true class][predicted class]`` as a list of lists of ints."""
    flat = np.bincount(target * n_classes + predicted, minlength=n_classes**2)
    return flat.reshape(n_classes, n_classes).tolist()
