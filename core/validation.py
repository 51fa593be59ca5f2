"""Semantic checks of a ``FitConfig`` against the data it will train on.

Every rule raises ``ConfigError`` with the dotted path of the field, the value
found and the fix. The rules are grouped by section; ``validate_config`` runs
them in the order a reader of the spec would meet the fields.
"""

from core.activations import ACTIVATIONS
from core.config_parsing import LAYER_KEYS, SCHEDULE_KEYS, unknown_name
from core.errors import ConfigError
from core.initializers import INITIALIZERS
from core.losses import CLASSIFICATION_LOSSES, LOSSES, REGRESSION_LOSSES
from core.metrics import metric_names
from core.optimizers import OPTIMIZERS
from core.tabular import MISSING_POLICIES, SCALINGS, UNSEEN_POLICIES

TASKS = ("classification", "regression")
DTYPES = ("float32", "float64")
DEVICES = ("cpu", "gpu")


def validate_config(config, n_features: int, n_classes: int | None) -> None:
    """Raise ``ConfigError`` for the first value that cannot work."""
    _choice("task", config.task, TASKS)
    _choice("dtype", config.dtype, DTYPES)
    _choice("device", config.device, DEVICES)
    _validate_layers(config.network)
    _validate_task(config, n_classes)
    _validate_optimizer(config.optimizer)
    _validate_training(config.training)
    _validate_extras(config)


def _validate_layers(network) -> None:
    if network.init is not None:
        _choice("network.init", network.init, INITIALIZERS)
    if not network.layers:
        raise ConfigError(
            "network.layers", "network.layers is empty; add at least one dense layer"
        )
    for i, layer in enumerate(network.layers):
        path = f"network.layers[{i}]"
        _choice(f"{path}.type", layer.type, LAYER_KEYS)
        if layer.type == "dropout":
            _range(f"{path}.rate", layer.rate, 0.0, 1.0, "a fraction in [0, 1)")
            continue
        _choice(f"{path}.activation", layer.activation, ACTIVATIONS)
        _range(f"{path}.negative_slope", layer.negative_slope, 0.0, 1.0, "in [0, 1)")
        _positive(f"{path}.alpha", layer.alpha)
        if layer.type == "batch_norm":
            _range(f"{path}.momentum", layer.momentum, 0.0, 1.0001, "in [0, 1]")
            _positive(f"{path}.epsilon", layer.epsilon)
            continue
        if layer.init is not None:
            _choice(f"{path}.init", layer.init, INITIALIZERS)
        if layer.units is None or layer.units < 1:
            raise ConfigError(
                f"{path}.units",
                f"{path}.units must be an integer >= 1, got {layer.units!r}; "
                "give the layer a positive number of units",
            )
    last = len(network.layers) - 1
    if network.layers[last].type != "dense":
        raise ConfigError(
            f"network.layers[{last}].type",
            f"network.layers[{last}].type is {network.layers[last].type!r}; "
            "the last layer must be dense, as it produces the outputs",
        )


def _validate_task(config, n_classes: int | None) -> None:
    _choice("loss", config.loss, LOSSES)
    wanted = REGRESSION_LOSSES if config.task == "regression" else CLASSIFICATION_LOSSES
    if config.loss not in wanted:
        other = "classification" if config.task == "regression" else "regression"
        raise ConfigError(
            "loss",
            f"loss {config.loss!r} is for {other}; a {config.task} uses "
            f"one of: {', '.join(wanted)}",
        )
    last = len(config.network.layers) - 1
    layer = config.network.layers[last]
    units = f"network.layers[{last}].units"
    activation = f"network.layers[{last}].activation"
    if config.task == "regression":
        _require(units, layer.units, 1, "a regression")
        if layer.activation in ("softmax", "sigmoid"):
            raise ConfigError(
                activation,
                f"{activation} {layer.activation!r} squashes a regression's "
                "output; use linear",
            )
        return
    if n_classes is not None and n_classes < 2:
        raise ConfigError(
            "task",
            "classification needs at least 2 distinct labels, "
            f"the data has {n_classes}",
        )
    if config.loss == "binary_cross_entropy":
        if n_classes is not None and n_classes != 2:
            raise ConfigError(
                "loss",
                "binary_cross_entropy needs exactly 2 classes, the data has "
                f"{n_classes}; use cross_entropy with {n_classes} softmax units",
            )
        _require(units, layer.units, 1, "binary_cross_entropy")
        _require(activation, layer.activation, "sigmoid", "binary_cross_entropy")
    else:
        _require(activation, layer.activation, "softmax", "cross_entropy")
        if n_classes is not None and layer.units != n_classes:
            raise ConfigError(
                units,
                f"{units} is {layer.units} but the data has {n_classes} "
                f"classes; set the last layer's units to {n_classes}",
            )
    _validate_loss_options(config.loss_options, n_classes)


def _validate_loss_options(options, n_classes: int | None) -> None:
    _positive("loss.delta", options.delta)
    _range("loss.label_smoothing", options.label_smoothing, 0.0, 1.0001, "in [0, 1]")
    weights = options.class_weights
    if weights is None:
        return
    if n_classes is not None and len(weights) != n_classes:
        raise ConfigError(
            "loss.class_weights",
            f"loss.class_weights has {len(weights)} values but the data has "
            f"{n_classes} classes; give one weight per class, in sorted label order",
        )
    if min(weights) < 0 or sum(weights) <= 0:
        raise ConfigError(
            "loss.class_weights",
            f"loss.class_weights must be >= 0 with a positive sum, got {list(weights)}",
        )


def _validate_optimizer(optimizer) -> None:
    _choice("optimizer.name", optimizer.name, OPTIMIZERS)
    _positive("optimizer.learning_rate", optimizer.learning_rate)
    _range("optimizer.momentum", optimizer.momentum, 0.0, 1.0, "in [0, 1)")
    _range("optimizer.beta1", optimizer.beta1, 0.0, 1.0, "in [0, 1)")
    _range("optimizer.beta2", optimizer.beta2, 0.0, 1.0, "in [0, 1)")
    _range("optimizer.alpha", optimizer.alpha, 0.0, 1.0, "in [0, 1)")
    _positive("optimizer.epsilon", optimizer.epsilon)
    _range("optimizer.weight_decay", optimizer.weight_decay, 0.0, float("inf"), ">= 0")
    if optimizer.nesterov and (optimizer.name != "sgd" or optimizer.momentum == 0):
        raise ConfigError(
            "optimizer.nesterov",
            "optimizer.nesterov needs optimizer.name 'sgd' and a momentum above 0",
        )


def _validate_training(training) -> None:
    _at_least("training.epochs", training.epochs, 1)
    _at_least("training.batch_size", training.batch_size, 1)
    _at_least("training.seed", training.seed, 0)
    _range(
        "training.validation_split", training.validation_split, 0.0, 1.0, "in [0, 1)"
    )
    _range("training.test_split", training.test_split, 0.0, 1.0, "in [0, 1)")
    if training.validation_split + training.test_split >= 1.0:
        raise ConfigError(
            "training.test_split",
            "training.validation_split + training.test_split must be below 1 "
            "so that rows are left to train on",
        )


def _validate_extras(config) -> None:
    preprocessing = config.preprocessing
    _choice("preprocessing.scaling", preprocessing.scaling, SCALINGS)
    _choice("preprocessing.missing", preprocessing.missing, MISSING_POLICIES)
    _choice("preprocessing.unseen", preprocessing.unseen, UNSEEN_POLICIES)
    _range("regularization.l1", config.regularization.l1, 0.0, float("inf"), ">= 0")
    _range("regularization.l2", config.regularization.l2, 0.0, float("inf"), ">= 0")
    for key in ("norm", "value"):
        value = getattr(config.clip, key)
        if value is not None:
            _positive(f"clip.{key}", value)
    validation = config.training.validation_split > 0
    metrics = metric_names(config.task, validation)
    _validate_schedule(config.schedule, metrics)
    stopping = config.early_stopping
    if stopping is not None:
        _metric("early_stopping.metric", stopping.metric, metrics)
        _at_least("early_stopping.patience", stopping.patience, 0)
        _range(
            "early_stopping.min_delta", stopping.min_delta, 0.0, float("inf"), ">= 0"
        )


def _validate_schedule(schedule, metrics) -> None:
    _choice("schedule.name", schedule.name, SCHEDULE_KEYS)
    _at_least("schedule.warmup_epochs", schedule.warmup_epochs, 0)
    _at_least("schedule.step_size", schedule.step_size, 1)
    _positive("schedule.gamma", schedule.gamma)
    if schedule.t_max is not None:
        _at_least("schedule.t_max", schedule.t_max, 1)
    _at_least("schedule.t_mult", schedule.t_mult, 1)
    _range("schedule.min_lr", schedule.min_lr, 0.0, float("inf"), ">= 0")
    _range("schedule.factor", schedule.factor, 1e-300, 1.0, "in (0, 1)")
    _at_least("schedule.patience", schedule.patience, 0)
    _at_least("schedule.cooldown", schedule.cooldown, 0)
    _range("schedule.threshold", schedule.threshold, 0.0, float("inf"), ">= 0")
    if schedule.name == "reduce_on_plateau":
        _metric("schedule.metric", schedule.metric, metrics)


def _metric(path, value, metrics) -> None:
    if value not in metrics:
        hint = " (val_ metrics need training.validation_split > 0)"
        raise ConfigError(
            path,
            f"{path} {value!r} is not reported by this run; use one of: "
            f"{', '.join(metrics)}{hint if value[4:] in metrics else ''}",
        )


def _choice(path, value, allowed) -> None:
    if value not in allowed:
        raise unknown_name(path, value, allowed)


def _require(path, value, wanted, reason: str) -> None:
    if value != wanted:
        raise ConfigError(
            path,
            f"{path} is {value!r}, {reason} needs {wanted!r}; set it to {wanted!r}",
        )


def _positive(path, value) -> None:
    if not value > 0:
        raise ConfigError(path, f"{path} must be > 0, got {value!r}")


def _at_least(path, value, low: int) -> None:
    if value < low:
        raise ConfigError(path, f"{path} must be >= {low}, got {value!r}")


def _range(path, value, low, high, words: str) -> None:
    if not low <= value < high:
        raise ConfigError(path, f"{path} must be {words}, got {value!r}")
