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

from core.errors import DataError
from core.preprocessing import (
    LabelEncoder,
    StandardizedRows,
    Standardizer,
    split_indices,
)
from core.table import Table
from core.tabular import TableEncoder


@dataclass
class Split:
    """One split's rows: ``x`` (rows, n_features), ``target``, ``truth``.

    ``x`` is a ``StandardizedRows``: indexing it gives standardised rows.
    """

    x: StandardizedRows | np.ndarray
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
    # Set when the features came as a Table: imputation, scaling, one-hot.
    table_encoder: TableEncoder | None = None


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
    # NaN and infinity both surface in the minimum or the maximum, which
    # need no (n_rows, n_features) boolean array: 47 MB for 60,000 x 784.
    if x.dtype.kind == "f" and not np.isfinite([x.min(), x.max()]).all():
        row, column = np.argwhere(~np.isfinite(x))[0]
        raise ValueError(
            f"{name} holds a non-finite value ({x[row, column]}) at row {row}, "
            f"column {column}; remove or impute missing values first"
        )
    return x


def prepare_data(x, y, config) -> Dataset:
    """Encode, validate, split and standardise; see the module docstring.

    ``x`` is a numeric matrix (n_rows, n_features) or a ``Table``; a table's
    columns are imputed, scaled and one-hot encoded by a ``TableEncoder``
    fitted on the training split, as ``config.preprocessing`` says.
    """
    table = x if isinstance(x, Table) else None
    if table is None:
        x = check_features(x)
    n_rows = table.n_rows if table is not None else len(x)
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or len(y) != n_rows:
        raise ValueError(f"y must have shape ({n_rows},) to match x, got {y.shape}")
    if table is not None:
        table, y = _apply_missing_policy(table, y, config.preprocessing.missing)
        x = table
    encoder, codes, n_classes = None, None, None
    if config.task == "classification":
        encoder, codes = LabelEncoder.fit(y)
        n_classes = len(encoder.classes)
    else:
        y = _regression_target(y)
    n_rows = table.n_rows if table is not None else len(x)
    n_features = len(table.columns) if table is not None else x.shape[1]
    config.validate(n_features, n_classes)

    rng = np.random.default_rng(config.training.seed)
    training = config.training
    indices = split_indices(
        n_rows, training.validation_split, training.test_split, rng, codes
    )
    dtype = np.dtype(config.dtype)
    table_encoder = None
    if table is not None:
        options = config.preprocessing
        scaling = options.scaling if training.standardize else "none"
        table_encoder = TableEncoder.fit(
            table.take(indices[0]), scaling, options.missing, options.unseen
        )
        # Held-out rows may hold categories the training rows lack: zeros.
        x = table_encoder.transform(table, dtype, unseen="zeros")
    x = x.astype(dtype, copy=False)
    # A table's encoder has scaled its numeric columns already.
    standardizer = Standardizer.fit(
        x, training.standardize and table is None, rows=indices[0]
    )
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
        x_split = StandardizedRows(x, rows, standardizer)
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
        table_encoder=table_encoder,
    )


def _apply_missing_policy(table: Table, y: np.ndarray, policy: str):
    """Refuse or drop rows with missing cells; imputing happens in the encoder."""
    if policy == "reject":
        first = table.first_missing()
        if first is not None:
            row, column = first
            raise DataError(
                column,
                f"data row {row + 1}, column {column!r}: the value is missing; set "
                "preprocessing.missing to drop, mean, median or most_frequent",
                row,
            )
    elif policy == "drop":
        keep = ~np.any([column.missing for column in table.columns], axis=0)
        if not keep.any():
            raise DataError(
                "", "every row has a missing value; none is left to train on"
            )
        table, y = table.take(np.flatnonzero(keep)), y[keep]
    return table, y


def _regression_target(y: np.ndarray) -> np.ndarray:
    try:
        y = y.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError("regression targets must be numbers") from exc
    if not np.isfinite(y).all():
        row = int(np.flatnonzero(~np.isfinite(y))[0])
        raise ValueError(f"y holds a non-finite target at row {row}")
    return y
