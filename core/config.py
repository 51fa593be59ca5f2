"""The training configuration: frozen dataclasses read from and written to JSON.

``FitConfig.from_dict`` reads the job spec the API stores (missing keys take
the defaults below) and checks its structure: key names and value types.
``FitConfig.validate`` checks the values against the data: sizes, names,
ranges and how the task, the loss and the last layer fit together. Both raise
``ConfigError`` naming the field path. ``to_dict`` writes the fully resolved
form, so a stored result always carries the configuration that produced it.
"""

from dataclasses import dataclass, field, replace
from typing import Any

from core.config_parsing import parse_dataclass, parse_loss, require_object, to_plain
from core.validation import validate_config


@dataclass(frozen=True)
class LayerConfig:
    """One layer: ``dense``, ``batch_norm`` or ``dropout``."""

    type: str = "dense"
    units: int | None = None
    activation: str = "linear"
    init: str | None = None
    negative_slope: float = 0.01
    alpha: float = 1.0
    rate: float = 0.5
    momentum: float = 0.1
    epsilon: float = 1e-5


@dataclass(frozen=True)
class NetworkConfig:
    """The layers, first to last, and the default weight initialiser."""

    layers: tuple[LayerConfig, ...] = ()
    init: str | None = None


@dataclass(frozen=True)
class LossOptions:
    """Settings of the loss: huber's ``delta``, cross-entropy's extras."""

    delta: float = 1.0
    label_smoothing: float = 0.0
    class_weights: tuple[float, ...] | None = None


@dataclass(frozen=True)
class OptimizerConfig:
    """The update rule and its hyperparameters, named as in PyTorch."""

    name: str = "adam"
    learning_rate: float = 0.001
    momentum: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8
    nesterov: bool = False
    weight_decay: float = 0.0
    alpha: float = 0.99


@dataclass(frozen=True)
class TrainingConfig:
    """Epochs, batching, the data split and the seed behind every random draw."""

    epochs: int = 30
    batch_size: int = 32
    validation_split: float = 0.2
    seed: int = 0
    shuffle: bool = True
    test_split: float = 0.0
    standardize: bool = True


@dataclass(frozen=True)
class RegularizationConfig:
    """Penalties ``l1 * sum|w| + l2 * sum w**2`` over dense weights."""

    l1: float = 0.0
    l2: float = 0.0


@dataclass(frozen=True)
class ScheduleConfig:
    """How the learning rate moves from epoch to epoch."""

    name: str = "constant"
    step_size: int = 10
    gamma: float = 0.1
    t_max: int | None = None
    min_lr: float = 0.0
    restarts: bool = False
    t_mult: int = 1
    factor: float = 0.1
    patience: int = 10
    threshold: float = 1e-4
    cooldown: int = 0
    metric: str = "val_loss"
    warmup_epochs: int = 0


@dataclass(frozen=True)
class ClipConfig:
    """Gradient clipping: a global norm cap, an elementwise cap, or both."""

    norm: float | None = None
    value: float | None = None


@dataclass(frozen=True)
class EarlyStoppingConfig:
    """Stop when ``metric`` has not improved by ``min_delta`` for ``patience``."""

    metric: str = "val_loss"
    patience: int = 5
    min_delta: float = 0.0
    restore_best: bool = True


@dataclass(frozen=True)
class PreprocessingConfig:
    """How a table's columns become features (``core.tabular.TableEncoder``).

    ``scaling`` applies to numeric columns: standard, minmax or none;
    ``missing`` says what a missing cell does: reject the data, drop its row,
    or impute the column's mean, median or most frequent value (categorical
    columns take their most frequent category under any imputing policy);
    ``unseen`` says what a category unseen in training does at prediction:
    error, or encode it as all zeros.
    """

    scaling: str = "standard"
    missing: str = "reject"
    unseen: str = "error"


@dataclass(frozen=True)
class FitConfig:
    """Everything that decides a training run, given the data."""

    task: str = "classification"
    network: NetworkConfig = field(default_factory=NetworkConfig)
    loss: str = "cross_entropy"
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    dtype: str = "float32"
    loss_options: LossOptions = field(default_factory=LossOptions)
    regularization: RegularizationConfig = field(default_factory=RegularizationConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    clip: ClipConfig = field(default_factory=ClipConfig)
    early_stopping: EarlyStoppingConfig | None = None
    preprocessing: PreprocessingConfig = field(default_factory=PreprocessingConfig)
    # Where fit trains: "cpu" (NumPy) or "gpu" (CuPy, ``pip install .[gpu]``).
    # The model it returns is NumPy either way.
    device: str = "cpu"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FitConfig":
        """Read a job spec; missing keys take their defaults.

        Raises
        ------
        ConfigError
            For an unknown key or a value of the wrong type.
        """
        data = dict(require_object(data, "config"))
        loss, loss_options = parse_loss(data.pop("loss", "cross_entropy"))
        values = parse_dataclass(cls, data, "", exclude={"loss", "loss_options"})
        config = cls(loss=loss, loss_options=LossOptions(**loss_options), **values)
        optimizer = config.optimizer
        if optimizer.name == "adamw" and "weight_decay" not in data.get(
            "optimizer", {}
        ):
            # PyTorch's AdamW default; the other optimizers default to 0.
            config = replace(config, optimizer=replace(optimizer, weight_decay=0.01))
        return config

    def to_dict(self) -> dict[str, Any]:
        """Return the resolved configuration as plain JSON values."""
        return to_plain(self)

    def validate(self, n_features: int, n_classes: int | None) -> None:
        """Check the values against the data the run will see.

        Parameters
        ----------
        n_features : int
            Columns of the feature matrix.
        n_classes : int or None
            Distinct labels for classification, None for regression.

        Raises
        ------
        ConfigError
            Naming the first offending field and how to fix it.
        """
        validate_config(self, n_features, n_classes)
