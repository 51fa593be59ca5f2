"""The job spec a client sends to POST /v1/jobs.

These models document the spec in OpenAPI and check types and plain ranges.
Every field is optional unless marked, and an unset field takes core's
default: the spec is handed to ``core.FitConfig.from_dict``, which also checks
what depends on other fields (which keys a layer type takes, how the loss and
the last layer fit the dataset) and names the field at fault.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
Fraction = Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Activation = Literal[
    "relu", "leaky_relu", "elu", "gelu", "sigmoid", "tanh", "softmax", "linear"
]
Init = Literal[
    "he_normal", "he_uniform", "xavier_normal", "xavier_uniform", "lecun_normal",
    "zeros",
]  # fmt: skip


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


# One layer: dense (units, activation, init), batch_norm or dropout.
class LayerSpec(_Spec):
    type: Literal["dense", "batch_norm", "dropout"] = "dense"
    units: int | None = Field(default=None, ge=1, examples=[64])
    activation: Activation | None = Field(default=None, examples=["relu"])
    init: Init | None = None
    negative_slope: Fraction | None = Field(default=None, description="leaky_relu")
    alpha: Positive | None = Field(default=None, description="elu")
    rate: Fraction | None = Field(default=None, description="dropout")
    momentum: Fraction | None = Field(default=None, description="batch_norm")
    epsilon: Positive | None = Field(default=None, description="batch_norm")


class NetworkSpec(_Spec):
    layers: list[LayerSpec] = Field(min_length=1)
    init: Init | None = Field(default=None, description="default for every layer")


class LossSpec(_Spec):
    name: Literal["mse", "mae", "huber", "cross_entropy", "binary_cross_entropy"]
    delta: Positive | None = Field(default=None, description="huber")
    label_smoothing: Fraction | None = Field(default=None, description="cross_entropy")
    class_weights: list[Positive] | None = Field(
        default=None, description="cross_entropy, one per class in sorted label order"
    )


class OptimizerSpec(_Spec):
    name: Literal["sgd", "rmsprop", "adagrad", "adam", "adamw"] | None = None
    learning_rate: Positive | None = None
    momentum: Fraction | None = None
    nesterov: bool | None = None
    beta1: Fraction | None = None
    beta2: Fraction | None = None
    epsilon: Positive | None = None
    weight_decay: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    alpha: Fraction | None = Field(default=None, description="rmsprop smoothing")


class TrainingSpec(_Spec):
    epochs: int | None = Field(default=None, ge=1)
    batch_size: int | None = Field(default=None, ge=1)
    validation_split: Fraction | None = None
    test_split: Fraction | None = None
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)
    shuffle: bool | None = None
    standardize: bool | None = Field(default=None, description="scale the features")


class RegularizationSpec(_Spec):
    l1: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    l2: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None


class ScheduleSpec(_Spec):
    name: Literal["constant", "step", "exponential", "cosine", "reduce_on_plateau"]
    warmup_epochs: int | None = Field(default=None, ge=0)
    step_size: int | None = Field(default=None, ge=1, description="step")
    gamma: Positive | None = Field(default=None, description="step, exponential")
    t_max: int | None = Field(default=None, ge=1, description="cosine")
    min_lr: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    restarts: bool | None = Field(default=None, description="cosine warm restarts")
    t_mult: int | None = Field(default=None, ge=1, description="cosine")
    metric: str | None = Field(default=None, max_length=50)
    factor: Fraction | None = Field(default=None, description="reduce_on_plateau")
    patience: int | None = Field(default=None, ge=0)
    threshold: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    cooldown: int | None = Field(default=None, ge=0)


class ClipSpec(_Spec):
    norm: Positive | None = None
    value: Positive | None = None


class EarlyStoppingSpec(_Spec):
    metric: str | None = Field(default=None, max_length=50, examples=["val_loss"])
    patience: int | None = Field(default=None, ge=0)
    min_delta: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    restore_best: bool | None = None


class PreprocessingSpec(_Spec):
    scaling: Literal["standard", "minmax", "none"] | None = None
    missing: Literal["reject", "drop", "mean", "median", "most_frequent"] | None = (
        Field(default=None, description="what a missing cell does; reject by default")
    )
    unseen: Literal["error", "zeros"] | None = Field(
        default=None, description="a category unseen in training, at prediction"
    )


# Small data carried in the job itself, for quick experiments.
class InlineData(_Spec):
    x: list[list[FiniteFloat]] = Field(min_length=2, description="rows of features")
    y: list[FiniteFloat | bool | str] = Field(min_length=2, description="targets")
    feature_names: list[str] | None = None
    task: Literal["classification", "regression"] | None = None


class InlineDataset(_Spec):
    inline: InlineData


# Body of POST /v1/jobs.
class TrainingJobCreate(_Spec):
    dataset: Annotated[str, Field(max_length=100)] | InlineDataset = Field(
        description="a built-in dataset's name, an uploaded dataset's id, or "
        '{"inline": {"x": [[...]], "y": [...]}}',
        examples=["digits"],
    )
    network: NetworkSpec
    loss: (
        Literal["mse", "mae", "huber", "cross_entropy", "binary_cross_entropy"]
        | LossSpec
    ) = Field(examples=["cross_entropy"])
    optimizer: OptimizerSpec | None = None
    training: TrainingSpec | None = None
    regularization: RegularizationSpec | None = None
    schedule: ScheduleSpec | None = None
    clip: ClipSpec | None = None
    early_stopping: EarlyStoppingSpec | None = None
    preprocessing: PreprocessingSpec | None = None
    dtype: Literal["float32", "float64"] | None = None
    device: Literal["cpu", "gpu", "auto"] = Field(
        default="cpu", description="gpu needs a GPU worker; auto uses one if running"
    )
