"""Creating training jobs: validate the spec against the dataset, store, send."""

import uuid
from typing import Any

import structlog
from celery import Celery
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.deps import on_commit
from api.errors import InvalidInputError, NotFoundError
from api.job_spec import InlineDataset, TrainingJobCreate
from api.schemas import TrainingJobPublic
from api.services.uploads import ingest_inline
from core import ConfigError, FitConfig
from persistence import datasets, workers
from persistence.broker import CPU_QUEUE, GPU_QUEUE, RUN_JOB_TASK
from persistence.models import JobStatus, TrainedModel, TrainingJob
from persistence.settings import Settings

log = structlog.get_logger(__name__)


def resolve_dataset(
    session: Session, ref: str, tenant: uuid.UUID
) -> datasets.DatasetInfo:
    parsed = datasets.parse_ref(ref)
    if parsed is None:
        names = ", ".join(datasets.BUILTIN_DATASETS)
        raise InvalidInputError(
            f"dataset {ref!r} is neither a built-in dataset ({names}) "
            "nor an uploaded dataset's id",
            field="dataset",
        )
    info = datasets.find_info(session, parsed, tenant)
    if info is None:
        raise NotFoundError(f"dataset {ref} does not exist", field="dataset")
    return info


def _check_limits(config: FitConfig, n_features: int, settings: Settings) -> None:
    layers = config.network.layers
    if len(layers) > settings.max_layers:
        raise InvalidInputError(
            f"the network has {len(layers)} layers; the limit is "
            f"{settings.max_layers} (DESCENT_MAX_LAYERS)",
            field="network.layers",
        )
    width, parameters = n_features, 0
    for index, layer in enumerate(layers):
        if layer.type != "dense" or layer.units is None:
            # batch_norm keeps two numbers per unit; dropout none.
            parameters += 2 * width if layer.type == "batch_norm" else 0
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
    training = config.training
    if training.epochs > settings.max_epochs:
        raise InvalidInputError(
            f"epochs is {training.epochs}; the limit is {settings.max_epochs} "
            "(DESCENT_MAX_EPOCHS)",
            field="training.epochs",
        )
    if training.batch_size > settings.max_batch_size:
        raise InvalidInputError(
            f"batch_size is {training.batch_size}; the limit is "
            f"{settings.max_batch_size} (DESCENT_MAX_BATCH_SIZE)",
            field="training.batch_size",
        )


def _resolve_queue(session: Session, device: str) -> str:
    if device == "cpu":
        return CPU_QUEUE
    if GPU_QUEUE in workers.live_queues(session):
        return GPU_QUEUE
    if device == "auto":
        return CPU_QUEUE
    raise InvalidInputError(
        'device "gpu" was asked for, but no GPU worker is running on this '
        "deployment; start one (docker compose --profile gpu up) or use device "
        '"cpu" or "auto"',
        field="device",
    )


def fit_config(spec: TrainingJobCreate, info: datasets.DatasetInfo) -> FitConfig:
    """The spec in core's words, checked against the dataset."""
    body: dict[str, Any] = spec.model_dump(
        exclude_unset=True, exclude_none=True, exclude={"dataset", "device"}
    )
    body["task"] = info.task
    n_classes = len(info.classes) if info.classes is not None else None
    try:
        config = FitConfig.from_dict(body)
        config.validate(info.n_features, n_classes)
    except ConfigError as error:
        raise InvalidInputError(str(error), field=error.field) from error
    if info.empty:
        raise InvalidInputError(
            f"column {info.empty[0]!r} of the dataset has no values at all; upload "
            "it again with the column in ignore",
            field="dataset",
        )
    if info.missing and config.preprocessing.missing == "reject":
        (row, column), others = info.missing[0], info.missing[1:4]
        also = "".join(f", column {c!r} from data row {r}" for r, c in others)
        raise InvalidInputError(
            f"data row {row}, column {column!r}: the value is missing"
            f"{f' (also{also[1:]})' if also else ''}; the default policy rejects "
            "missing values: set preprocessing.missing to drop, mean, median or "
            "most_frequent",
            field="preprocessing.missing",
        )
    return config


def _check_queue_room(session: Session, tenant: uuid.UUID, settings: Settings) -> None:
    queued = session.scalar(
        select(func.count())
        .select_from(TrainingJob)
        .where(TrainingJob.tenant_id == tenant, TrainingJob.status == JobStatus.QUEUED)
    )
    limit = settings.max_queued_jobs_per_tenant
    if (queued or 0) >= limit:
        raise InvalidInputError(
            f"{queued} jobs of yours are queued already; the limit is {limit} "
            "(DESCENT_MAX_QUEUED_JOBS_PER_TENANT): wait for some to start",
            field="dataset",
        )


def create_job(
    session: Session,
    celery: Celery,
    spec: TrainingJobCreate,
    settings: Settings,
    tenant: uuid.UUID,
) -> TrainingJob:
    _check_queue_room(session, tenant, settings)
    if isinstance(spec.dataset, InlineDataset):
        inline = spec.dataset.inline
        row = ingest_inline(session, settings, inline, "dataset.inline", tenant)
        info = datasets.find_info(session, row.id)
        assert info is not None
    else:
        info = resolve_dataset(session, spec.dataset, tenant)
    config = fit_config(spec, info)
    _check_limits(config, info.n_features, settings)
    queue = _resolve_queue(session, spec.device)

    job = TrainingJob(
        id=uuid.uuid4(),
        tenant_id=tenant,
        dataset_id=None if info.builtin else uuid.UUID(info.id),
        builtin_dataset=info.id if info.builtin else None,
        # The resolved spec: every default spelled out, so a result always
        # carries the configuration that produced it.
        spec=config.to_dict(),
        device=spec.device,
        queue=queue,
        epochs=config.training.epochs,
    )
    session.add(job)
    session.flush()
    job_id, attempt = str(job.id), job.attempt

    def send() -> None:
        try:
            celery.send_task(RUN_JOB_TASK, args=[job_id, attempt], queue=queue)
        except Exception:
            # The row is committed and stays queued; it is not lost.
            log.exception("job.send_failed", job_id=job_id)
        else:
            log.info("job.queued", job_id=job_id, queue=queue)

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


def progress(job: TrainingJob) -> float:
    # Early stopping can end a job before its last epoch: done is done.
    if job.status == JobStatus.SUCCEEDED:
        return 1.0
    return round(job.epoch / job.epochs, 6) if job.epochs else 0.0


def to_public(job: TrainingJob, model_id: uuid.UUID | None) -> TrainingJobPublic:
    return TrainingJobPublic(
        id=job.id,
        dataset=(
            str(job.dataset_id or job.builtin_dataset)
            if job.dataset_id or job.builtin_dataset
            else None
        ),
        status=job.status,  # type: ignore[arg-type]
        epoch=job.epoch,
        epochs=job.epochs,
        progress=progress(job),
        metrics=job.metrics,
        error=job.error,
        warnings=job.warnings or [],
        device=job.device,  # type: ignore[arg-type]
        queue=job.queue,
        cancel_requested=job.cancel_requested,
        model_id=model_id,
        spec=job.spec,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        updated_at=job.updated_at,
    )
