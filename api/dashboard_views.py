"""What the dashboard's templates show, worked out from the rows they read."""

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates

# The metric a job is judged by, best first: validation over training,
# accuracy or R² over loss.
HEADLINE_METRICS = ("val_accuracy", "val_r2", "accuracy", "r2", "val_loss", "loss")
# The second curve of a job page: classification and regression each have one.
QUALITY_CURVES = {
    "classification": ("Accuracy", "accuracy", "val_accuracy"),
    "regression": ("RMSE (target units)", "rmse", "val_rmse"),
}


def number(value: Any) -> str:
    """A metric for a person: four significant digits, or a dash for none."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "—" if value is None else str(value)
    if not math.isfinite(value):
        return "—"
    return f"{value:.4g}"


templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters["number"] = number


def headline(metrics: dict[str, Any] | None) -> tuple[str, Any] | None:
    """The first of HEADLINE_METRICS that the job has a value for."""
    for name in HEADLINE_METRICS:
        if metrics and metrics.get(name) is not None:
            return name, metrics[name]
    return None


@dataclass(frozen=True)
class HeatCell:
    count: int
    # The cell's share of its row (the true class): what the colour shows.
    share: float

    @property
    def style(self) -> str:
        # Light cells keep dark text and dark cells light text, both over 4.5:1.
        text = "#fff" if self.share > 0.5 else "#111"
        return f"background-color: rgba(0, 90, 181, {self.share:.3f}); color: {text}"


def heat_map(matrix: list[list[int]] | None) -> list[list[HeatCell]] | None:
    """Rows of cells, each shaded by the fraction of its true class."""
    if not matrix:
        return None
    rows = []
    for counts in matrix:
        total = sum(counts) or 1
        rows.append([HeatCell(count, count / total) for count in counts])
    return rows


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=False)
