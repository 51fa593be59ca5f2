"""Taking an uploaded file in: read options, check and profile it, store it.

The file arrives spooled to disk by the multipart parser (a request-body cap
bounds it), is checked and profiled in one streaming pass, and is copied into
the database in chunks only once it is known to be good, all in the request's
transaction: a rejected upload leaves nothing behind.
"""

import hashlib
import io
import json
import uuid
from typing import IO

import numpy as np
from sqlalchemy.orm import Session

from api.errors import InvalidInputError, PayloadTooLargeError
from api.job_spec import InlineData
from persistence.models import Dataset
from persistence.settings import Settings
from persistence.tables.errors import TableError
from persistence.tables.options import DELIMITERS, ReadOptions
from persistence.tables.reading import FORMATS, guess_format, profile_file
from persistence.tables.storage import store

DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";"}


def _names(raw: str | None, field: str) -> list[str]:
    if not raw:
        return []
    if raw.lstrip().startswith("["):
        try:
            names = json.loads(raw)
        except json.JSONDecodeError as error:
            raise InvalidInputError(
                f"{field} is not valid JSON: {error}", field
            ) from None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise InvalidInputError(f"{field} must be a list of column names", field)
        return names
    return [name.strip() for name in raw.split(",") if name.strip()]


def _types(raw: str | None) -> dict[str, str]:
    if not raw:
        return {}
    try:
        types = json.loads(raw)
    except json.JSONDecodeError as error:
        raise InvalidInputError(
            f"column_types is not valid JSON: {error}", "column_types"
        ) from None
    allowed = ("numeric", "categorical", "boolean")
    if not isinstance(types, dict) or not all(v in allowed for v in types.values()):
        raise InvalidInputError(
            'column_types must map column names to "numeric", "categorical" or '
            '"boolean", e.g. {"zip": "categorical"}',
            "column_types",
        )
    return types


def read_options(
    filename: str | None,
    target: str,
    format: str | None = None,
    delimiter: str | None = None,
    header: bool | None = None,
    decimal: str = ".",
    ignore: str | None = None,
    column_types: str | None = None,
    task: str | None = None,
) -> ReadOptions:
    """The reading options from the form fields, each checked by name."""
    fmt = guess_format(filename, format)
    if fmt not in FORMATS:
        raise InvalidInputError(f"format must be one of {', '.join(FORMATS)}", "format")
    if delimiter is not None:
        delimiter = DELIMITER_NAMES.get(delimiter.lower(), delimiter)
        if delimiter not in DELIMITERS:
            raise InvalidInputError(
                "delimiter must be one of , ; | or tab", field="delimiter"
            )
    if decimal not in (".", ","):
        raise InvalidInputError('decimal must be "." or ","', field="decimal")
    if decimal == "," and delimiter == ",":
        raise InvalidInputError(
            'decimal "," needs another delimiter than ","', field="decimal"
        )
    return ReadOptions(
        format=fmt,
        target=target.strip(),
        delimiter=delimiter,
        header=header,
        decimal=decimal,
        ignore=_names(ignore, "ignore"),
        column_types=_types(column_types),
        task=task,
    )


def file_sha256(binary: IO[bytes]) -> str:
    """The upload's SHA-256, read in 1 MiB pieces; the file is rewound."""
    binary.seek(0)
    digest = hashlib.sha256()
    while piece := binary.read(1024 * 1024):
        digest.update(piece)
    binary.seek(0)
    return digest.hexdigest()


def _size(binary: IO[bytes]) -> int:
    binary.seek(0, 2)
    size = binary.tell()
    binary.seek(0)
    return size


def ingest(
    session: Session, settings: Settings, binary: IO[bytes], name: str,
    options: ReadOptions, tenant: uuid.UUID,
) -> Dataset:  # fmt: skip
    """Check, profile and store one file; raise a 4xx problem for bad input."""
    size = _size(binary)
    limit = settings.max_upload_bytes
    if options.format == "json":
        # A JSON document is parsed whole, so it gets a tighter bound.
        limit = min(limit, settings.max_json_upload_bytes)
    if size > limit:
        raise PayloadTooLargeError(
            f"the file is {size} bytes; the limit for {options.format} is {limit}",
            field="file",
        )
    try:
        profile = profile_file(
            binary,
            options,
            settings.max_dataset_rows,
            settings.max_dataset_columns,
            settings.max_dataset_bytes,
        )
    except TableError as error:
        problem = PayloadTooLargeError if error.status == 413 else InvalidInputError
        raise problem(error.message, field=error.field) from None
    row = Dataset(
        id=uuid.uuid4(),
        tenant_id=tenant,
        name=name,
        format=options.format,
        options=options.to_dict(),
        target=profile.target,
        task=profile.task,
        n_rows=profile.n_rows,
        n_features=len(profile.features),
        features=[column["name"] for column in profile.features],
        classes=profile.classes,
        profile={
            "features": profile.features,
            "class_counts": profile.class_counts,
            "preview": profile.preview,
        },
        sha256=hashlib.sha256().hexdigest(),
        size_bytes=size,
    )
    session.add(row)
    session.flush()
    row.size_bytes, row.sha256 = store(session, row.id, binary)
    return row


def ingest_inline(
    session: Session,
    settings: Settings,
    data: InlineData,
    field: str,
    tenant: uuid.UUID,
) -> Dataset:
    """Store a job's inline ``x`` and ``y`` as a small NPZ dataset."""
    cells = sum(len(row) for row in data.x)
    if cells > settings.max_inline_cells:
        raise PayloadTooLargeError(
            f"inline x has {cells} values; the limit is {settings.max_inline_cells} "
            "(DESCENT_MAX_INLINE_CELLS): upload larger data as a dataset",
            field=f"{field}.x",
        )
    widths = {len(row) for row in data.x}
    if len(widths) != 1:
        raise InvalidInputError(
            f"inline x rows differ in length: {sorted(widths)}", f"{field}.x"
        )
    if len(data.y) != len(data.x):
        raise InvalidInputError(
            f"inline y has {len(data.y)} values for {len(data.x)} rows of x",
            f"{field}.y",
        )
    labels = [str(v) if isinstance(v, bool) else v for v in data.y]
    arrays = {"x": np.asarray(data.x, dtype=np.float64), "y": np.asarray(labels)}
    if data.feature_names is not None:
        arrays["feature_names"] = np.asarray(data.feature_names, dtype=np.str_)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    options = ReadOptions(format="npz", target="y", task=data.task)
    try:
        return ingest(session, settings, buffer, "inline", options, tenant)
    except InvalidInputError as error:
        error.field = f"{field}.{error.field}" if error.field else field
        raise
