"""Datasets as workers and the API read them: built-in ones and stored uploads.

An upload is stored once, in the database, as its own file in chunks
(persistence.tables.storage) with the options it was read with and the
profile reading found; a worker on any machine reads it back the same way.
"""

import uuid
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.table import Table
from persistence.models import Dataset
from persistence.tables.options import ReadOptions
from persistence.tables.reading import read_table
from persistence.tables.storage import open_stored

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
    # Feature name -> numeric, categorical or boolean.
    kinds: dict[str, str] = field(default_factory=dict)
    # (first data row with a missing value, column), in row order.
    missing: list[tuple[int, str]] = field(default_factory=list)
    # Columns with no value at all.
    empty: list[str] = field(default_factory=list)

    @property
    def n_features(self) -> int:
        return len(self.features)

    @property
    def numeric_only(self) -> bool:
        return all(kind == "numeric" for kind in self.kinds.values())


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
        kinds=dict.fromkeys(features, "numeric"),
    )
    x.setflags(write=False)
    y.setflags(write=False)
    return info, x, y


def builtin_infos() -> list[DatasetInfo]:
    return [_builtin(name)[0] for name in BUILTIN_DATASETS]


def _info(row: Dataset) -> DatasetInfo:
    columns = row.profile.get("features", [])
    missing = [
        (column["first_missing_row"], column["name"])
        for column in columns
        if column.get("first_missing_row") is not None
    ]
    return DatasetInfo(
        id=str(row.id),
        name=row.name,
        builtin=False,
        task=row.task,
        target=row.target,
        features=list(row.features),
        classes=row.classes,
        n_rows=row.n_rows,
        kinds={column["name"]: column["type"] for column in columns},
        missing=sorted(missing),
        empty=[c["name"] for c in columns if c.get("missing") == row.n_rows],
    )


def uploaded_infos(session: Session, tenant_id: uuid.UUID) -> list[DatasetInfo]:
    rows = session.scalars(
        select(Dataset)
        .where(Dataset.tenant_id == tenant_id)
        .order_by(Dataset.created_at.desc())
    )
    return [_info(row) for row in rows]


def parse_ref(ref: str) -> str | uuid.UUID | None:
    """A built-in name, an upload's UUID, or None when it is neither."""
    if ref in BUILTIN_DATASETS:
        return ref
    try:
        return uuid.UUID(ref)
    except ValueError:
        return None


def find_info(
    session: Session, ref: str | uuid.UUID, tenant_id: uuid.UUID | None = None
) -> DatasetInfo | None:
    """A built-in dataset, or an upload (of ``tenant_id``'s, when given)."""
    if isinstance(ref, str):
        return _builtin(ref)[0] if ref in BUILTIN_DATASETS else None
    row = session.get(Dataset, ref)
    if row is None or (tenant_id is not None and row.tenant_id != tenant_id):
        return None
    return _info(row)


def load_arrays(
    session: Session, ref: str | uuid.UUID
) -> tuple[DatasetInfo, np.ndarray | Table, np.ndarray]:
    """The dataset's schema, its features and its targets ``y`` (n_rows,).

    Built-in datasets give a float matrix (n_rows, n_features); uploads give a
    ``core.table.Table`` of their feature columns, as their profile typed them.
    """
    if isinstance(ref, str):
        return _builtin(ref)
    row = session.get(Dataset, ref)
    if row is None:
        raise LookupError(f"dataset {ref} does not exist")
    options = ReadOptions.from_dict(row.options)
    with open_stored(session, row.id) as stream:
        table, y = read_table(stream, options, row.profile["features"], row.task)
    return _info(row), table, y
