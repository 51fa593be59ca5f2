"""The complete training state as an npz archive, and restoring it.

A checkpoint holds everything that makes the rest of a run identical to one
never interrupted: parameters and buffers (``network.<name>``), the optimizer
state (``optimizer.<slot>.<name>`` and its step counter ``t``), the
learning-rate schedule's position, the early-stopping counters and best
arrays (``best.<name>``), the shuffle and dropout generators' states, the
epoch, the history so far, and the preprocessing (``preprocessing.mean``,
``preprocessing.scale``, ``target.mean``, ``target.scale``) and classes, which
are checked against the data on resume. Scalars travel in the ``state`` JSON
document; generator states are Python ints there, which JSON keeps exact.
Every array is NumPy, so a run may resume on another device than the one it
started on: the configuration must match in everything but ``device``.
"""

import numpy as np

from core.backend import copy_into, to_numpy
from core.npz import read_npz, write_npz

FORMAT, VERSION = "descent.checkpoint", 1


def save_checkpoint(trainer, data, config) -> bytes:
    """Serialise ``trainer``'s state (after its last finished epoch)."""
    arrays = {f"network.{k}": to_numpy(a) for k, a in trainer.network.state().items()}
    optimizer_arrays, optimizer_scalars = trainer.optimizer.state_dict()
    arrays.update({f"optimizer.{k}": to_numpy(a) for k, a in optimizer_arrays.items()})
    stopping = trainer.stopping
    if stopping is not None and stopping.best_state is not None:
        arrays.update(
            {f"best.{k}": to_numpy(a) for k, a in stopping.best_state.items()}
        )
    arrays.update(_preprocessing(data))
    state = {
        "format": FORMAT,
        "version": VERSION,
        "config": config.to_dict(),
        "epoch": trainer.epoch,
        "finished": trainer.finished,
        "optimizer": optimizer_scalars,
        "schedule": trainer.schedule.state_dict(),
        "early_stopping": None if stopping is None else stopping.state_dict(),
        "shuffle_rng": trainer.shuffle_rng.bit_generator.state,
        "dropout_rng": trainer.dropout_rng.bit_generator.state,
        "history": trainer.history,
        "first_loss": trainer.first_loss,
        "classes": None if data.encoder is None else data.encoder.classes,
        "n_features": data.n_features,
    }
    return write_npz(arrays, {"state": state})


def restore_checkpoint(blob: bytes, trainer, data, config) -> None:
    """Load a ``save_checkpoint`` archive into a freshly built ``trainer``.

    Raises
    ------
    ValueError
        If the blob is not a checkpoint, or was made with another
        configuration or other data.
    """
    arrays, documents = read_npz(blob, ("state",))
    state = documents["state"]
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} archive")
    if state.get("version") != VERSION:
        raise ValueError(f"unsupported checkpoint version {state.get('version')!r}")
    _check_same_run(state, arrays, data, config)
    _adopt_statistics(arrays, data)
    try:
        trainer.network.load_state(_prefixed(arrays, "network."))
        trainer.optimizer.load_state_dict(
            _prefixed(arrays, "optimizer."), state["optimizer"]
        )
        trainer.schedule.load_state_dict(state["schedule"])
        if trainer.stopping is not None:
            best = _prefixed(arrays, "best.") or None
            trainer.stopping.load_state_dict(state["early_stopping"], best)
        trainer.shuffle_rng.bit_generator.state = state["shuffle_rng"]
        trainer.dropout_rng.bit_generator.state = state["dropout_rng"]
        trainer.epoch = int(state["epoch"])
        trainer.finished = bool(state["finished"])
        trainer.history = list(state["history"])
        trainer.first_loss = state.get("first_loss")
    except (KeyError, TypeError) as exc:
        raise ValueError(f"the checkpoint is incomplete: missing {exc}") from exc


def _check_same_run(state, arrays, data, config) -> None:
    saved = _without_device(state.get("config"))
    current = _without_device(config.to_dict())
    if saved != current:
        keys = sorted(
            key
            for key in set(current) | set(saved or {})
            if (saved or {}).get(key) != current.get(key)
        )
        raise ValueError(
            "the checkpoint was made with a different configuration "
            f"(differs in: {', '.join(keys)}); resume with the same config"
        )
    classes = None if data.encoder is None else data.encoder.classes
    same = (
        state.get("classes") == classes and state.get("n_features") == data.n_features
    )
    current = _preprocessing(data)
    for name, array in current.items():
        scale = current[
            "target.scale" if name.startswith("target.") else "preprocessing.scale"
        ]
        same = same and name in arrays and _close(arrays[name], array, scale)
    if not same:
        raise ValueError(
            "the checkpoint was made from different data (its classes, feature "
            "count or training-split statistics differ); resume with the same x, y"
        )


def _close(saved: np.ndarray, current: np.ndarray, scale: np.ndarray) -> bool:
    # The same data's statistics may round differently in another version of
    # the code (core.fused's block-wise sums against NumPy's two passes: up to
    # 32 units in the last place of a float64 mean); other data differs far
    # more. Differences count against the value and the feature's spread.
    if saved.shape != current.shape or saved.dtype != current.dtype:
        return False
    if saved.dtype.kind != "f":
        return bool(np.array_equal(saved, current))
    tolerance = 1e-12 if saved.dtype == np.float64 else 4 * np.finfo(saved.dtype).eps
    allowed = tolerance * (np.abs(saved) + np.abs(scale))
    return bool((np.abs(saved - current) <= allowed).all())


def _adopt_statistics(arrays: dict, data) -> None:
    # Train on with exactly the feature statistics the run started with; the
    # batches read them as they are standardised.
    copy_into(data.standardizer.mean, arrays["preprocessing.mean"])
    copy_into(data.standardizer.scale, arrays["preprocessing.scale"])


def _without_device(config):
    if not isinstance(config, dict):
        return config
    return {key: value for key, value in config.items() if key != "device"}


def _preprocessing(data) -> dict[str, np.ndarray]:
    arrays = {
        "preprocessing.mean": to_numpy(data.standardizer.mean),
        "preprocessing.scale": to_numpy(data.standardizer.scale),
    }
    if data.target_mean is not None:
        arrays["target.mean"] = data.target_mean
        arrays["target.scale"] = data.target_scale
    return arrays


def _prefixed(arrays: dict, prefix: str) -> dict:
    return {k[len(prefix) :]: a for k, a in arrays.items() if k.startswith(prefix)}
