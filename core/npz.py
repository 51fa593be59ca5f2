"""Reading and writing npz archives without pickle, for models and checkpoints.

Arrays are written with ``allow_pickle=False`` (an object array is refused
before anything is written) and read with ``np.load(..., allow_pickle=False)``,
so no blob can run code when loaded. JSON metadata travels as 0-d unicode
arrays, which need no pickle either.
"""

import io
import json
import zipfile
import zlib
from typing import Any

import numpy as np

_READ_ERRORS = (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile, zlib.error)


def write_npz(arrays: dict[str, np.ndarray], documents: dict[str, Any]) -> bytes:
    """Archive ``arrays`` and JSON ``documents`` (as 0-d unicode arrays)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        members = {**arrays}
        for name, document in documents.items():
            members[name] = np.array(json.dumps(document))
        for name, array in members.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def read_npz(blob: bytes, documents: tuple[str, ...]) -> tuple[dict, dict]:
    """Return the arrays and the parsed JSON ``documents`` of an archive.

    Raises
    ------
    ValueError
        For bytes that are not an npz archive, an object array, or a missing
        or unreadable document.
    """
    if not isinstance(blob, bytes | bytearray | memoryview):
        raise ValueError(f"expected bytes, got {type(blob).__name__}")
    try:
        archive = np.load(io.BytesIO(blob), allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single array, not an archive")
        with archive:
            arrays = {name: archive[name] for name in archive.files}
    except _READ_ERRORS as exc:
        raise ValueError(f"not a readable npz archive: {exc}") from exc
    parsed = {}
    for name in documents:
        array = arrays.pop(name, None)
        if array is None or array.ndim != 0 or array.dtype.kind != "U":
            raise ValueError(f"the archive has no {name!r} document")
        try:
            parsed[name] = json.loads(str(array))
        except json.JSONDecodeError as exc:
            raise ValueError(f"the {name!r} document is not JSON: {exc}") from exc
    return arrays, parsed
