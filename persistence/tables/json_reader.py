"""JSON datasets: an array of records, or an object of equally long columns."""

import json
from collections.abc import Iterator
from typing import IO, Any

from persistence.tables.errors import TableError

Row = tuple[int, int, list[Any]]


def read_rows(binary: IO[bytes]) -> tuple[list[str], Iterator[Row]]:
    """The column names and the rows (record numbers from 1) of a JSON file."""
    try:
        document = json.load(binary)
    except UnicodeDecodeError:
        raise TableError("the file is not UTF-8 text") from None
    except RecursionError:
        raise TableError("the JSON nests too deeply to be a table") from None
    except json.JSONDecodeError as error:
        raise TableError(
            f"the JSON is malformed at line {error.lineno}, column {error.colno}: "
            f"{error.msg}"
        ) from None
    if isinstance(document, list):
        return _records(document)
    if isinstance(document, dict):
        return _columns(document)
    raise TableError(
        "the JSON must be an array of records or an object of columns, "
        f"not {type(document).__name__}"
    )


def _scalar(value: Any, where: str) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TableError(f"{where}: {type(value).__name__} values are not accepted")


def _records(records: list[Any]) -> tuple[list[str], Iterator[Row]]:
    if not records:
        raise TableError("the JSON array is empty")
    names: list[str] = []
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise TableError(f"record {number} is not an object")
        names.extend(key for key in record if key not in names)

    def rows() -> Iterator[Row]:
        for number, record in enumerate(records, start=1):
            yield (
                number,
                number,
                [
                    _scalar(record.get(name), f"record {number}, key {name!r}")
                    for name in names
                ],
            )

    return names, rows()


def _columns(columns: dict[str, Any]) -> tuple[list[str], Iterator[Row]]:
    names = list(columns)
    lengths = {}
    for name, values in columns.items():
        if not isinstance(values, list):
            raise TableError(f"column {name!r} is not an array")
        lengths[name] = len(values)
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name}: {n}" for name, n in lengths.items())
        raise TableError(f"the columns differ in length ({listed})")

    def rows() -> Iterator[Row]:
        for index in range(next(iter(lengths.values()), 0)):
            yield (
                index + 1,
                index + 1,
                [
                    _scalar(columns[name][index], f"column {name!r}, item {index}")
                    for name in names
                ],
            )

    return names, rows()
