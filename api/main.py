"""The FastAPI application: ``uvicorn api.main:app``."""

from fastapi import FastAPI

from api.errors import install_error_handlers
from api.routes import datasets, health, jobs, models
from api.services.predictions import ModelCache
from persistence.broker import make_celery
from persistence.logs import configure_logging
from persistence.settings import get_settings


def create_app() -> FastAPI:
    configure_logging()
    settings = get_settings()
    app = FastAPI(
        title="Descent",
        version="0.1.0",
        summary="Training as a service: send a network spec and data, get a model.",
    )
    app.state.celery = make_celery(settings)
    app.state.models = ModelCache(settings.model_cache_size)
    install_error_handlers(app)
    for module in (health, datasets, jobs, models):
        app.include_router(module.router)
    return app


app = create_app()
