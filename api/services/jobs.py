"""Creating training jobs: validate the spec against the dataset, store, send."""

import uuid
from typing import Any

import structlog
from celery import Celery
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import on_commit
from api.errors import InvalidInputError, NotFoundError
from api.schemas import TrainingJobCreate, TrainingJobPublic
from core import ConfigError, FitConfig
from persistence import datasets
from persistence.broker import CPU_QUEUE, RUN_JOB_TASK
from persistence.models import TrainedModel, TrainingJob
from persistence.settings import Settings

log = structlog.get_logger(__name__)


def resolve_dataset(session: Session, ref: str) -> datasets.DatasetInfo:
    parsed = datasets.parse_ref(ref)
    if parsed is None:
        names = ", ".join(datasets.BUILTIN_DATASETS)
        raise InvalidInputError(
            f"dataset {ref!r} is neither a built-in dataset ({names}) "
            "nor an uploaded dataset's id",
            field="dataset",
        )
    info = datasets.find_info(session, parsed)
    if info is None:
        raise NotFoundError(f"dataset {ref} does not exist", field="dataset")
    return info


def _check_limits(spec: TrainingJobCreate, n_features: int, settings: Settings) -> None:
    layers = spec.network.layers
    if len(layers) > settings.max_layers:
        raise InvalidInputError(
            f"the network has {len(layers)} layers; the limit is "
            f"{settings.max_layers} (DESCENT_MAX_LAYERS)",
            field="network.layers",
        )
    width, parameters = n_features, 0
    for index, layer in enumerate(layers):
        if layer.units is None:
            continue
        if layer.units > settings.max_units:
            raise InvalidInputError(
                f"units is {layer.units}; the limit is {settings.max_units} "
                "(DESCENT_MAX_UNITS)",
                field=f"network.layers[{index}].units",
            )
        parameters += width * layer.units + layer.units
        width = layer.units
    if parameters > settings.max_parameters:
        raise InvalidInputError(
            f"the network has {parameters} parameters; the limit is "
            f"{settings.max_parameters} (DESCENT_MAX_PARAMETERS)",
            field="network.layers",
        )
    if spec.training.epochs > settings.max_epochs:
        raise InvalidInputError(
            f"epochs is {spec.training.epochs}; the limit is {settings.max_epochs} "
            "(DESCENT_MAX_EPOCHS)",
            field="training.epochs",
        )
    if spec.training.batch_size > settings.max_batch_size:
        raise InvalidInputError(
            f"batch_size is {spec.training.batch_size}; the limit is "
            f"{settings.max_batch_size} (DESCENT_MAX_BATCH_SIZE)",
            field="training.batch_size",
        )


def core_spec(spec: TrainingJobCreate, task: str) -> dict[str, Any]:
    """The job's spec in core's words: what the worker hands to ``fit``."""
    body = spec.model_dump(exclude={"dataset"})
    body["task"] = task
    return body


def create_job(
    session: Session, celery: Celery, spec: TrainingJobCreate, settings: Settings
) -> TrainingJob:
    info = resolve_dataset(session, spec.dataset)
    _check_limits(spec, info.n_features, settings)
    body = core_spec(spec, info.task)
    n_classes = len(info.classes) if info.classes is not None else None
    try:
        FitConfig.from_dict(body).validate(info.n_features, n_classes)
    except ConfigError as error:
        raise InvalidInputError(str(error), field=error.field) from error

    job = TrainingJob(
        id=uuid.uuid4(),
        dataset_id=None if info.builtin else uuid.UUID(info.id),
        builtin_dataset=info.id if info.builtin else None,
        spec=body,
        queue=CPU_QUEUE,
        epochs=spec.training.epochs,
    )
    session.add(job)
    session.flush()
    job_id, attempt = str(job.id), job.attempt

    def send() -> None:
        try:
            celery.send_task(RUN_JOB_TASK, args=[job_id, attempt], queue=CPU_QUEUE)
        except Exception:
            # The row is committed and stays queued; it is not lost.
            log.exception("job.send_failed", job_id=job_id)
        else:
            log.info("job.queued", job_id=job_id, queue=CPU_QUEUE)

    on_commit(session, send)
    return job


def models_by_job(
    session: Session, job_ids: list[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    if not job_ids:
        return {}
    rows = session.execute(
        select(TrainedModel.job_id, TrainedModel.id).where(
            TrainedModel.job_id.in_(job_ids)
        )
    )
    return {job_id: model_id for job_id, model_id in rows}


def to_public(job: TrainingJob, model_id: uuid.UUID | None) -> TrainingJobPublic:
    return TrainingJobPublic(
        id=job.id,
        dataset=str(job.dataset_id or job.builtin_dataset),
        status=job.status,  # type: ignore[arg-type]
        epoch=job.epoch,
        epochs=job.epochs,
        progress=round(job.epoch / job.epochs, 6) if job.epochs else 0.0,
        metrics=job.metrics,
        error=job.error,
        cancel_requested=job.cancel_requested,
        model_id=model_id,
        spec=job.spec,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        updated_at=job.updated_at,
    )
