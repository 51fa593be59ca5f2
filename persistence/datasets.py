"""Datasets as workers and the API read them: built-in ones and stored uploads.

An uploaded dataset is stored once, in the database, as an npz archive holding
``x`` (float64, rows by features) and ``y`` (int64, float64 or fixed-width
unicode): nothing in it needs pickle to read.
"""

import hashlib
import io
import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from persistence.models import Dataset

BUILTIN_DATASETS = ("iris", "wine", "breast_cancer", "digits", "diabetes")


@dataclass(frozen=True)
class DatasetInfo:
    """What a job needs to know about a dataset before it trains on it."""

    id: str
    name: str
    builtin: bool
    task: str
    target: str
    features: list[str]
    classes: list[Any] | None
    n_rows: int

    @property
    def n_features(self) -> int:
        return len(self.features)


@cache
def _builtin(name: str) -> tuple[DatasetInfo, np.ndarray, np.ndarray]:
    # scikit-learn ships these files inside its package: no network is needed.
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")()
    x = np.asarray(bunch.data, dtype=np.float64)
    target = np.asarray(bunch.target)
    if name == "diabetes":
        task, classes, y = "regression", None, target.astype(np.float64)
    elif name == "digits":
        task = "classification"
        y = target.astype(np.int64)
        classes = sorted(int(label) for label in np.unique(y))
    else:
        task = "classification"
        names = [str(label) for label in bunch.target_names]
        y = np.asarray([names[i] for i in target])
        classes = sorted(names)
    features = [str(feature) for feature in bunch.feature_names]
    info = DatasetInfo(
        id=name,
        name=name,
        builtin=True,
        task=task,
        target="target",
        features=features,
        classes=classes,
        n_rows=int(x.shape[0]),
    )
    x.setflags(write=False)
    y.setflags(write=False)
    return info, x, y


def builtin_infos() -> list[DatasetInfo]:
    return [_builtin(name)[0] for name in BUILTIN_DATASETS]


def _info(row: Dataset) -> DatasetInfo:
    return DatasetInfo(
        id=str(row.id),
        name=row.name,
        builtin=False,
        task=row.task,
        target=row.target,
        features=list(row.features),
        classes=row.classes,
        n_rows=row.n_rows,
    )


def uploaded_infos(session: Session) -> list[DatasetInfo]:
    rows = session.scalars(select(Dataset).order_by(Dataset.created_at.desc()))
    return [_info(row) for row in rows]


def parse_ref(ref: str) -> str | uuid.UUID | None:
    """A built-in name, an upload's UUID, or None when it is neither."""
    if ref in BUILTIN_DATASETS:
        return ref
    try:
        return uuid.UUID(ref)
    except ValueError:
        return None


def find_info(session: Session, ref: str | uuid.UUID) -> DatasetInfo | None:
    if isinstance(ref, str):
        return _builtin(ref)[0] if ref in BUILTIN_DATASETS else None
    row = session.get(Dataset, ref)
    return _info(row) if row is not None else None


def load_arrays(
    session: Session, ref: str | uuid.UUID
) -> tuple[DatasetInfo, np.ndarray, np.ndarray]:
    """The dataset's schema, features ``x`` (n_rows, n_features) and targets ``y``."""
    if isinstance(ref, str):
        return _builtin(ref)
    row = session.get(Dataset, ref)
    if row is None:
        raise LookupError(f"dataset {ref} does not exist")
    with np.load(io.BytesIO(row.data), allow_pickle=False) as archive:
        x, y = archive["x"], archive["y"]
    return _info(row), x, y


def pack_arrays(x: np.ndarray, y: np.ndarray) -> tuple[bytes, str]:
    """The npz archive for ``x`` and ``y`` and its SHA-256."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, x=x, y=y)
    blob = buffer.getvalue()
    return blob, hashlib.sha256(blob).hexdigest()
