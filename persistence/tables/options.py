"""How to read one uploaded file: what the client declared and what was found."""

from dataclasses import asdict, dataclass, field
from typing import Any

# Cells read as missing, compared after stripping spaces.
MISSING_TOKENS = frozenset({"", "na", "n/a", "null", "none", "nan", "?"})
DELIMITERS = (",", ";", "\t", "|")


@dataclass
class ReadOptions:
    """The reading options of a dataset, stored with it so workers read alike."""

    format: str = "csv"  # csv | json | npz
    target: str = ""
    delimiter: str | None = None  # None: detect among DELIMITERS
    header: bool | None = None  # None: detect
    decimal: str = "."
    ignore: list[str] = field(default_factory=list)
    column_types: dict[str, str] = field(default_factory=dict)
    task: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ReadOptions":
        return cls(**data)


def is_missing(cell: object) -> bool:
    if cell is None:
        return True
    if isinstance(cell, float):
        return cell != cell  # NaN
    return isinstance(cell, str) and cell.strip().lower() in MISSING_TOKENS
