import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse

from api import idempotent
from api.auth import TenantDep
from api.deps import SessionDep, SettingsDep
from api.errors import ConflictError, NotFoundError
from api.idempotent import IdempotencyKeyHeader
from api.job_spec import TrainingJobCreate
from api.schemas import (
    EpochMetricsListPublic,
    EpochMetricsPublic,
    TrainingJobPublic,
    TrainingJobsPublic,
)
from api.services import jobs as service
from persistence import jobs
from persistence.models import JobStatus

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

NOT_FOUND = {404: {"description": "No such job"}}


def _get(session: SessionDep, job_id: uuid.UUID, tenant: uuid.UUID):  # type: ignore[no-untyped-def]
    job = jobs.tenant_job(session, job_id, tenant)
    if job is None:
        raise NotFoundError(f"job {job_id} does not exist", field="job_id")
    return job


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TrainingJobPublic,
    responses={422: {"description": "The spec does not fit the dataset"}},
)
def create_job(
    body: TrainingJobCreate,
    session: SessionDep,
    settings: SettingsDep,
    tenant: TenantDep,
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """Queue a training job; poll the URL in the Location header."""
    replay = idempotent.replay(session, tenant, idempotency_key, request, body)
    if replay is not None:
        return replay
    job = service.create_job(session, request.app.state.celery, body, settings, tenant)
    public = service.to_public(job, None).model_dump(mode="json")
    location = f"/v1/jobs/{job.id}"
    idempotent.remember(
        session, tenant, idempotency_key, request, body, 202, public, location
    )
    return JSONResponse(public, status_code=202, headers={"Location": location})


@router.get("")
def list_jobs(
    session: SessionDep,
    tenant: TenantDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> TrainingJobsPublic:
    """Jobs, newest first."""
    rows, count = jobs.list_jobs(session, limit, offset, tenant)
    models = service.models_by_job(session, [job.id for job in rows])
    data = [service.to_public(job, models.get(job.id)) for job in rows]
    return TrainingJobsPublic(data=data, count=count)


@router.get("/{job_id}", responses=NOT_FOUND)
def get_job(
    job_id: uuid.UUID, session: SessionDep, tenant: TenantDep
) -> TrainingJobPublic:
    """A job's status, progress and latest metrics."""
    job = _get(session, job_id, tenant)
    model = jobs.model_for_job(session, job.id)
    return service.to_public(job, model.id if model else None)


@router.get("/{job_id}/metrics", responses=NOT_FOUND)
def get_job_metrics(
    job_id: uuid.UUID, session: SessionDep, tenant: TenantDep
) -> EpochMetricsListPublic:
    """Every epoch's metrics, in order."""
    _get(session, job_id, tenant)
    rows = jobs.epoch_history(session, job_id)
    data = [
        EpochMetricsPublic(
            epoch=row.epoch,
            attempt=row.attempt,
            metrics=row.metrics,
            layers=row.layers,
            created_at=row.created_at,
        )
        for row in rows
    ]
    return EpochMetricsListPublic(data=data, count=len(data))


@router.post(
    "/{job_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    responses={**NOT_FOUND, 409: {"description": "The job has already ended"}},
)
def cancel_job(
    job_id: uuid.UUID, session: SessionDep, tenant: TenantDep
) -> TrainingJobPublic:
    """Cancel a queued job at once, or ask the worker to stop a running one."""
    job = _get(session, job_id, tenant)
    if job.status in JobStatus.FINISHED:
        raise ConflictError(
            f"job {job_id} has already {job.status}; there is nothing to cancel",
            field="job_id",
        )
    jobs.request_cancel(session, job)
    session.refresh(job)
    model = jobs.model_for_job(session, job.id)
    return service.to_public(job, model.id if model else None)
