"""From raw ``x`` and ``y`` to the standardised splits a run trains on.

``prepare_data`` checks the arrays, encodes class labels, validates the
configuration against the data, splits the rows and standardises features
(and regression targets) with training-split statistics only. Every split
holds the features in the configured dtype, the target as the loss takes it,
and the truth metrics are computed against: class codes, or regression
targets in their original units (float64).
"""

from dataclasses import dataclass

import numpy as np

from core.preprocessing import LabelEncoder, Standardizer, split_indices


@dataclass
class Split:
    """One split's rows: ``x`` (rows, n_features), ``target``, ``truth``."""

    x: np.ndarray
    target: np.ndarray
    truth: np.ndarray


@dataclass
class Dataset:
    """The splits of a run and the transforms that produced them."""

    task: str
    n_features: int
    n_classes: int | None
    encoder: LabelEncoder | None
    standardizer: Standardizer
    target_mean: np.ndarray | None  # (1,) float64, regression only
    target_scale: np.ndarray | None
    train: Split
    validation: Split | None
    test: Split | None


def check_features(x, name: str = "x") -> np.ndarray:
    """Return ``x`` as a 2-D numeric array of finite values, or raise ValueError."""
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_rows, n_features), got shape {x.shape}"
        )
    if x.dtype.kind not in "fiub":
        raise ValueError(f"{name} must hold numbers, got dtype {x.dtype}")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {x.shape}")
    finite = np.isfinite(x)
    if not finite.all():
        row, column = np.argwhere(~finite)[0]
        raise ValueError(
            f"{name} holds a non-finite value ({x[row, column]}) at row {row}, "
            f"column {column}; remove or impute missing values first"
        )
    return x


def prepare_data(x, y, config) -> Dataset:
    """Encode, validate, split and standardise; see the module docstring."""
    x = check_features(x)
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(f"y must have shape ({len(x)},) to match x, got {y.shape}")
    encoder, codes, n_classes = None, None, None
    if config.task == "classification":
        encoder, codes = LabelEncoder.fit(y)
        n_classes = len(encoder.classes)
    else:
        y = _regression_target(y)
    config.validate(x.shape[1], n_classes)

    rng = np.random.default_rng(config.training.seed)
    training = config.training
    indices = split_indices(
        len(x), training.validation_split, training.test_split, rng, codes
    )
    dtype = np.dtype(config.dtype)
    x = x.astype(dtype, copy=False)
    standardizer = Standardizer.fit(x[indices[0]], training.standardize)
    target_mean = target_scale = None
    if config.task == "regression":
        train_y = y[indices[0]]
        target_mean = np.array([train_y.mean()])
        std = train_y.std()
        target_scale = np.array([std if std > 0 else 1.0])
    splits = []
    for rows in indices:
        if len(rows) == 0:
            splits.append(None)
            continue
        x_split = standardizer.transform(x[rows])
        if config.task == "regression":
            scaled = (y[rows] - target_mean) / target_scale
            splits.append(Split(x_split, scaled.astype(dtype)[:, None], y[rows]))
        elif config.loss == "binary_cross_entropy":
            target = codes[rows].astype(dtype)[:, None]
            splits.append(Split(x_split, target, codes[rows]))
        else:
            splits.append(Split(x_split, codes[rows], codes[rows]))
    return Dataset(
        config.task,
        x.shape[1],
        n_classes,
        encoder,
        standardizer,
        target_mean,
        target_scale,
        *splits,
    )


def _regression_target(y: np.ndarray) -> np.ndarray:
    try:
        y = y.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError("regression targets must be numbers") from exc
    if not np.isfinite(y).all():
        row = int(np.flatnonzero(~np.isfinite(y))[0])
        raise ValueError(f"y holds a non-finite target at row {row}")
    return y
