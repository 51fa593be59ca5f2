"""The array-module seam: NumPy by default, CuPy when asked for and importable.

Layers, losses and optimizers take the module they compute with (``xp``) from
here and never import CuPy themselves. Arrays cross back to NumPy only at the
core's boundary (serialisation, metrics, predictions) through ``to_numpy``.
"""

from types import ModuleType
from typing import Any

import numpy as np

Array = Any  # an ndarray of the active array module, numpy.ndarray or cupy.ndarray

BACKENDS = ("numpy", "cupy")


def get_xp(backend: str | Array = "numpy") -> ModuleType:
    """Return the array module for a backend name or for an existing array.

    Parameters
    ----------
    backend : {"numpy", "cupy"} or array
        A backend name, or an array whose module is wanted.

    Returns
    -------
    module
        ``numpy`` or ``cupy``.
    """
    if not isinstance(backend, str):
        return _module_of(backend)
    if backend == "numpy":
        return np
    if backend == "cupy":
        try:
            import cupy
        except ImportError as exc:
            raise ValueError(
                "backend 'cupy' needs the cupy package and a CUDA device; "
                "install descent[gpu] or use backend 'numpy'"
            ) from exc
        return cupy
    raise ValueError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")


def to_numpy(array: Array) -> np.ndarray:
    """Return ``array`` as a NumPy array, copying from the device if needed."""
    if isinstance(array, np.ndarray):
        return array
    get = getattr(array, "get", None)
    if get is not None:
        return get()
    return np.asarray(array)


def _module_of(array: Array) -> ModuleType:
    if isinstance(array, np.ndarray):
        return np
    module = type(array).__module__.split(".")[0]
    if module == "cupy":
        import cupy

        return cupy
    return np
