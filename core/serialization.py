"""Saving and loading a ``Model`` as an npz archive, never with pickle.

Layout of the archive (every member a ``.npy`` array, read back with
``np.load(..., allow_pickle=False)``):

===========================  ===========================================
``layers.<i>.weight``        dense: (in_features, out_features), so that
                             ``y = x @ weight + bias``; batch norm: gamma
``layers.<i>.bias``          (out_features,); batch norm: beta
``layers.<i>.running_mean``  batch norm only, (features,)
``layers.<i>.running_var``   batch norm only, (features,)
``preprocessing.mean``       (n_features,) training-split feature means
``preprocessing.scale``      (n_features,) standard deviations (0 -> 1)
``target.mean``              regression only: (1,) float64 target mean
``target.scale``             regression only: (1,) float64 target std
``config``                   0-d unicode: the ``FitConfig`` as JSON
``meta``                     0-d unicode: JSON ``{"format": "descent.model",
                             "version": 1, "task", "n_features",
                             "classes", "table_encoder"}``; classes are the
                             sorted original labels (null for regression);
                             table_encoder is null, or for a model trained
                             on a table the per-column plan (fill value,
                             center, scale, categories) that turns raw
                             columns into the ``n_features`` inputs
===========================  ===========================================

``<i>`` is the index of the layer in ``config.network.layers``. Weights are
stored in the configured dtype. ``loads`` checks every name, shape and dtype
against the configuration and raises ``ValueError`` for anything else.
"""

import numpy as np

from core.backend import to_numpy
from core.config import FitConfig
from core.errors import ConfigError
from core.model import Model
from core.network import build_network
from core.npz import read_npz, write_npz
from core.preprocessing import Standardizer
from core.tabular import TableEncoder

FORMAT, VERSION = "descent.model", 1


def dumps(model: Model) -> bytes:
    """Serialise ``model`` to npz bytes (layout in the module docstring)."""
    arrays = {name: to_numpy(a) for name, a in model.network.state().items()}
    arrays["preprocessing.mean"] = to_numpy(model.standardizer.mean)
    arrays["preprocessing.scale"] = to_numpy(model.standardizer.scale)
    if model.target_mean is not None:
        arrays["target.mean"] = np.asarray(model.target_mean, dtype=np.float64)
        arrays["target.scale"] = np.asarray(model.target_scale, dtype=np.float64)
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "task": model.task,
        "n_features": model.n_features,
        "classes": model.classes,
        "table_encoder": (
            None if model.table_encoder is None else model.table_encoder.to_dict()
        ),
    }
    return write_npz(arrays, {"config": model.config.to_dict(), "meta": meta})


def loads(blob: bytes) -> Model:
    """Rebuild a ``Model`` from ``dumps`` output.

    Raises
    ------
    ValueError
        If the blob is not such an archive, holds object arrays, or its
        arrays do not match its configuration.
    """
    arrays, documents = read_npz(blob, ("config", "meta"))
    meta = documents["meta"]
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} archive")
    if meta.get("version") != VERSION:
        raise ValueError(f"unsupported model version {meta.get('version')!r}")
    n_features, classes = meta.get("n_features"), meta.get("classes")
    if not isinstance(n_features, int) or n_features < 1:
        raise ValueError(f"meta n_features must be a positive int, got {n_features!r}")
    if classes is not None and not (
        isinstance(classes, list)
        and all(isinstance(c, str | int | float | bool) for c in classes)
        and len(set(classes)) == len(classes)
    ):
        raise ValueError("meta classes must be null or a list of distinct labels")
    try:
        config = FitConfig.from_dict(documents["config"])
        config.validate(n_features, None if classes is None else len(classes))
    except ConfigError as exc:
        raise ValueError(f"the archive's configuration is invalid: {exc}") from exc
    if meta.get("task") != config.task or (classes is None) != (
        config.task == "regression"
    ):
        raise ValueError("meta task and classes disagree with the configuration")

    table_encoder = None
    if meta.get("table_encoder") is not None:
        try:
            table_encoder = TableEncoder.from_dict(meta["table_encoder"])
        except (KeyError, TypeError) as exc:
            raise ValueError(f"meta table_encoder is malformed: {exc}") from exc
        if table_encoder.n_outputs != n_features:
            raise ValueError("meta table_encoder does not match n_features")

    network = build_network(config, n_features)
    dtype = np.dtype(config.dtype)
    expected = {name: (a.shape, dtype) for name, a in network.state().items()}
    expected["preprocessing.mean"] = ((n_features,), dtype)
    expected["preprocessing.scale"] = ((n_features,), dtype)
    if config.task == "regression":
        expected["target.mean"] = ((1,), np.dtype(np.float64))
        expected["target.scale"] = ((1,), np.dtype(np.float64))
    _check_arrays(arrays, expected)
    network.load_state(arrays)
    standardizer = Standardizer(
        arrays["preprocessing.mean"], arrays["preprocessing.scale"]
    )
    return Model(
        network,
        standardizer,
        config,
        n_features,
        classes,
        arrays.get("target.mean"),
        arrays.get("target.scale"),
        table_encoder=table_encoder,
    )


def _check_arrays(arrays: dict, expected: dict) -> None:
    missing = sorted(set(expected) - set(arrays))
    extra = sorted(set(arrays) - set(expected))
    if missing or extra:
        raise ValueError(
            f"archive arrays do not match: missing {missing}, extra {extra}"
        )
    for name, (shape, dtype) in expected.items():
        array = arrays[name]
        if array.shape != shape or array.dtype != dtype:
            raise ValueError(
                f"{name} is {array.dtype}{list(array.shape)}, "
                f"expected {dtype}{list(shape)}"
            )
        if not np.isfinite(array).all():
            raise ValueError(f"{name} holds non-finite values")
