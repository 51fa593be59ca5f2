"""Reading a stored file's rows again, into the arrays a worker trains on."""

from collections.abc import Iterable
from typing import Any

import numpy as np

from core.table import Column, Table
from persistence.tables.errors import TableError
from persistence.tables.options import ReadOptions, is_missing
from persistence.tables.profile import to_boolean, to_number


def build(
    names: list[str],
    rows: Iterable[tuple[int, int, list[Any]]],
    options: ReadOptions,
    features: list[dict[str, Any]],
    task: str,
) -> tuple[Table, np.ndarray]:
    """The feature table and the target (n_rows,) a worker trains on."""
    index = {name: i for i, name in enumerate(names)}
    target_index = index[options.target]
    cells_by_column: list[list[Any]] = [[] for _ in features]
    targets: list[Any] = []
    for _, _, cells in rows:
        targets.append(cells[target_index])
        for slot, feature in zip(cells_by_column, features, strict=True):
            slot.append(cells[index[feature["name"]]])
    columns = tuple(
        _column(feature, raw, options.decimal)
        for feature, raw in zip(features, cells_by_column, strict=True)
    )
    return Table(columns), _target_array(targets, task, options.decimal)


def _column(feature: dict[str, Any], raw: list[Any], decimal: str) -> Column:
    name, kind = feature["name"], feature["type"]
    missing = np.array([is_missing(cell) for cell in raw], dtype=bool)
    if kind == "categorical":
        text = [
            "" if gone else str(cell).strip()
            for cell, gone in zip(raw, missing, strict=True)
        ]
        return Column(name, kind, np.array(text, dtype=np.str_), missing)
    convert = to_boolean if kind == "boolean" else (lambda c: to_number(c, decimal))
    values = np.full(len(raw), np.nan)
    for row, (cell, gone) in enumerate(zip(raw, missing, strict=True)):
        if gone:
            continue
        value = convert(cell)
        if value is None:
            raise TableError(
                f"data row {row + 1}, column {name!r}: {cell!r} is not {kind}"
            )
        values[row] = value
    return Column(name, kind, values, missing)


def _target_array(targets: list[Any], task: str, decimal: str) -> np.ndarray:
    numbers = [to_number(value, decimal) for value in targets]
    if all(number is not None for number in numbers):
        array = np.asarray(numbers, dtype=np.float64)
        if task == "classification" and np.all(array == np.round(array)):
            return array.astype(np.int64)
        return array
    return np.asarray([str(value).strip() for value in targets], dtype=np.str_)
