"""The array-module seam: NumPy by default, CuPy when asked for and importable.

Layers, losses and optimizers take the module they compute with (``xp``) from
here, or from the arrays they are given, and never import CuPy themselves.
Arrays cross back to NumPy only at the core's boundary (serialisation,
metrics, predictions) through ``to_numpy``.

CuPy is imported lazily, inside ``get_xp("cupy")``, and only when a run asks
for the GPU: a process that merely imports the core (the worker's parent,
which forks its children) never initialises CUDA, which does not survive a
fork.
"""

from types import ModuleType
from typing import Any

import numpy as np

Array = Any  # an ndarray of the active array module, numpy.ndarray or cupy.ndarray

BACKENDS = ("numpy", "cupy")
DEVICES = {"cpu": "numpy", "gpu": "cupy"}


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

    Raises
    ------
    ValueError
        For an unknown name, or "cupy" where CuPy or a CUDA device is missing.
    """
    if type(backend) is np.ndarray:  # the hot path: once per layer and step
        return np
    if not isinstance(backend, str):
        return _module_of(backend)
    if backend == "numpy":
        return np
    if backend == "cupy":
        return _import_cupy()
    raise ValueError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")


def device_xp(device: str) -> ModuleType:
    """Return the array module that trains on ``device`` ("cpu" or "gpu")."""
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}; use one of {', '.join(DEVICES)}")
    return get_xp(DEVICES[device])


def to_numpy(array: Array) -> np.ndarray:
    """Return ``array`` as a NumPy array, copying from the device if needed."""
    if type(array) is np.ndarray:
        return array
    get = getattr(array, "get", None)
    if get is not None:
        return get()
    return np.asarray(array)


class Scratch:
    """Reusable arrays for a layer's or a loss's training steps.

    ``get`` hands out the same uninitialised array for the same purpose,
    shape and dtype on every call, so a run allocates nothing per step.
    """

    # An epoch sees two batch sizes (the full batch and the last, partial
    # one) for a layer's two buffers; past this many arrays, start afresh.
    LIMIT = 8

    def __init__(self, xp) -> None:
        self.xp = xp
        self.arrays: dict[tuple, Array] = {}

    def get(self, purpose: str, shape: tuple[int, ...], dtype) -> Array:
        """An array of ``shape`` and ``dtype`` reserved for ``purpose``."""
        key = (purpose, shape, dtype)
        array = self.arrays.get(key)
        if array is None:
            if len(self.arrays) >= self.LIMIT:
                self.arrays.clear()
            array = self.arrays[key] = self.xp.empty(shape, dtype=dtype)
        return array


def copy_into(target: Array, source: Array) -> None:
    """Write ``source`` into ``target`` in place, across devices if need be."""
    xp = get_xp(target)
    if xp is np:
        target[...] = to_numpy(source)
    else:
        target[...] = xp.asarray(source)


def _import_cupy() -> ModuleType:
    try:
        import cupy
    except ImportError as exc:
        raise ValueError(
            "device 'gpu' needs CuPy, which is not installed here; install it "
            "with `pip install .[gpu]` (the cupy-cuda12x package) or train on "
            "device 'cpu'"
        ) from exc
    try:
        devices = cupy.cuda.runtime.getDeviceCount()
    except cupy.cuda.runtime.CUDARuntimeError as exc:
        devices, reason = 0, f" ({exc})"
    else:
        reason = ""
    if devices < 1:
        raise ValueError(
            f"device 'gpu' needs a CUDA device, and CuPy finds none{reason}; "
            "check the driver with nvidia-smi or train on device 'cpu'"
        )
    return cupy


def _module_of(array: Array) -> ModuleType:
    if type(array).__module__.split(".")[0] == "cupy":
        import cupy

        return cupy
    return np
