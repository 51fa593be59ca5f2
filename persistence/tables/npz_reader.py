"""NPZ datasets: arrays ``x`` (rows, features) and ``y`` (rows,), never unpickled.

Before anything is decompressed, the zip directory's sizes and each array's
own header are checked against the size limit, so an archive of a few
megabytes that would inflate to gigabytes is refused with flat memory, and an
object array (unpickling it could run code) is refused outright.
"""

import zipfile
from typing import IO

import numpy as np

from persistence.tables.errors import TableError

MEMBERS = {"x.npy", "y.npy", "feature_names.npy"}


def check(binary: IO[bytes], max_bytes: int) -> None:
    """Refuse an archive by its directory and headers alone."""
    try:
        archive = zipfile.ZipFile(binary)
    except zipfile.BadZipFile:
        raise TableError("the file is not an NPZ (zip) archive") from None
    with archive:
        names = {info.filename for info in archive.infolist()}
        missing = {"x.npy", "y.npy"} - names
        if missing:
            raise TableError(
                f"the archive lacks {', '.join(sorted(missing))}; it holds "
                f"{', '.join(sorted(names)) or 'nothing'}"
            )
        extra = names - MEMBERS
        if extra:
            raise TableError(
                f"the archive holds {', '.join(sorted(extra))}; only x, y and "
                "feature_names are read"
            )
        total = 0
        for info in archive.infolist():
            declared = max(info.file_size, _header_bytes(archive, info))
            total += declared
            if declared > max_bytes or total > max_bytes:
                raise TableError(
                    f"member {info.filename!r} declares {declared} bytes "
                    f"uncompressed; the limit is {max_bytes} "
                    "(DESCENT_MAX_DATASET_BYTES)",
                    status=413,
                )
    binary.seek(0)


def _header_bytes(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    with archive.open(info) as member:
        try:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(member)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(member)
        except ValueError as error:
            raise TableError(
                f"member {info.filename!r} is not a NumPy array: {error}"
            ) from None
    if dtype.hasobject:
        raise TableError(
            f"member {info.filename!r} is an object array; object arrays are not "
            "accepted (reading them would unpickle); store strings as a "
            "fixed-width unicode array"
        )
    return int(np.prod(shape, dtype=np.float64) * dtype.itemsize)


def load(binary: IO[bytes]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``x`` (n_rows, n_features), ``y`` (n_rows,) and the feature names."""
    try:
        with np.load(binary, allow_pickle=False) as archive:
            x, y = archive["x"], archive["y"]
            names = archive["feature_names"] if "feature_names" in archive else None
    except (ValueError, OSError, EOFError) as error:
        # A header that promises more data than the member holds, and the like.
        raise TableError(f"the archive cannot be read: {error}") from None
    if x.ndim != 2 or x.dtype.kind not in "fiub":
        raise TableError(f"x must be a 2-D numeric array, got {x.dtype} {x.shape}")
    if y.ndim != 1 or len(y) != len(x):
        raise TableError(f"y must have shape ({len(x)},) to match x, got {y.shape}")
    if y.dtype.kind not in "fiubU":
        raise TableError(f"y must hold numbers or strings, got {y.dtype}")
    if names is None:
        feature_names = [f"x{i}" for i in range(x.shape[1])]
    else:
        feature_names = [str(name) for name in names]
        if len(feature_names) != x.shape[1]:
            raise TableError(
                f"feature_names has {len(feature_names)} names for {x.shape[1]} columns"
            )
        repeated = sorted({n for n in feature_names if feature_names.count(n) > 1})
        if repeated:
            raise TableError(f"feature_names repeat: {', '.join(repeated)}")
    if np.isinf(x).any():
        row, column = np.argwhere(np.isinf(x))[0]
        raise TableError(
            f"x holds an infinite value at row {row + 1}, column {column}; "
            "NaN marks a missing value, infinity is not accepted"
        )
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        row = int(np.flatnonzero(~np.isfinite(y))[0])
        raise TableError(
            f"y holds {y[row]} at row {row + 1}; a target cannot be missing",
            field="target",
        )
    return x.astype(np.float64, copy=False), y, feature_names
