"""Request and response bodies, one family per resource (STYLE.md point 10)."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# One layer of the network spec in POST /v1/jobs.
class LayerSpec(_Strict):
    type: str = Field(default="dense", examples=["dense"])
    units: int | None = Field(default=None, ge=1, examples=[64])
    activation: str = Field(default="linear", examples=["relu"])
    init: str | None = Field(default=None, examples=["he_normal"])


class NetworkSpec(_Strict):
    layers: list[LayerSpec] = Field(min_length=1)
    init: str | None = None


class OptimizerSpec(_Strict):
    name: str = Field(default="adam", examples=["adam", "sgd"])
    learning_rate: FiniteFloat = Field(default=0.001, gt=0)
    momentum: FiniteFloat = Field(default=0.0, ge=0, lt=1)
    beta1: FiniteFloat = Field(default=0.9, ge=0, lt=1)
    beta2: FiniteFloat = Field(default=0.999, ge=0, lt=1)
    epsilon: FiniteFloat = Field(default=1e-8, gt=0)


class TrainingSpec(_Strict):
    epochs: int = Field(default=10, ge=1)
    batch_size: int = Field(default=32, ge=1)
    validation_split: FiniteFloat = Field(default=0.2, ge=0, lt=1)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    shuffle: bool = True


# Body of POST /v1/jobs.
class TrainingJobCreate(_Strict):
    dataset: str = Field(
        description="a built-in dataset's name or an uploaded dataset's id",
        examples=["digits"],
        max_length=100,
    )
    network: NetworkSpec
    loss: str = Field(examples=["cross_entropy", "mse"])
    optimizer: OptimizerSpec = Field(default_factory=OptimizerSpec)
    training: TrainingSpec = Field(default_factory=TrainingSpec)
    dtype: Literal["float32", "float64"] = "float32"


JobStatusName = Literal["queued", "running", "succeeded", "failed", "cancelled"]


# A job as GET /v1/jobs/{id} returns it.
class TrainingJobPublic(BaseModel):
    id: uuid.UUID
    dataset: str
    status: JobStatusName
    epoch: int
    epochs: int
    progress: float
    metrics: dict[str, float | None] | None
    error: str | None
    cancel_requested: bool
    model_id: uuid.UUID | None
    spec: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime


class TrainingJobsPublic(BaseModel):
    data: list[TrainingJobPublic]
    count: int


class EpochMetricsPublic(BaseModel):
    epoch: int
    attempt: int
    metrics: dict[str, float | None]
    created_at: datetime


class EpochMetricsListPublic(BaseModel):
    data: list[EpochMetricsPublic]
    count: int


# A dataset in GET /v1/datasets and the answer to an upload.
class DatasetPublic(BaseModel):
    id: str
    name: str
    builtin: bool
    task: Literal["classification", "regression"]
    target: str
    n_rows: int
    n_features: int
    features: list[str]
    classes: list[Any] | None


class DatasetsPublic(BaseModel):
    data: list[DatasetPublic]
    count: int


class ModelPublic(BaseModel):
    id: uuid.UUID
    job_id: uuid.UUID
    task: Literal["classification", "regression"]
    features: list[str]
    classes: list[Any] | None
    spec: dict[str, Any]
    metrics: dict[str, float | None] | None
    weights_sha256: str
    created_at: datetime


# Body of POST /v1/models/{id}/predict: raw feature values, one list per row.
class PredictRequest(_Strict):
    inputs: list[list[FiniteFloat]] = Field(min_length=1)


class PredictResponse(BaseModel):
    predictions: list[Any]
    probabilities: list[list[float]] | None = None


class Health(BaseModel):
    status: Literal["ok"]
