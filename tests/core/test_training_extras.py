import io

import numpy as np
import pytest
from gradcheck import blobs, dense_spec, linear_regression_data

from core import ConfigError, FitConfig, fit
from core.config import EarlyStoppingConfig
from core.early_stopping import EarlyStopping
from core.layers import Dense
from core.monitor import GradientMonitor
from core.network import Network, build_network
from core.optimizers import Adam


class _FakeNetwork:
    def __init__(self):
        self.weight = np.zeros(2)

    def state(self):
        return {"layers.0.weight": self.weight}

    def load_state(self, arrays):
        self.weight[...] = arrays["layers.0.weight"]


def test_early_stopping_counts_patience_and_keeps_the_best():
    # Stop after `patience` epochs without beating the best by min_delta.
    network = _FakeNetwork()
    stopping = EarlyStopping(EarlyStoppingConfig("val_loss", 2, 0.05, True), network)
    decisions = []
    for epoch, loss in enumerate([1.0, 0.8, 0.78, 0.9], start=1):
        network.weight[...] = epoch
        decisions.append(stopping.update(epoch, {"val_loss": loss}))
    assert decisions == [False, False, False, True]
    assert stopping.best_epoch == 2
    stopping.restore()
    assert network.weight.tolist() == [2.0, 2.0]


def test_early_stopping_maximises_accuracy():
    # Accuracy and r2 improve upwards.
    stopping = EarlyStopping(
        EarlyStoppingConfig("val_accuracy", 1, 0.0, False), _FakeNetwork()
    )
    assert [
        stopping.update(e, {"val_accuracy": a})
        for e, a in enumerate([0.5, 0.7, 0.6], 1)
    ] == [
        False,
        False,
        True,
    ]


def _weights_from(checkpoint):
    with np.load(io.BytesIO(checkpoint), allow_pickle=False) as archive:
        return {
            k[len("network.") :]: archive[k]
            for k in archive.files
            if k.startswith("network.")
        }


def test_fit_early_stops_and_restores_the_best_weights():
    # The run ends early and the model holds the best epoch's weights.
    x, y = linear_regression_data(n=60, noise=3.0)
    spec = dense_spec(
        (64, "relu"),
        (1, "linear"),
        task="regression",
        loss="mse",
        optimizer={"learning_rate": 0.05},
        training={"epochs": 200, "batch_size": 4, "validation_split": 0.4},
        early_stopping={"metric": "val_loss", "patience": 3},
    )
    saved = {}
    result = fit(
        x,
        y,
        FitConfig.from_dict(spec),
        on_epoch=lambda r: saved.update({r.epoch: r.checkpoint()}),
    )
    assert result.early_stopped and not result.stopped and result.epochs_run < 200
    losses = [h["val_loss"] for h in result.history]
    assert result.best_epoch == int(np.argmin(losses)) + 1
    assert result.epochs_run == result.best_epoch + 3
    best = _weights_from(saved[result.best_epoch])
    for name, array in result.model.network.state().items():
        assert array.tobytes() == best[name].tobytes()


def test_test_split_is_evaluated_once_with_a_confusion_matrix():
    # test_split rows are held out, scored at the end, and counted per class.
    x, y = blobs(n_per_class=20, labels=("a", "b", "c"))
    spec = dense_spec(
        (8, "relu"),
        (3, "softmax"),
        optimizer={"learning_rate": 0.05},
        training={"epochs": 20, "validation_split": 0.2, "test_split": 0.25},
    )
    result = fit(x, y, FitConfig.from_dict(spec))
    assert set(result.test_metrics) == {"loss", "accuracy"}
    matrix = np.array(result.confusion_matrix)
    assert matrix.shape == (3, 3) and matrix.sum() == 15
    assert matrix.sum(axis=1).tolist() == [5, 5, 5]
    assert result.test_metrics["accuracy"] == np.trace(matrix) / 15


def test_regression_test_metrics():
    # Regression test metrics are loss, rmse and r2; no confusion matrix.
    x, y = linear_regression_data(n=80)
    spec = dense_spec(
        (1, "linear"),
        task="regression",
        loss="mse",
        training={"epochs": 3, "test_split": 0.2},
    )
    result = fit(x, y, FitConfig.from_dict(spec))
    assert set(result.test_metrics) == {"loss", "rmse", "r2"}
    assert result.confusion_matrix is None


def test_epoch_report_carries_gradient_flow_per_layer():
    # Each weighted layer reports grad norm, weight norm, update ratio; relu
    # layers also their dead fraction.
    x, y = blobs()
    reports = []
    spec = dense_spec((8, "relu"), (3, "softmax"), training={"epochs": 2})
    fit(x, y, FitConfig.from_dict(spec), on_epoch=reports.append)
    layers = reports[-1].layers
    assert set(layers) == {"layers.0", "layers.1"}
    assert set(layers["layers.0"]) == {
        "grad_norm",
        "weight_norm",
        "update_ratio",
        "dead_fraction",
    }
    assert set(layers["layers.1"]) == {"grad_norm", "weight_norm", "update_ratio"}
    assert all(v >= 0 for layer in layers.values() for v in layer.values())
    assert isinstance(reports[-1].warnings, list)


def test_monitor_warns_about_dead_relus_and_vanishing_gradients():
    # A relu layer that never fires and a zero gradient are both reported.
    config = FitConfig.from_dict(dense_spec((4, "relu"), (3, "softmax")))
    network = build_network(config, 2, np.random.default_rng(0))
    network.layers[0].bias[...] = -100.0
    monitor = GradientMonitor(network)
    network.forward(np.ones((5, 2), np.float32), training=True)
    monitor.after_forward()
    monitor.after_step({name: np.zeros_like(p) for name, p in network.params().items()})
    flow, warnings = monitor.end_epoch()
    assert flow["layers.0"]["dead_fraction"] == 1.0
    assert any("layers.0" in w and "never fired" in w for w in warnings)
    assert any("layers.0" in w and "vanishing" in w for w in warnings)


def test_monitor_warns_about_exploding_gradients():
    # A gradient norm above the threshold is reported with a fix.
    config = FitConfig.from_dict(dense_spec((3, "softmax")))
    network = build_network(config, 2, np.random.default_rng(0))
    monitor = GradientMonitor(network)
    network.layers[0].grad_weight[...] = 1e4
    monitor.after_step({name: np.zeros_like(p) for name, p in network.params().items()})
    assert any("exploding" in w and "clip.norm" in w for w in monitor.end_epoch()[1])


def test_monitor_follows_weights_that_are_not_c_contiguous():
    # A hand-built network of two dtypes keeps its own arrays; a Fortran-
    # ordered weight (and its gradient) must still be read afresh each step.
    rng = np.random.default_rng(0)
    weight = np.asfortranarray(rng.normal(size=(5, 8)).astype(np.float32))
    network = Network(
        [
            Dense("layers.0", weight, np.zeros(8, np.float32)),
            Dense("layers.1", rng.normal(size=(8, 2)), np.zeros(2)),
        ]
    )
    assert network.flat_params is None
    assert not network.layers[0].grad_weight.flags.c_contiguous
    optimizer = Adam(network.params(), network.grads(), 1e-2)
    monitor = GradientMonitor(network)
    monitor.start_epoch(3)
    squares = ratios = 0.0
    for _ in range(3):
        out = network.forward(rng.normal(size=(6, 5)).astype(np.float32), True)
        network.backward(np.ones_like(out) / len(out))
        squares += float(np.sum(network.layers[0].grad_weight.astype(float) ** 2))
        before = network.layers[0].weight.astype(float)
        monitor.after_step(optimizer.step(keep_updates=monitor.wants_updates))
        after = network.layers[0].weight.astype(float)
        ratios += np.linalg.norm(before - after) / np.linalg.norm(after)
    flow, _ = monitor.end_epoch()
    assert flow["layers.0"]["grad_norm"] == pytest.approx(np.sqrt(squares / 3), 1e-6)
    assert flow["layers.0"]["update_ratio"] == pytest.approx(ratios / 3, 1e-5)


def test_full_featured_run_resumes_bitwise():
    # Dropout, batch norm, adamw, plateau schedule, clipping, penalties and
    # early stopping all resume to the same bits.
    x, y = blobs(n_per_class=30)
    spec = {
        "network": {
            "layers": [
                {"type": "dense", "units": 12},
                {"type": "batch_norm", "activation": "gelu"},
                {"type": "dropout", "rate": 0.2},
                {"type": "dense", "units": 3, "activation": "softmax"},
            ]
        },
        "optimizer": {"name": "adamw", "learning_rate": 0.01},
        "schedule": {"name": "reduce_on_plateau", "patience": 1, "warmup_epochs": 2},
        "regularization": {"l1": 1e-4, "l2": 1e-3},
        "clip": {"norm": 1.0},
        "early_stopping": {"patience": 50},
        "training": {"epochs": 8, "batch_size": 16},
    }
    config = FitConfig.from_dict(spec)
    whole = fit(x, y, config)
    saved = []
    fit(x, y, config, on_epoch=lambda r: saved.append(r.checkpoint()) or r.epoch == 4)
    resumed = fit(x, y, config, checkpoint=saved[-1])
    for name, array in whole.model.network.state().items():
        assert array.tobytes() == resumed.model.network.state()[name].tobytes(), name


@pytest.mark.parametrize(
    "extra, field",
    [
        (
            {
                "schedule": {"name": "reduce_on_plateau"},
                "training": {"validation_split": 0.0},
            },
            "schedule.metric",
        ),
        ({"early_stopping": {"metric": "val_rmse"}}, "early_stopping.metric"),
        ({"optimizer": {"name": "sgd", "nesterov": True}}, "optimizer.nesterov"),
        (
            {"loss": {"name": "cross_entropy", "class_weights": [1, 2]}},
            "loss.class_weights",
        ),
        (
            {"loss": {"name": "cross_entropy", "label_smoothing": 1.5}},
            "loss.label_smoothing",
        ),
        ({"clip": {"norm": 0}}, "clip.norm"),
        ({"regularization": {"l2": -1}}, "regularization.l2"),
        ({"schedule": {"name": "cosine", "t_max": 0}}, "schedule.t_max"),
        ({"schedule": {"name": "linear"}}, "schedule.name"),
        (
            {"training": {"validation_split": 0.5, "test_split": 0.5}},
            "training.test_split",
        ),
        (
            {
                "network": {
                    "layers": [
                        {"type": "dropout", "rate": 1.0},
                        {"units": 3, "activation": "softmax"},
                    ]
                }
            },
            "network.layers[0].rate",
        ),
        (
            {
                "network": {
                    "layers": [
                        {"units": 3, "activation": "softmax"},
                        {"type": "dropout"},
                    ]
                }
            },
            "network.layers[1].type",
        ),
        (
            {
                "network": {
                    "layers": [
                        {"units": 3, "activation": "leaky_relu", "negative_slope": -1}
                    ]
                }
            },
            "network.layers[0].negative_slope",
        ),
    ],
)
def test_phase_two_settings_name_their_field(extra, field):
    # Schedules, early stopping, losses, clipping and layers validate like the rest.
    spec = {**dense_spec((8, "relu"), (3, "softmax")), **extra}
    with pytest.raises(ConfigError) as info:
        FitConfig.from_dict(spec).validate(4, 3)
    assert info.value.field == field


def test_adamw_defaults_to_torch_weight_decay():
    # adamw without a weight_decay gets PyTorch's 0.01; adam keeps 0.
    adamw = FitConfig.from_dict({"optimizer": {"name": "adamw"}})
    assert adamw.optimizer.weight_decay == 0.01
    assert (
        FitConfig.from_dict({"optimizer": {"name": "adam"}}).optimizer.weight_decay
        == 0.0
    )
    assert FitConfig.from_dict(adamw.to_dict()) == adamw
