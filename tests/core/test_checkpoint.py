import numpy as np
import pytest
from gradcheck import blobs, dense_spec, linear_regression_data

from core import FitConfig, fit


def _stop_at(epoch, saved):
    def on_epoch(report):
        if report.epoch == epoch:
            saved.append(report.checkpoint())
            return True
        return False

    return on_epoch


def _without_durations(history):
    return [{k: v for k, v in h.items() if k != "duration_s"} for h in history]


@pytest.mark.parametrize(
    "spec, data",
    [
        (
            dense_spec(
                (8, "relu"), (3, "softmax"), training={"epochs": 6, "batch_size": 7}
            ),
            blobs,
        ),
        (
            dense_spec(
                (8, "tanh"),
                (1, "linear"),
                task="regression",
                loss="mse",
                optimizer={"name": "sgd", "learning_rate": 0.01, "momentum": 0.9},
                training={"epochs": 6, "batch_size": 16},
            ),
            linear_regression_data,
        ),
    ],
)
def test_resumed_run_ends_bitwise_equal_to_an_uninterrupted_one(spec, data):
    # Checkpoint after epoch 3, resume: same weights to the bit, same history.
    x, y = data()
    config = FitConfig.from_dict(spec)
    whole = fit(x, y, config)
    saved = []
    first = fit(x, y, config, on_epoch=_stop_at(3, saved))
    assert first.stopped and first.epochs_run == 3
    resumed = fit(x, y, config, checkpoint=saved[0])

    assert resumed.epochs_run == 6 and not resumed.stopped
    for name, array in whole.model.network.state().items():
        assert array.tobytes() == resumed.model.network.state()[name].tobytes(), name
    assert _without_durations(resumed.history) == _without_durations(whole.history)


def test_checkpoint_is_npz_without_pickle():
    # The checkpoint loads with allow_pickle=False and holds the documented parts.
    import io

    x, y = blobs()
    saved = []
    config = FitConfig.from_dict(
        dense_spec((8, "relu"), (3, "softmax"), training={"epochs": 2})
    )
    fit(x, y, config, on_epoch=_stop_at(1, saved))
    with np.load(io.BytesIO(saved[0]), allow_pickle=False) as archive:
        names = set(archive.files)
    assert {"network.layers.0.weight", "optimizer.m.layers.0.weight", "state"} <= names
    assert {"preprocessing.mean", "preprocessing.scale"} <= names


def test_checkpoint_from_another_config_is_refused():
    # Resuming with a different config is a ValueError naming what differs.
    x, y = blobs()
    saved = []
    config = FitConfig.from_dict(
        dense_spec((8, "relu"), (3, "softmax"), training={"epochs": 2})
    )
    fit(x, y, config, on_epoch=_stop_at(1, saved))
    other = FitConfig.from_dict(
        dense_spec((9, "relu"), (3, "softmax"), training={"epochs": 2})
    )
    with pytest.raises(ValueError, match="network"):
        fit(x, y, other, checkpoint=saved[0])
    with pytest.raises(ValueError, match="different data"):
        fit(x * 2, y, config, checkpoint=saved[0])


def test_checkpoint_after_training_moved_on_is_refused():
    # checkpoint() serialises the state after its own epoch, so only inside on_epoch.
    x, y = blobs()
    reports = []
    config = FitConfig.from_dict(dense_spec((3, "softmax"), training={"epochs": 2}))
    fit(x, y, config, on_epoch=reports.append)
    with pytest.raises(RuntimeError, match="inside on_epoch"):
        reports[0].checkpoint()


def test_statistics_rounded_otherwise_resume_with_the_saved_ones(monkeypatch):
    # A float64 checkpoint whose feature statistics came from NumPy's two
    # passes (an earlier version; fused.ENABLED off) resumes under the compiled
    # loop, whose statistics differ in the last bits, and ends bitwise equal
    # to the uninterrupted NumPy run; one changed row is still other data.
    from core import fused

    rng = np.random.default_rng(5)
    x = rng.normal(size=(1797, 64)) * 3
    y = rng.integers(0, 3, size=1797)
    spec = dense_spec(
        (8, "relu"), (3, "softmax"), dtype="float64", training={"epochs": 3}
    )
    config = FitConfig.from_dict(spec)
    monkeypatch.setattr(fused, "ENABLED", False)
    whole = fit(x, y, config)
    saved = []
    fit(x, y, config, on_epoch=_stop_at(1, saved))
    monkeypatch.setattr(fused, "ENABLED", True)
    ours = fused.column_moments(x)[0]
    assert not np.array_equal(ours, whole.model.standardizer.mean)

    resumed = fit(x, y, config, checkpoint=saved[0])
    monkeypatch.setattr(fused, "ENABLED", False)  # compare with NumPy's path
    for name, array in whole.model.network.state().items():
        assert array.tobytes() == resumed.model.network.state()[name].tobytes()
    changed = x.copy()
    changed[0, 0] += 1.0
    with pytest.raises(ValueError, match="different data"):
        fit(changed, y, config, checkpoint=saved[0])
