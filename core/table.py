"""Tables of mixed columns, as people's files hold them.

A ``Table`` is a list of named ``Column``s of one length. A numeric or
boolean column holds float64 values (booleans as 0.0 and 1.0) with NaN where a
value is missing; a categorical column holds strings, with ``missing`` marking
the empty cells. Only arrays of numbers and fixed-width strings appear here,
so a table can be stored in an npz archive and read without pickle.
"""

from dataclasses import dataclass

import numpy as np

KINDS = ("numeric", "categorical", "boolean")


@dataclass(frozen=True)
class Column:
    """One column: its name, kind, values (n_rows,) and missing mask (n_rows,)."""

    name: str
    kind: str
    values: np.ndarray
    missing: np.ndarray

    def take(self, rows: np.ndarray) -> "Column":
        return Column(self.name, self.kind, self.values[rows], self.missing[rows])


@dataclass(frozen=True)
class Table:
    """Named columns of equal length; features only, the target kept apart."""

    columns: tuple[Column, ...]

    def __post_init__(self) -> None:
        lengths = {len(column.values) for column in self.columns}
        if len(lengths) > 1:
            raise ValueError(f"columns differ in length: {sorted(lengths)}")
        for column in self.columns:
            if column.kind not in KINDS:
                raise ValueError(
                    f"column {column.name!r} has kind {column.kind!r}; "
                    f"use one of: {', '.join(KINDS)}"
                )

    @property
    def n_rows(self) -> int:
        return len(self.columns[0].values) if self.columns else 0

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]

    def take(self, rows: np.ndarray) -> "Table":
        return Table(tuple(column.take(rows) for column in self.columns))

    def first_missing(self) -> tuple[int, str] | None:
        """The first (row, column name) holding a missing value, in row order."""
        best: tuple[int, str] | None = None
        for column in self.columns:
            rows = np.flatnonzero(column.missing)
            if len(rows) and (best is None or rows[0] < best[0]):
                best = (int(rows[0]), column.name)
        return best

    @classmethod
    def from_matrix(cls, x: np.ndarray, names: list[str] | None = None) -> "Table":
        """Numeric columns from a 2-D array (n_rows, n_features)."""
        x = np.asarray(x, dtype=np.float64)
        names = names or [f"x{i}" for i in range(x.shape[1])]
        return cls(
            tuple(
                Column(name, "numeric", x[:, i], np.isnan(x[:, i]))
                for i, name in enumerate(names)
            )
        )

    @classmethod
    def from_records(
        cls, records: list[dict], kinds: dict[str, str], order: list[str]
    ) -> "Table":
        """Columns in ``order`` from records keyed by name; None is missing.

        Raises
        ------
        ValueError
            For a value that does not fit its column's kind, naming both.
        """
        columns = []
        for name in order:
            raw = [record.get(name) for record in records]
            columns.append(_column(name, kinds[name], raw))
        return cls(tuple(columns))


_TRUE = {"true", "yes", "y", "t", "1"}
_FALSE = {"false", "no", "n", "f", "0"}


def _column(name: str, kind: str, raw: list) -> Column:
    missing = np.array([value is None for value in raw], dtype=bool)
    if kind == "categorical":
        text = ["" if value is None else str(value) for value in raw]
        return Column(name, kind, np.array(text, dtype=np.str_), missing)
    values = np.full(len(raw), np.nan)
    for row, value in enumerate(raw):
        if value is None:
            continue
        values[row] = _number(name, kind, value, row)
    return Column(name, kind, values, missing)


def _number(name: str, kind: str, value: object, row: int) -> float:
    if kind == "boolean":
        if isinstance(value, bool):
            return float(value)
        text = str(value).strip().lower()
        if text in _TRUE or text in _FALSE:
            return float(text in _TRUE)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if np.isfinite(value):
            return float(value)
    raise ValueError(f"row {row}, column {name!r}: {value!r} is not a {kind} value")
