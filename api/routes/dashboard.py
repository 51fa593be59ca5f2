"""The dashboard: server-rendered pages over the queries the API uses.

The pages read the database once to render; the job page then follows the
job through GET /v1/jobs/{id}/events and cancels through the API, and the
model page predicts through it, so the browser uses the public API only. A
page shows what the request's tenant may see, as the API does.
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.auth import TenantDep
from api.dashboard_views import (
    QUALITY_CURVES,
    headline,
    heat_map,
    pretty_json,
    templates,
)
from api.deps import SessionDep
from api.services import jobs as service
from persistence import jobs
from persistence.models import TrainedModel

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50


def _missing(request: Request, what: str) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "missing.html", {"what": what}, status_code=404
    )


@router.get("/", response_class=HTMLResponse)
def jobs_page(
    request: Request,
    session: SessionDep,
    tenant: TenantDep,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> HTMLResponse:
    """Jobs, newest first, with their status and headline metric."""
    rows, count = jobs.list_jobs(session, PAGE_SIZE, offset, tenant)
    models = service.models_by_job(session, [job.id for job in rows])
    listed = [
        (service.to_public(job, models.get(job.id)), headline(job.metrics))
        for job in rows
    ]
    context = {"jobs": listed, "count": count, "offset": offset, "page": PAGE_SIZE}
    return templates.TemplateResponse(request, "jobs.html", context)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(
    request: Request, job_id: uuid.UUID, session: SessionDep, tenant: TenantDep
) -> HTMLResponse:
    """One job: live curves, gradient flow and a cancel button."""
    job = jobs.tenant_job(session, job_id, tenant)
    if job is None:
        return _missing(request, f"job {job_id}")
    model = jobs.model_for_job(session, job.id)
    public = service.to_public(job, model.id if model else None)
    curve = QUALITY_CURVES[job.spec.get("task", "classification")]
    context = {"job": public, "task": job.spec.get("task"), "curve": curve}
    return templates.TemplateResponse(request, "job.html", context)


@router.get("/models/{model_id}", response_class=HTMLResponse)
def model_page(
    request: Request, model_id: uuid.UUID, session: SessionDep, tenant: TenantDep
) -> HTMLResponse:
    """One model: its spec, metrics, confusion matrix and a form to predict."""
    model = session.get(TrainedModel, model_id)
    # Another tenant's model is as absent as one that never existed.
    if model is None or model.tenant_id != tenant:
        return _missing(request, f"model {model_id}")
    context = {
        "model": model,
        "spec": pretty_json(model.spec),
        "cells": heat_map(model.confusion_matrix),
    }
    return templates.TemplateResponse(request, "model.html", context)
