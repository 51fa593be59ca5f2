from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from api import readiness
from api.errors import problem
from api.schemas import Readiness

router = APIRouter(tags=["operations"])


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"description": "A dependency is down; the body names it"}},
)
async def readyz(request: Request) -> Readiness | JSONResponse:
    """The database and the broker both answer."""
    checks = await readiness.run_checks(request.app.state.celery)
    down = [f"{name} {state}" for name, state in checks.items() if state != "ok"]
    if down:
        return problem(
            503,
            "not-ready",
            "Not ready",
            f"not ready: {'; '.join(down)}",
            checks=checks,
        )
    return Readiness(status="ready", checks=checks)


# A plain def: the collectors query the database and the broker, so the scrape
# runs in a worker thread, never on the event loop (CASES C11).
@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
def metrics(request: Request) -> Response:
    """Prometheus metrics: HTTP traffic, jobs, queues, epochs, predictions."""
    body = request.app.state.telemetry.scrape()
    return Response(body, media_type=CONTENT_TYPE_LATEST)
