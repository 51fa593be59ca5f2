"""One entry point per side: the API profiles an upload, a worker builds arrays."""

import io
from typing import IO, Any

import numpy as np

from core.table import Table
from persistence.tables import csv_reader, json_reader, npz_reader
from persistence.tables.build import build
from persistence.tables.errors import TableError
from persistence.tables.options import ReadOptions
from persistence.tables.profile import (
    PREVIEW_ROWS,
    ColumnProfile,
    Profile,
    describe_target,
    profile,
)

FORMATS = ("csv", "json", "npz")


def guess_format(filename: str | None, declared: str | None) -> str:
    if declared:
        return declared
    suffix = (filename or "").rsplit(".", 1)[-1].lower()
    return {"json": "json", "npz": "npz"}.get(suffix, "csv")


def profile_file(
    binary: IO[bytes], options: ReadOptions, max_rows: int, max_columns: int,
    max_bytes: int,
) -> Profile:  # fmt: skip
    """Check a whole upload and describe it; fills in detected options."""
    if options.format == "npz":
        npz_reader.check(binary, max_bytes)
        x, y, names = npz_reader.load(binary)
        _check_width(len(names) + 1, max_columns)
        if len(x) > max_rows:
            raise TableError(
                f"the file has {len(x)} rows; the limit is {max_rows} "
                "(DESCENT_MAX_DATASET_ROWS)",
                status=413,
            )
        return _npz_profile(x, y, names, options)
    if options.format == "json":
        names, rows = json_reader.read_rows(binary)
    else:
        csv_reader.detect(binary, options)
        names, rows = csv_reader.read_rows(binary, options)
    try:
        _check_width(len(names), max_columns)
        return profile(names, rows, options, max_rows)
    finally:
        # Release the reader now, while the caller's file is still open.
        rows.close()


def read_table(
    binary: IO[bytes], options: ReadOptions, features: list[dict[str, Any]], task: str
) -> tuple[Table, np.ndarray]:
    """The stored file as a feature table and a target array."""
    if options.format == "npz":
        x, y, names = npz_reader.load(io.BytesIO(binary.read()))
        kept = [names.index(feature["name"]) for feature in features]
        return Table.from_matrix(x[:, kept], [names[i] for i in kept]), y
    if options.format == "json":
        names, rows = json_reader.read_rows(binary)
    else:
        names, rows = csv_reader.read_rows(binary, options)
    try:
        return build(names, rows, options, features, task)
    finally:
        rows.close()


def _check_width(columns: int, max_columns: int) -> None:
    if columns > max_columns:
        raise TableError(
            f"the file has {columns} columns; the limit is {max_columns} "
            "(DESCENT_MAX_DATASET_COLUMNS)",
            status=413,
        )


def _npz_profile(
    x: np.ndarray, y: np.ndarray, names: list[str], options: ReadOptions
) -> Profile:
    options.target = options.target or "y"
    if len(x) < 2:
        raise TableError("the file needs at least two data rows")
    missing = np.isnan(x)
    features = []
    for i, name in enumerate(names):
        if name in options.ignore:
            continue
        rows = np.flatnonzero(missing[:, i])
        observed = x[~missing[:, i], i]
        features.append(
            {
                "name": name,
                "type": "numeric",
                "missing": int(len(rows)),
                "first_missing_row": int(rows[0]) + 1 if len(rows) else None,
                "min": float(observed.min()) if len(observed) else None,
                "max": float(observed.max()) if len(observed) else None,
            }
        )
    # The target goes through the same rules as a CSV column's.
    target = ColumnProfile(options.target)
    for row, value in enumerate(y.tolist(), start=1):
        target.add(row, value, ".")
    task, classes, counts = describe_target(target, options)
    preview = [
        {**dict(zip(names, x[i].tolist(), strict=True)), options.target: y[i].item()}
        for i in range(min(PREVIEW_ROWS, len(x)))
    ]
    return Profile(len(x), features, options.target, task, classes, counts, preview)
