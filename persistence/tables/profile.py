"""One pass over a file's rows: each column's kind, missing cells and summary.

The profile is what the dataset page shows and what a job is checked against
before it is queued (the first missing cell, for the default policy that
rejects them).
"""

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from persistence.tables.errors import TableError
from persistence.tables.options import ReadOptions, is_missing

# A categorical column with more distinct values than this is most likely an
# id or free text, which a one-hot encoding cannot use.
MAX_CATEGORIES = 1000
# An integer target with at most this many distinct values is taken as classes.
MAX_INFERRED_CLASSES = 20
PREVIEW_ROWS = 5
_BOOLEANS = {"true": 1.0, "false": 0.0, "yes": 1.0, "no": 0.0}
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


def to_number(cell: object, decimal: str) -> float | None:
    """The cell as a finite float, or None."""
    if isinstance(cell, bool):
        return None
    if isinstance(cell, int | float):
        value = float(cell)
    else:
        text = str(cell).strip()
        if decimal == ",":
            text = text.replace(",", ".")
        try:
            value = float(text)
        except ValueError:
            return None
    return value if np.isfinite(value) else None


def to_boolean(cell: object) -> float | None:
    if isinstance(cell, bool):
        return float(cell)
    return _BOOLEANS.get(str(cell).strip().lower())


@dataclass
class ColumnProfile:
    """Running facts about one column."""

    name: str
    rows: int = 0
    missing: int = 0
    first_missing_row: int | None = None
    numeric: bool = True
    boolean: bool = True
    decimal_commas: bool = True
    first_text: tuple[int, str] | None = None
    # Cells that read as finite numbers, counted even once the column has text.
    numbers: int = 0
    low: float = float("inf")
    high: float = float("-inf")
    counts: Counter[str] = field(default_factory=Counter)

    def add(self, row: int, cell: object, decimal: str) -> None:
        self.rows += 1
        if is_missing(cell):
            self.missing += 1
            if self.first_missing_row is None:
                self.first_missing_row = row
            return
        text = cell.strip() if isinstance(cell, str) else str(cell)
        if len(self.counts) <= MAX_CATEGORIES:
            self.counts[text] += 1
        value = to_number(cell, decimal)
        if value is not None:
            self.numbers += 1
        if self.numeric:
            if value is not None:
                # Most cells of most files are numbers: nothing more to learn.
                self.low, self.high = min(self.low, value), max(self.high, value)
                self.boolean = self.decimal_commas = False
                return
            self.numeric = False
            self.first_text = (row, text)
        if self.boolean and to_boolean(cell) is None:
            self.boolean = False
        if self.decimal_commas and not _DECIMAL_COMMA.match(text):
            self.decimal_commas = False

    def kind(self, declared: str | None) -> str:
        if declared is not None:
            return declared
        if self.rows == self.missing:
            return "numeric"
        if self.boolean and not self.numeric:
            return "boolean"
        return "numeric" if self.numeric else "categorical"

    def summary(self, kind: str) -> dict[str, Any]:
        info: dict[str, Any] = {
            "name": self.name,
            "type": kind,
            "missing": self.missing,
            "first_missing_row": self.first_missing_row,
        }
        if kind == "numeric" and self.low <= self.high:
            info.update(min=self.low, max=self.high)
        elif kind != "numeric":
            info["categories"] = dict(self.counts.most_common(20))
            info["n_categories"] = len(self.counts)
        return info


@dataclass
class Profile:
    """What one pass found: the schema a dataset row stores."""

    n_rows: int
    features: list[dict[str, Any]]
    target: str
    task: str
    classes: list[Any] | None
    class_counts: dict[str, int] | None
    preview: list[dict[str, Any]]


def profile(
    names: list[str],
    rows: Iterable[tuple[int, int, list[Any]]],
    options: ReadOptions,
    max_rows: int,
) -> Profile:
    target_index = _target_index(names, options)
    _check_names(names, options)
    columns = [ColumnProfile(name) for name in names]
    preview: list[dict[str, Any]] = []
    n_rows = 0
    for number, line, cells in rows:
        n_rows += 1
        if n_rows > max_rows:
            raise TableError(
                f"the file has more than {max_rows} rows (DESCENT_MAX_DATASET_ROWS)",
                status=413,
            )
        if is_missing(cells[target_index]):
            raise TableError(
                f"data row {number} (line {line}): the target "
                f"{names[target_index]!r} is missing; a target cannot be imputed",
                field="target",
            )
        for column, cell in zip(columns, cells, strict=True):
            column.add(number, cell, options.decimal)
        if len(preview) < PREVIEW_ROWS:
            preview.append(dict(zip(names, cells, strict=True)))
    if n_rows < 2:
        raise TableError("the file needs at least two data rows")
    _check_decimal_commas(columns, options)
    features = _feature_summaries(columns, target_index, options)
    task, classes, counts = describe_target(columns[target_index], options)
    return Profile(
        n_rows, features, names[target_index], task, classes, counts, preview
    )


def _target_index(names: list[str], options: ReadOptions) -> int:
    if options.target in names:
        return names.index(options.target)
    if not options.header and options.target.isdigit():
        index = int(options.target)
        if index < len(names):
            options.target = names[index]
            return index
    raise TableError(
        f"target column {options.target!r} is not in the file; its columns are "
        f"{', '.join(names)}",
        field="target",
    )


def _check_names(names: list[str], options: ReadOptions) -> None:
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise TableError(f"column names repeat in the header: {', '.join(repeated)}")
    for where, listed in (
        ("ignore", options.ignore),
        ("column_types", options.column_types),
    ):
        unknown = [name for name in listed if name not in names]
        if unknown:
            raise TableError(
                f"{where} names columns the file does not have: "
                f"{', '.join(unknown)}; its columns are {', '.join(names)}",
                field=where,
            )


def _check_decimal_commas(columns: list[ColumnProfile], options: ReadOptions) -> None:
    # "1,5" in a ';'-separated file is a number whose decimal mark is a comma;
    # reading it as text would quietly make a number column categorical.
    if options.decimal != ".":
        return
    for column in columns:
        observed = column.rows > column.missing
        if observed and column.decimal_commas and column.first_text is not None:
            raise TableError(
                f"column {column.name!r}: values such as {column.first_text[1]!r} "
                f"look like decimal commas in a {options.delimiter!r}-separated "
                "file; set decimal to ','",
                field="decimal",
            )


def _feature_summaries(
    columns: list[ColumnProfile], target_index: int, options: ReadOptions
) -> list[dict[str, Any]]:
    summaries = []
    for index, column in enumerate(columns):
        if index == target_index or column.name in options.ignore:
            continue
        declared = options.column_types.get(column.name)
        kind = column.kind(declared)
        if kind == "numeric" and not column.numeric:
            row, value = column.first_text or (0, "")
            raise TableError(
                f"data row {row}, column {column.name!r}: {value!r} is not a number"
            )
        observed = column.rows - column.missing
        if declared is None and kind == "categorical" and column.numbers * 2 > observed:
            row, value = column.first_text or (0, "")
            raise TableError(
                f"column {column.name!r} holds numbers, but data row {row} holds "
                f"{value!r}, which is not a finite number; fix that cell, leave it "
                "empty to mark it missing, or declare the column categorical with "
                "column_types"
            )
        if kind == "categorical" and len(column.counts) > MAX_CATEGORIES:
            raise TableError(
                f"column {column.name!r} has over {MAX_CATEGORIES} distinct values; "
                "an id or free text cannot be one-hot encoded: list it in ignore",
                field="ignore",
            )
        summaries.append(column.summary(kind))
    if not summaries:
        raise TableError("the file has no feature columns besides the target")
    return summaries


def describe_target(
    column: ColumnProfile, options: ReadOptions
) -> tuple[str, list[Any] | None, dict[str, int] | None]:
    """The task, the sorted classes and their counts, by the target's values."""
    numbers = [to_number(value, options.decimal) for value in column.counts]
    numeric = column.numeric
    integral = numeric and all(
        number is not None and number.is_integer() for number in numbers
    )
    task = options.task
    if task == "regression" and not numeric:
        raise TableError(
            f"target column {column.name!r} holds text labels; regression needs "
            "numbers",
            field="task",
        )
    if task is None:
        few = len(column.counts) <= MAX_INFERRED_CLASSES
        task = "classification" if not numeric or (integral and few) else "regression"
    if task == "regression":
        return task, None, None
    if len(column.counts) > MAX_CATEGORIES:
        raise TableError(
            f"target column {column.name!r} has over {MAX_CATEGORIES} classes",
            field="target",
        )
    labels = [
        _label(value, numeric, integral, options.decimal) for value in column.counts
    ]
    classes = sorted(labels)
    if len(classes) < 2:
        raise TableError(
            f"target column {column.name!r} has a single class ({classes[0]!r}); "
            "classification needs at least two",
            field="target",
        )
    counts = {
        str(_label(key, numeric, integral, options.decimal)): count
        for key, count in column.counts.items()
    }
    return task, classes, counts


def _label(value: str, numeric: bool, integral: bool, decimal: str) -> Any:
    if not numeric:
        return value
    number = to_number(value, decimal)
    assert number is not None
    return int(number) if integral else number
