"""CSV files as people export them, read with the standard library's csv module.

It handles a UTF-8 byte-order mark, quoted fields holding delimiters and line
breaks, blank lines, and the delimiters ``,`` ``;`` tab and ``|`` (detected
from the first 64 KiB with ``csv.Sniffer`` unless declared). The header row is
declared, or taken to be there when no cell of the first row is a number.
"""

import csv
import io
from collections.abc import Iterator
from typing import IO

from persistence.tables.errors import TableError
from persistence.tables.options import DELIMITERS, ReadOptions

SAMPLE_CHARS = 64 * 1024
# The csv module refuses fields longer than 128 KiB by default; a cell of a
# dataset has no business being longer than this either.
csv.field_size_limit(1024 * 1024)

Row = tuple[int, int, list[str]]  # (data row from 1, line number, cells)


def _text(binary: IO[bytes]) -> io.TextIOWrapper:
    return io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")


def _looks_numeric(cell: str, decimal: str) -> bool:
    text = cell.strip()
    if decimal == ",":
        text = text.replace(",", ".")
    try:
        float(text)
    except ValueError:
        return False
    return bool(text)


def detect(binary: IO[bytes], options: ReadOptions) -> ReadOptions:
    """Fill in the delimiter and header from the file's start, then rewind."""
    start = binary.tell()
    wrapper = _text(binary)
    try:
        sample = wrapper.read(SAMPLE_CHARS)
    except UnicodeDecodeError:
        raise TableError("the file is not UTF-8 text") from None
    finally:
        wrapper.detach()  # leave the caller's file open
        binary.seek(start)
    if not sample.strip():
        raise TableError("the file is empty: a header row is needed")
    if "\x00" in sample:
        raise TableError("the file is not text: it holds NUL bytes")
    delimiter = options.delimiter
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(sample, "".join(DELIMITERS)).delimiter
        except csv.Error:
            delimiter = ","
    header = options.header
    if header is None:
        try:
            first = next(csv.reader(io.StringIO(sample), delimiter=delimiter), [])
        except csv.Error as error:
            raise _error(error, 1) from None
        header = not any(_looks_numeric(cell, options.decimal) for cell in first)
    options.delimiter, options.header = delimiter, header
    return options


def read_rows(
    binary: IO[bytes], options: ReadOptions
) -> tuple[list[str], Iterator[Row]]:
    """The column names and an iterator over the data rows (blank ones skipped)."""
    text = _text(binary)
    reader = csv.reader(text, delimiter=options.delimiter or ",")
    try:
        first = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as error:
        text.detach()
        raise _error(error, reader.line_num) from None
    if first is None:
        text.detach()
        raise TableError("the file is empty: a header row is needed")
    if options.header:
        names = [name.strip() for name in first]
        pending: list[list[str]] = []
    else:
        names = [f"column_{i}" for i in range(len(first))]
        pending = [first]
    return names, _rows(text, reader, pending, len(names))


def _rows(
    text: io.TextIOWrapper, reader, pending: list[list[str]], width: int
) -> Iterator[Row]:  # type: ignore[no-untyped-def]
    number = 0
    try:
        for cells in [*pending, *reader] if pending else reader:
            if not cells or all(not cell.strip() for cell in cells):
                continue
            number += 1
            if len(cells) != width:
                raise TableError(
                    f"line {reader.line_num} has {len(cells)} fields; the header "
                    f"has {width}"
                )
            yield number, reader.line_num, cells
    except (UnicodeDecodeError, csv.Error) as error:
        raise _error(error, reader.line_num) from None
    finally:
        text.detach()


def _error(error: Exception, line: int) -> TableError:
    if isinstance(error, UnicodeDecodeError):
        return TableError("the file is not UTF-8 text")
    return TableError(f"line {line}: the CSV is malformed ({error})")
