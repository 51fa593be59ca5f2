"""From a table of mixed columns to the float matrix a network trains on.

``TableEncoder`` learns, from the training rows only, what each column needs:
the value that fills a missing cell (mean, median or most frequent, as the
missing-value policy says), the centre and scale of numeric columns (standard
or min-max), and the categories of categorical columns, which become one-hot
columns in sorted order. Prediction applies exactly the same steps. Booleans
become 0 and 1 and are not scaled. Everything learned is plain JSON.
"""

from dataclasses import dataclass

import numpy as np

from core.errors import DataError
from core.table import Column, Table

SCALINGS = ("standard", "minmax", "none")
MISSING_POLICIES = ("reject", "drop", "mean", "median", "most_frequent")
UNSEEN_POLICIES = ("error", "zeros")


@dataclass
class ColumnPlan:
    """What the encoder does to one column."""

    name: str
    kind: str
    fill: float | str | None = None  # the value imputed for a missing cell
    center: float = 0.0
    scale: float = 1.0
    categories: list[str] | None = None

    @property
    def width(self) -> int:
        return len(self.categories) if self.categories is not None else 1


class TableEncoder:
    """Imputation, scaling and one-hot encoding learned from training rows."""

    def __init__(
        self,
        plans: list[ColumnPlan],
        missing: str = "reject",
        unseen: str = "error",
    ) -> None:
        self.plans = plans
        self.missing = missing
        self.unseen = unseen
        self._index = {plan.name: i for i, plan in enumerate(plans)}

    @classmethod
    def fit(
        cls,
        table: Table,
        scaling: str = "standard",
        missing: str = "reject",
        unseen: str = "error",
    ) -> "TableEncoder":
        """Learn from ``table``, the training rows."""
        plans = [_plan(column, scaling, missing) for column in table.columns]
        return cls(plans, missing, unseen)

    @property
    def n_outputs(self) -> int:
        return sum(plan.width for plan in self.plans)

    @property
    def output_names(self) -> list[str]:
        names: list[str] = []
        for plan in self.plans:
            if plan.categories is None:
                names.append(plan.name)
            else:
                names.extend(f"{plan.name}={value}" for value in plan.categories)
        return names

    def transform(
        self, table: Table, dtype=np.float64, unseen: str | None = None
    ) -> np.ndarray:
        """The encoded matrix (n_rows, n_outputs) for ``table``'s rows.

        ``unseen`` overrides the policy for this call; training encodes its
        held-out rows with "zeros", since a category that only they hold is
        unseen by construction and must not fail the run.

        Raises
        ------
        DataError
            For a missing cell under the reject or drop policy, or a category
            not seen in training under the error policy.
        """
        if table.names != [plan.name for plan in self.plans]:
            raise DataError(
                "",
                f"the table's columns {table.names} are not the trained columns "
                f"{[plan.name for plan in self.plans]}",
            )
        out = np.zeros((table.n_rows, self.n_outputs), dtype=dtype)
        start = 0
        for plan, column in zip(self.plans, table.columns, strict=True):
            width = out[:, start : start + plan.width]
            self._encode(plan, column, width, unseen or self.unseen)
            start += plan.width
        return out

    def _encode(
        self, plan: ColumnPlan, column: Column, out: np.ndarray, unseen: str
    ) -> None:
        missing = column.missing
        if missing.any() and plan.fill is None:
            row = int(np.flatnonzero(missing)[0])
            raise DataError(
                plan.name,
                f"row {row}, column {plan.name!r}: the value is missing, and the "
                f"missing-value policy is {self.missing!r}; choose mean, median "
                "or most_frequent to impute it",
                row,
            )
        if plan.categories is None:
            values = np.where(missing, plan.fill or 0.0, column.values)
            out[:, 0] = (values - plan.center) / plan.scale
            return
        values = np.where(missing, plan.fill or "", column.values)
        categories = np.asarray(plan.categories, dtype=np.str_)
        codes = np.searchsorted(categories, values)
        codes = np.minimum(codes, len(categories) - 1)
        known = categories[codes] == values
        if not known.all():
            row = int(np.flatnonzero(~known)[0])
            if unseen == "error":
                raise DataError(
                    plan.name,
                    f"row {row}, column {plan.name!r}: {str(values[row])!r} was not "
                    f"seen in training (known: {', '.join(plan.categories[:20])}); "
                    'set preprocessing.unseen to "zeros" to encode it as all zeros',
                    row,
                )
        rows = np.flatnonzero(known)
        out[rows, codes[rows]] = 1.0

    def to_dict(self) -> dict:
        return {
            "missing": self.missing,
            "unseen": self.unseen,
            "columns": [vars(plan).copy() for plan in self.plans],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "TableEncoder":
        plans = [ColumnPlan(**plan) for plan in data["columns"]]
        return cls(plans, data["missing"], data["unseen"])


def _plan(column: Column, scaling: str, missing: str) -> ColumnPlan:
    observed = ~column.missing
    if not observed.any():
        raise DataError(
            column.name,
            f"column {column.name!r} has no values in the training rows; "
            "ignore it or fill it in",
        )
    plan = ColumnPlan(column.name, column.kind)
    if column.kind == "categorical":
        values = column.values[observed]
        categories, counts = np.unique(values, return_counts=True)
        plan.categories = [str(value) for value in categories]
        if missing not in ("reject", "drop"):
            plan.fill = str(categories[int(np.argmax(counts))])
        return plan
    values = column.values[observed]
    if missing in ("mean", "median", "most_frequent"):
        plan.fill = float(_impute(values, missing))
    if column.kind == "boolean" or scaling == "none":
        return plan
    if scaling == "minmax":
        low, high = float(values.min()), float(values.max())
        plan.center, plan.scale = low, (high - low) or 1.0
    else:
        plan.center = float(values.mean())
        plan.scale = float(values.std()) or 1.0
    return plan


def _impute(values: np.ndarray, policy: str) -> float:
    if policy == "mean":
        return float(values.mean())
    if policy == "median":
        return float(np.median(values))
    uniques, counts = np.unique(values, return_counts=True)
    return float(uniques[int(np.argmax(counts))])
