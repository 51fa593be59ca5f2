"""Reading an uploaded CSV file into feature and target arrays.

The file needs a header row. Every feature column must be numeric; the target
column may hold numbers or labels. Errors name the line, column and value.
"""

import csv
import io
import math
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from api.errors import InvalidInputError

# An integer target with at most this many distinct values is taken as classes.
MAX_INFERRED_CLASSES = 20


@dataclass
class ParsedTable:
    x: np.ndarray  # (n_rows, n_features) float64
    y: np.ndarray  # (n_rows,) int64, float64 or unicode
    features: list[str]
    task: str
    classes: list[Any] | None


def _target_values(raw: list[str]) -> np.ndarray:
    try:
        return np.asarray([int(value) for value in raw], dtype=np.int64)
    except (ValueError, OverflowError):
        pass
    try:
        values = np.asarray([float(value) for value in raw], dtype=np.float64)
    except ValueError:
        return np.asarray(raw, dtype=np.str_)
    if not np.all(np.isfinite(values)):
        return np.asarray(raw, dtype=np.str_)
    return values


def _infer_task(y: np.ndarray, requested: str | None, target: str) -> str:
    numeric = y.dtype.kind in "if"
    if requested == "regression" and not numeric:
        raise InvalidInputError(
            f"target column {target!r} holds text labels; regression needs numbers",
            field="task",
        )
    if requested is not None:
        return requested
    if not numeric:
        return "classification"
    if y.dtype.kind == "i" and len(np.unique(y)) <= MAX_INFERRED_CLASSES:
        return "classification"
    return "regression"


def parse_csv(
    binary: IO[bytes],
    target: str,
    task: str | None,
    max_rows: int,
    max_columns: int,
) -> ParsedTable:
    # utf-8-sig drops a byte-order mark, so the first column keeps its name.
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise InvalidInputError("the file is empty: a header row is needed", "file")
        header = [cell.strip() for cell in header]
        if len(header) > max_columns:
            raise InvalidInputError(
                f"the file has {len(header)} columns; the limit is {max_columns}",
                "file",
            )
        duplicates = sorted({name for name in header if header.count(name) > 1})
        if duplicates:
            raise InvalidInputError(
                f"column names repeat in the header: {', '.join(duplicates)}", "file"
            )
        if target not in header:
            raise InvalidInputError(
                f"target column {target!r} is not in the file; its columns are "
                f"{', '.join(header)}",
                "target",
            )
        target_index = header.index(target)
        features = [name for name in header if name != target]
        if not features:
            raise InvalidInputError(
                "the file has no feature columns besides the target", "file"
            )
        rows: list[list[float]] = []
        labels: list[str] = []
        for row in reader:
            if not row or all(not cell.strip() for cell in row):
                continue
            line = reader.line_num
            if len(row) != len(header):
                raise InvalidInputError(
                    f"line {line} has {len(row)} fields; the header has {len(header)}",
                    "file",
                )
            if len(rows) >= max_rows:
                raise InvalidInputError(
                    f"the file has more than {max_rows} rows "
                    "(DESCENT_MAX_DATASET_ROWS)",
                    "file",
                )
            values: list[float] = []
            for index, cell in enumerate(row):
                cell = cell.strip()
                if index == target_index:
                    if not cell:
                        raise InvalidInputError(
                            f"line {line}, column {target!r}: the target is missing",
                            "file",
                        )
                    labels.append(cell)
                    continue
                column = header[index]
                if not cell:
                    raise InvalidInputError(
                        f"line {line}, column {column!r}: the value is missing", "file"
                    )
                try:
                    value = float(cell)
                except ValueError:
                    raise InvalidInputError(
                        f"line {line}, column {column!r}: {cell!r} is not a number",
                        "file",
                    ) from None
                if not math.isfinite(value):
                    raise InvalidInputError(
                        f"line {line}, column {column!r}: {cell!r} is not a finite "
                        "number",
                        "file",
                    )
                values.append(value)
            rows.append(values)
    except UnicodeDecodeError:
        raise InvalidInputError("the file is not UTF-8 text", "file") from None
    except csv.Error as error:
        raise InvalidInputError(
            f"line {reader.line_num}: the CSV is malformed ({error})", "file"
        ) from None
    finally:
        text.detach()

    if len(rows) < 2:
        raise InvalidInputError("the file needs at least two data rows", "file")
    x = np.asarray(rows, dtype=np.float64)
    y = _target_values(labels)
    task = _infer_task(y, task, target)
    classes: list[Any] | None = None
    if task == "classification":
        classes = [value.item() for value in np.unique(y)]
        if len(classes) < 2:
            raise InvalidInputError(
                f"target column {target!r} has a single class ({classes[0]!r}); "
                "classification needs at least two",
                "target",
            )
    return ParsedTable(x=x, y=y, features=features, task=task, classes=classes)
