"""The files the ``descent`` command reads and writes: specs and CSV tables.

Problems are raised as ``DescentError`` naming the file, line and column, so
the command can show them as one line.
"""

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from client.errors import DescentError

SPEC_SUFFIXES = (".yaml", ".yml", ".json")


def load_spec(path: Path) -> dict[str, Any]:
    """A training spec from a YAML or JSON file: network, loss, optimizer, ..."""
    suffix = path.suffix.lower()
    if suffix not in SPEC_SUFFIXES:
        raise DescentError(
            f"{path}: a spec file ends in .yaml, .yml or .json, not {suffix!r}"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DescentError(f"{path} is not UTF-8 text") from None
    try:
        spec = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        where = _where(error)
        raise DescentError(f"{path}{where}: not valid {suffix[1:].upper()}") from None
    if not isinstance(spec, dict):
        raise DescentError(
            f"{path}: the spec must be a mapping with network, loss, optimizer "
            f"and training, not {type(spec).__name__}"
        )
    return spec


def _where(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f", line {error.lineno} column {error.colno}"
    mark = getattr(error, "problem_mark", None)
    return f", line {mark.line + 1} column {mark.column + 1}" if mark else ""


@dataclass
class Table:
    """A CSV file's header and rows, as text, with each row's line number."""

    header: list[str]
    rows: list[list[str]]
    lines: list[int]


def read_table(path: Path) -> Table:
    # utf-8-sig drops a byte-order mark, so the first column keeps its name.
    with path.open(encoding="utf-8-sig", newline="") as file:
        reader = csv.reader(file)
        try:
            header = [cell.strip() for cell in next(reader, [])]
            if not any(header):
                raise DescentError(f"{path} is empty: it needs a header row")
            table = Table(header=header, rows=[], lines=[])
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    raise DescentError(
                        f"{path}, line {reader.line_num}: {len(row)} fields; the "
                        f"header has {len(header)}"
                    )
                table.rows.append(row)
                table.lines.append(reader.line_num)
        except UnicodeDecodeError:
            raise DescentError(f"{path} is not UTF-8 text") from None
        except csv.Error as error:
            raise DescentError(
                f"{path}, line {reader.line_num}: malformed CSV ({error})"
            ) from None
    if not table.rows:
        raise DescentError(f"{path} has a header but no rows to predict")
    return table


def feature_rows(
    table: Table, features: Sequence[str], path: Path
) -> list[list[float]]:
    """The table's values for ``features``, in that order, as numbers."""
    missing = [name for name in features if name not in table.header]
    if missing:
        raise DescentError(
            f"{path} lacks the model's feature columns {_quoted(missing)} "
            f"(its columns: {_quoted(table.header)})"
        )
    indexes = [table.header.index(name) for name in features]
    rows = []
    for line, row in zip(table.lines, table.rows, strict=True):
        values = []
        for name, index in zip(features, indexes, strict=True):
            cell = row[index].strip()
            try:
                value = float(cell)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                raise DescentError(
                    f"{path}, line {line}, column {name!r}: {cell!r} is not a "
                    "finite number"
                )
            values.append(value)
        rows.append(values)
    return rows


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(repr(name) for name in names)


def predictions_csv(
    table: Table,
    predictions: Sequence[Any],
    probabilities: Sequence[Sequence[float]] | None,
    classes: Sequence[Any] | None,
) -> str:
    """The input rows plus ``prediction`` and one ``probability_<class>`` each."""
    extra = ["prediction"]
    if probabilities is not None and classes is not None:
        extra += [f"probability_{label}" for label in classes]
    clashes = [name for name in extra if name in table.header]
    if clashes:
        raise DescentError(
            f"the input already has a column named {clashes[0]!r}; rename it so "
            "the output's columns stay distinct"
        )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.header + extra)
    for index, row in enumerate(table.rows):
        cells = [*row, predictions[index]]
        if len(extra) > 1 and probabilities is not None:
            cells += [f"{value:.6g}" for value in probabilities[index]]
        writer.writerow(cells)
    return buffer.getvalue()
