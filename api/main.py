"""The FastAPI application: ``uvicorn api.main:app``."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from api.auth import UnauthorizedError, on_unauthorized
from api.body_limit import BodyLimit
from api.errors import install_error_handlers
from api.observability import Telemetry
from api.openapi import install_problem_docs
from api.request_logs import RequestContext, bind_path_ids
from api.routes import (
    dashboard,
    datasets,
    events,
    health,
    jobs,
    login,
    models,
    ops,
)
from api.services.predictions import ModelCache, compile_in_background
from persistence.broker import make_celery
from persistence.logs import configure_logging
from persistence.settings import get_settings

STATIC = Path(__file__).parent / "static"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    compile_in_background()
    yield


def create_app() -> FastAPI:
    configure_logging()
    settings = get_settings()
    app = FastAPI(
        title="Descent",
        version="0.1.0",
        summary="Training as a service: send a network spec and data, get a model.",
        dependencies=[Depends(bind_path_ids)],
        lifespan=lifespan,
    )
    app.state.celery = make_celery(settings)
    app.state.models = ModelCache(settings.model_cache_size)
    app.state.telemetry = Telemetry(app.state.celery)
    install_error_handlers(app)
    app.add_exception_handler(UnauthorizedError, on_unauthorized)
    install_problem_docs(app)
    for module in (health, ops, datasets, jobs, events, models, dashboard, login):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.state.telemetry.instrument(app)
    app.add_middleware(BodyLimit)
    # Added last, so it is outermost: every other layer logs inside its context.
    app.add_middleware(RequestContext)
    return app


app = create_app()
