import numpy as np
import pytest
from gradcheck import blobs, dense_spec, linear_regression_data
from sklearn.datasets import load_diabetes, load_iris

from core import ConfigError, DivergedError, FitConfig, fit


def _config(*layers, **top):
    top.setdefault("training", {"epochs": 5, "batch_size": 8})
    return FitConfig.from_dict(dense_spec(*layers, **top))


def _weights(result):
    return {name: a.copy() for name, a in result.model.network.params().items()}


def test_same_seed_gives_bitwise_identical_weights():
    # Same config and seed: every weight identical to the bit.
    x, y = blobs()
    config = _config((8, "relu"), (3, "softmax"))
    first, second = _weights(fit(x, y, config)), _weights(fit(x, y, config))
    assert all(first[k].tobytes() == second[k].tobytes() for k in first)


def test_different_seed_gives_different_weights():
    # The seed reaches initialisation and shuffling.
    x, y = blobs()
    a = _weights(fit(x, y, _config((8, "relu"), (3, "softmax"))))
    other = {"epochs": 5, "batch_size": 8, "seed": 1}
    b = _weights(fit(x, y, _config((8, "relu"), (3, "softmax"), training=other)))
    assert not np.array_equal(a["layers.0.weight"], b["layers.0.weight"])


def test_iris_learns_quickly():
    # Sanity: 4-16 relu-3 softmax reaches 0.9 training accuracy on iris.
    x, y = load_iris(return_X_y=True)
    config = _config(
        (16, "relu"),
        (3, "softmax"),
        optimizer={"learning_rate": 0.01},
        training={"epochs": 60, "batch_size": 16},
    )
    result = fit(x, y, config)
    assert result.history[-1]["accuracy"] >= 0.9
    predicted = np.array(result.model.predict(x).predictions)
    assert (predicted == y).mean() >= 0.9


def test_history_holds_the_documented_metrics():
    # Classification reports loss/accuracy (+ val_), lr and duration per epoch.
    x, y = blobs()
    result = fit(x, y, _config((8, "relu"), (3, "softmax")))
    assert result.epochs_run == 5 and not result.stopped
    assert [h["epoch"] for h in result.history] == [1, 2, 3, 4, 5]
    assert set(result.history[0]) == {
        "epoch",
        "loss",
        "accuracy",
        "val_loss",
        "val_accuracy",
        "lr",
        "duration_s",
    }
    assert all(type(v) in (int, float) for h in result.history for v in h.values())


def test_no_validation_split_means_no_val_metrics():
    # validation_split 0: no validation rows and no val_ metrics.
    x, y = blobs()
    result = fit(
        x, y, _config((3, "softmax"), training={"epochs": 2, "validation_split": 0.0})
    )
    assert not any(key.startswith("val_") for key in result.history[0])


def test_regression_metrics_are_in_original_units():
    # rmse is in the target's units; the loss is on the standardised target.
    x, y = linear_regression_data(n=200)
    config = _config(
        (1, "linear"),
        task="regression",
        loss="mse",
        optimizer={"name": "sgd", "learning_rate": 0.05},
        training={"epochs": 40, "batch_size": 16, "validation_split": 0.25},
    )
    last = fit(x, y, config).history[-1]
    assert set(last) >= {"loss", "rmse", "r2", "val_loss", "val_rmse", "val_r2"}
    assert last["val_r2"] > 0.99
    # The target's std is about 10 * |w|; a scaled loss near 0 and rmse near noise.
    assert last["val_rmse"] == pytest.approx(
        np.sqrt(last["val_loss"]) * y[:150].std(), rel=0.3
    )


def test_huge_learning_rate_raises_diverged_error():
    # A non-finite loss stops training at once with the epoch and the word diverged.
    x, y = linear_regression_data()
    config = _config(
        (16, "relu"),
        (1, "linear"),
        task="regression",
        loss="mse",
        optimizer={"name": "sgd", "learning_rate": 1e12},
    )
    with pytest.raises(DivergedError) as info:
        fit(x, y, config)
    assert info.value.epoch >= 1
    assert "diverged" in str(info.value) and f"epoch {info.value.epoch}" in str(
        info.value
    )


@pytest.mark.parametrize("loss", ["mse", "mae", "huber"])
@pytest.mark.parametrize("optimizer", ["adam", "adamw", "rmsprop", "adagrad"])
def test_a_finite_runaway_regression_is_diverged_too(optimizer, loss):
    # Rate 10 on diabetes: the loss stays finite under these optimizers but
    # the error grows from about 2 standard deviations to hundreds or more.
    x, y = load_diabetes(return_X_y=True)
    config = _config(
        (64, "relu"),
        (1, "linear"),
        task="regression",
        loss=loss,
        optimizer={"name": optimizer, "learning_rate": 10},
        training={"epochs": 20},
    )
    with pytest.raises(DivergedError, match="at epoch 1: the loss rose to") as info:
        fit(x, y, config)
    assert "standard deviations of the target, over 100 times" in str(info.value)


@pytest.mark.parametrize("batch_size, seed", [(1, 0), (2, 2)])
def test_a_classifier_may_pass_through_huge_losses(batch_size, seed):
    # CASES C1 with other batches: the cross-entropy passes 8e6 on raw
    # features, then reaches 0; only a non-finite loss may stop it.
    rows = [[500, 4000], [800, 5000], [2500, 2500], [3000, 2000], [4500, 600]]
    x = np.array([*rows, [5000, 900]], dtype=float)
    y = np.array([0, 0, 1, 1, 2, 2])
    training = {"epochs": 20, "validation_split": 0.0, "standardize": False}
    training.update(batch_size=batch_size, seed=seed)
    sgd = {"name": "sgd", "learning_rate": 1.0}
    config = _config((3, "softmax"), optimizer=sgd, training=training)
    result = fit(x, y, config)
    assert max(h["loss"] for h in result.history) > 1e6
    assert result.history[-1]["loss"] == 0.0


def test_should_stop_is_honoured_between_batches():
    # Cancellation: fit returns promptly after should_stop says so.
    x, y = blobs(n_per_class=100)
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) > 3

    config = _config(
        (8, "relu"), (3, "softmax"), training={"epochs": 50, "batch_size": 10}
    )
    result = fit(x, y, config, should_stop=should_stop)
    assert result.stopped and len(calls) == 4 and result.epochs_run == 0


def test_on_epoch_returning_true_stops_the_run():
    # The epoch callback sees each report and may stop the run.
    x, y = blobs()
    reports = []

    def on_epoch(report):
        reports.append(report)
        return report.epoch == 2

    result = fit(x, y, _config((8, "relu"), (3, "softmax")), on_epoch=on_epoch)
    assert result.stopped and result.epochs_run == 2 and len(result.history) == 2
    assert [r.epoch for r in reports] == [1, 2] and reports[0].epochs == 5
    assert reports[1].metrics["loss"] == result.history[1]["loss"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_training_keeps_the_configured_dtype(dtype):
    # No silent upcast: weights and optimizer state stay in config.dtype.
    x, y = blobs()
    result = fit(
        x.astype(np.float64), y, _config((8, "relu"), (3, "softmax"), dtype=dtype)
    )
    network = result.model.network
    assert {a.dtype for a in network.state().values()} == {np.dtype(dtype)}


def test_config_is_validated_against_the_data():
    # Too many output units for the labels: ConfigError before any training.
    x, y = blobs()
    with pytest.raises(ConfigError) as info:
        fit(x, y, _config((8, "relu"), (4, "softmax")))
    assert info.value.field == "network.layers[1].units"


def test_non_finite_features_are_refused():
    # NaN in x is a ValueError naming row and column, not a NaN loss.
    x, y = blobs()
    x[4, 1] = np.nan
    with pytest.raises(ValueError, match="row 4, column 1"):
        fit(x, y, _config((3, "softmax")))
