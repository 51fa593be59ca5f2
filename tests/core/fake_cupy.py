"""A stand-in for CuPy that computes with NumPy but keeps host and device apart.

``fit(..., device="gpu")`` can then run on a machine without a GPU, with the
rules that matter to our code enforced as CuPy enforces them: a device array
never mixes with a host (NumPy) array in an operation or as an index, data
crosses only through ``asarray`` (to the device) and ``.get()`` (back), and
``cupy.*`` functions refuse host arrays. The arithmetic is NumPy's, so a run
on this device must equal a CPU run to the bit; only the bookkeeping differs.

Install it with ``monkeypatch.setitem(sys.modules, "cupy", fake_cupy.module())``.
"""

import types

import numpy as np


class HostArrayError(TypeError):
    """A host array reached a device operation (CuPy raises TypeError)."""


class DeviceArray(np.ndarray):
    """An array "on the device": its type's module is ``cupy``."""

    __module__ = "cupy"

    def get(self) -> np.ndarray:
        return np.array(self.view(np.ndarray))

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        _refuse_host(inputs)
        if out is not None:
            _refuse_host(out)
            kwargs["out"] = tuple(_host(o) for o in out)
        result = getattr(ufunc, method)(*(_host(i) for i in inputs), **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _device(result)

    def __array_function__(self, func, types_, args, kwargs):
        _refuse_host(args)
        _refuse_host(tuple(kwargs.values()))
        result = func(*_host_all(args), **_host_kwargs(kwargs))
        return _device(result)

    def __getitem__(self, index):
        _refuse_host(index if isinstance(index, tuple) else (index,))
        return super().__getitem__(_host_index(index))

    def __setitem__(self, index, value):
        _refuse_host(index if isinstance(index, tuple) else (index,))
        _refuse_host((value,))
        super().__setitem__(_host_index(index), _host(value))


def module() -> types.ModuleType:
    """A fresh ``cupy`` module object backed by NumPy."""
    fake = types.ModuleType("cupy")
    fake.ndarray = DeviceArray
    fake.asarray = lambda a, dtype=None: _device(np.array(_host(a), dtype=dtype))
    fake.cuda = types.SimpleNamespace(
        runtime=types.SimpleNamespace(
            getDeviceCount=lambda: 1, CUDARuntimeError=RuntimeError
        )
    )

    def attribute(name):
        value = getattr(np, name)
        if not callable(value) or isinstance(value, type):
            return value

        def on_device(*args, **kwargs):
            _refuse_host(args)
            _refuse_host(tuple(kwargs.values()))
            result = value(*_host_all(args), **_host_kwargs(kwargs))
            if "out" in kwargs:
                return kwargs["out"]
            return _device(result)

        return on_device

    fake.__getattr__ = attribute
    return fake


def _refuse_host(values) -> None:
    for value in values:
        if type(value) is np.ndarray and value.ndim > 0:
            raise HostArrayError(
                "a NumPy array reached a device operation; move it with "
                "xp.asarray first"
            )
        if isinstance(value, tuple | list):
            _refuse_host(value)


def _host(value):
    return value.view(np.ndarray) if isinstance(value, DeviceArray) else value


def _host_all(values):
    return [_host(v) for v in values]


def _host_kwargs(kwargs):
    return {key: _host(value) for key, value in kwargs.items()}


def _host_index(index):
    if isinstance(index, tuple):
        return tuple(_host(i) for i in index)
    return _host(index)


def _device(result):
    if isinstance(result, np.ndarray) and not isinstance(result, DeviceArray):
        return result.view(DeviceArray)
    if isinstance(result, tuple):
        return tuple(_device(r) for r in result)
    return result
