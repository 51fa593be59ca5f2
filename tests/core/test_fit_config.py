import pytest
from gradcheck import dense_spec

from core.config import FitConfig, LayerConfig
from core.errors import ConfigError

SPEC = {
    "task": "classification",
    "network": {
        "layers": [
            {"type": "dense", "units": 128, "activation": "relu", "init": None},
            {"type": "dense", "units": 3, "activation": "softmax", "init": None},
        ],
        "init": None,
    },
    "loss": "cross_entropy",
    "optimizer": {
        "name": "adam",
        "learning_rate": 0.001,
        "momentum": 0.0,
        "beta1": 0.9,
        "beta2": 0.999,
        "epsilon": 1e-8,
    },
    "training": {
        "epochs": 30,
        "batch_size": 32,
        "validation_split": 0.2,
        "seed": 0,
        "shuffle": True,
    },
    "dtype": "float32",
}


def _error(spec, n_features=4, n_classes=3) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        FitConfig.from_dict(spec).validate(n_features, n_classes)
    return info.value


def test_the_documented_spec_reads_and_round_trips():
    # The API's stored spec parses, validates, and survives to_dict/from_dict.
    config = FitConfig.from_dict(SPEC)
    config.validate(4, 3)
    assert config.network.layers[0] == LayerConfig("dense", 128, "relu")
    assert FitConfig.from_dict(config.to_dict()) == config
    assert {
        k: v for k, v in config.to_dict().items() if k in SPEC
    }.keys() == SPEC.keys()


def test_missing_keys_take_defaults():
    # Only the layers are required; everything else has a default.
    config = FitConfig.from_dict(dense_spec((3, "softmax")))
    assert (config.task, config.loss, config.dtype) == (
        "classification",
        "cross_entropy",
        "float32",
    )
    assert config.optimizer.name == "adam" and config.training.epochs == 30


@pytest.mark.parametrize(
    "change, field",
    [
        ({"network": {"layers": []}}, "network.layers"),
        (dense_spec((16, "relu"), (0, "softmax")), "network.layers[1].units"),
        (dense_spec((16, "swish"), (3, "softmax")), "network.layers[0].activation"),
        ({"loss": "hinge"}, "loss"),
        ({"optimizer": {"name": "lbfgs"}}, "optimizer.name"),
        ({"optimizer": {"learning_rate": 0}}, "optimizer.learning_rate"),
        ({"optimizer": {"learning_rate": -0.1}}, "optimizer.learning_rate"),
        ({"training": {"epochs": 0}}, "training.epochs"),
        ({"training": {"batch_size": 0}}, "training.batch_size"),
        ({"training": {"validation_split": 1.0}}, "training.validation_split"),
        ({"training": {"validation_split": -0.1}}, "training.validation_split"),
        (
            {"network": {"layers": SPEC["network"]["layers"], "init": "ones"}},
            "network.init",
        ),
        ({"task": "clustering"}, "task"),
        ({"dtype": "float16"}, "dtype"),
        ({"loss": "mse"}, "loss"),
    ],
)
def test_bad_values_name_their_field(change, field):
    # Each rule raises ConfigError on the dotted path of the offending field.
    error = _error({**SPEC, **change})
    assert error.field == field
    assert field in str(error)


def test_unknown_names_list_the_allowed_values():
    # An unknown activation names the field and every allowed value.
    error = _error(dense_spec((16, "swish"), (3, "softmax")))
    assert (
        "relu" in str(error) and "leaky_relu" in str(error) and "'swish'" in str(error)
    )
    error = _error(
        {
            **SPEC,
            "network": {
                "layers": [{"units": 3, "activation": "softmax", "init": "ones"}]
            },
        }
    )
    assert error.field == "network.layers[0].init" and "he_normal" in str(error)
    error = _error({**SPEC, "network": {"layers": [{"type": "conv", "units": 3}]}})
    assert error.field == "network.layers[0].type" and "dense" in str(error)


def test_classification_output_width_must_match_the_classes():
    # C4: a last layer of 4 units for 3 classes is refused, naming both counts.
    error = _error(dense_spec((16, "relu"), (4, "softmax")), n_classes=3)
    assert error.field == "network.layers[1].units"
    assert "4" in error.message and "3 classes" in error.message


def test_cross_entropy_needs_a_softmax_last_layer():
    # Cross-entropy is fused with softmax, so the last activation must be softmax.
    error = _error(dense_spec((16, "relu"), (3, "relu")))
    assert error.field == "network.layers[1].activation" and "softmax" in error.message


def test_binary_cross_entropy_needs_two_classes_and_one_sigmoid_unit():
    # BCE: exactly 2 classes, and a last layer of 1 sigmoid unit.
    spec = dense_spec((16, "relu"), (1, "sigmoid"), loss="binary_cross_entropy")
    FitConfig.from_dict(spec).validate(4, 2)
    assert _error(spec, n_classes=3).field == "loss"
    wide = dense_spec((16, "relu"), (2, "sigmoid"), loss="binary_cross_entropy")
    assert _error(wide, n_classes=2).field == "network.layers[1].units"
    relu = dense_spec((16, "relu"), (1, "relu"), loss="binary_cross_entropy")
    assert _error(relu, n_classes=2).field == "network.layers[1].activation"


def test_regression_rules():
    # Regression: mse, one output, and no squashing last activation.
    spec = dense_spec((16, "relu"), (1, "linear"), task="regression", loss="mse")
    FitConfig.from_dict(spec).validate(4, None)
    assert _error({**spec, "loss": "cross_entropy"}, n_classes=None).field == "loss"
    wide = dense_spec((16, "relu"), (2, "linear"), task="regression", loss="mse")
    assert _error(wide, n_classes=None).field == "network.layers[1].units"
    for squash in ("softmax", "sigmoid"):
        bad = dense_spec((16, "relu"), (1, squash), task="regression", loss="mse")
        assert _error(bad, n_classes=None).field == "network.layers[1].activation"


@pytest.mark.parametrize(
    "spec, field",
    [
        ({"optimizer": {"learning_rat": 0.1}}, "optimizer.learning_rat"),
        ({"training": {"epochs": "ten"}}, "training.epochs"),
        ({"training": {"epochs": 2.5}}, "training.epochs"),
        ({"training": {"shuffle": "yes"}}, "training.shuffle"),
        ({"optimizer": {"learning_rate": True}}, "optimizer.learning_rate"),
        (
            {"network": {"layers": [{"units": 3, "rate": 0.5}]}},
            "network.layers[0].rate",
        ),
        ({"network": "dense"}, "network"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_structure_errors_name_their_field(spec, field):
    # Unknown keys and wrong types fail at from_dict, naming the path.
    with pytest.raises(ConfigError) as info:
        FitConfig.from_dict({**SPEC, **spec})
    assert info.value.field == field


def test_config_error_is_a_value_error():
    # Callers that catch ValueError also catch configuration errors.
    assert issubclass(ConfigError, ValueError)
