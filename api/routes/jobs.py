import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from api.deps import SessionDep, SettingsDep
from api.errors import NotFoundError
from api.job_spec import TrainingJobCreate
from api.schemas import (
    EpochMetricsListPublic,
    EpochMetricsPublic,
    TrainingJobPublic,
    TrainingJobsPublic,
)
from api.services import jobs as service
from persistence import jobs

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

NOT_FOUND = {404: {"description": "No such job"}}


def _get(session: SessionDep, job_id: uuid.UUID):  # type: ignore[no-untyped-def]
    job = jobs.get_job(session, job_id)
    if job is None:
        raise NotFoundError(f"job {job_id} does not exist", field="job_id")
    return job


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    responses={422: {"description": "The spec does not fit the dataset"}},
)
def create_job(
    body: TrainingJobCreate,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
) -> TrainingJobPublic:
    """Queue a training job; poll the URL in the Location header."""
    job = service.create_job(session, request.app.state.celery, body, settings)
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return service.to_public(job, None)


@router.get("")
def list_jobs(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> TrainingJobsPublic:
    """Jobs, newest first."""
    rows, count = jobs.list_jobs(session, limit, offset)
    models = service.models_by_job(session, [job.id for job in rows])
    data = [service.to_public(job, models.get(job.id)) for job in rows]
    return TrainingJobsPublic(data=data, count=count)


@router.get("/{job_id}", responses=NOT_FOUND)
def get_job(job_id: uuid.UUID, session: SessionDep) -> TrainingJobPublic:
    """A job's status, progress and latest metrics."""
    job = _get(session, job_id)
    model = jobs.model_for_job(session, job.id)
    return service.to_public(job, model.id if model else None)


@router.get("/{job_id}/metrics", responses=NOT_FOUND)
def get_job_metrics(job_id: uuid.UUID, session: SessionDep) -> EpochMetricsListPublic:
    """Every epoch's metrics, in order."""
    _get(session, job_id)
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
    "/{job_id}/cancel", status_code=status.HTTP_202_ACCEPTED, responses=NOT_FOUND
)
def cancel_job(job_id: uuid.UUID, session: SessionDep) -> TrainingJobPublic:
    """Cancel a queued job at once, or ask the worker to stop a running one."""
    job = _get(session, job_id)
    jobs.request_cancel(session, job)
    session.refresh(job)
    model = jobs.model_for_job(session, job.id)
    return service.to_public(job, model.id if model else None)
