"""Errors a client sees: RFC 9457 problem documents with the offending field.

Domain errors carry their HTTP status; one set of handlers renders every error
in the same shape, and a 500 says nothing about the internals.
"""

import re
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"


class ProblemError(Exception):
    """A request that cannot be served, with the reason and the field at fault."""

    status = 400
    slug = "bad-request"
    title = "Bad request"
    headers: dict[str, str] = {}

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class NotFoundError(ProblemError):
    """The id names nothing this client can see."""

    status, slug, title = 404, "not-found", "Not found"


class InvalidInputError(ProblemError):
    """The request is well-formed but a value in it cannot be used."""

    status, slug, title = 422, "invalid-input", "Invalid input"


class ConflictError(ProblemError):
    """The resource is in a state that does not allow this."""

    status, slug, title = 409, "conflict", "Conflict"


class PayloadTooLargeError(ProblemError):
    """A size limit was exceeded."""

    status, slug, title = 413, "payload-too-large", "Payload too large"


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    field: str | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:descent:problem:{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if field is not None:
        body["field"] = field
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


# Pydantic puts the tried member of a union into an error's location, as in
# ("body", "loss", "literal['mse', ...]"); our own field names are snake_case.
_FIELD_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_TYPE_TAGS = {"str", "int", "float", "bool", "list", "dict", "none"}


def field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """("body", "network", "layers", 1, "units") -> "network.layers[1].units"."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "form"):
        parts = parts[1:]
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _FIELD_NAME.fullmatch(str(part)) and part not in _TYPE_TAGS:
            path += f".{part}" if path else str(part)
    return path


def _validation_detail(error: dict[str, Any]) -> str:
    field = field_path(error.get("loc", ()))
    message = str(error.get("msg", "invalid value"))
    return f"{field}: {message}" if field else message


async def render_problem(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ProblemError)
    response = problem(error.status, error.slug, error.title, error.detail, error.field)
    response.headers.update(error.headers)
    return response


async def _on_validation(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = list(error.errors())
    # With a union, pydantic reports each member's complaint; the one that went
    # deepest into the body names the field the client most likely meant.
    first = (
        max(errors, key=lambda e: len(field_path(e.get("loc", ())))) if errors else {}
    )
    return problem(
        422,
        "invalid-input",
        "Invalid input",
        "; ".join(_validation_detail(e) for e in errors[:5]) or "invalid request",
        field_path(first.get("loc", ())) or None,
        errors=[
            {"field": field_path(e.get("loc", ())), "message": str(e.get("msg"))}
            for e in errors[:20]
        ],
    )


_HTTP_PROBLEMS = {
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("payload-too-large", "Payload too large"),
}


async def _on_http(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    slug, title = _HTTP_PROBLEMS.get(
        error.status_code, (f"http-{error.status_code}", "HTTP error")
    )
    response = problem(error.status_code, slug, title, str(error.detail))
    if error.headers:
        response.headers.update(error.headers)
    return response


async def _on_database_down(request: Request, error: Exception) -> JSONResponse:
    # Connection-level failures only: the pool re-connects on its own (pre-ping),
    # so the client is told to retry rather than that the server broke.
    log.warning("database.unavailable", path=request.url.path, error=str(error)[:200])
    response = problem(
        503,
        "database-unavailable",
        "Service unavailable",
        "the database cannot be reached right now; retry in a few seconds",
    )
    response.headers["Retry-After"] = "5"
    return response


async def _on_conflict(request: Request, error: Exception) -> JSONResponse:
    # A unique key taken by a request that committed first, e.g. two first
    # tries racing with one Idempotency-Key: nothing of this one was kept.
    log.info("request.conflict", path=request.url.path)
    return problem(
        409,
        "conflict",
        "Conflict",
        "another request changed the same thing at the same time and won; "
        "nothing of this one was kept: retry it",
    )


async def _on_crash(request: Request, error: Exception) -> JSONResponse:
    log.error("request.crashed", path=request.url.path, exc_info=error)
    return problem(
        500, "internal", "Internal error", "the server failed; the error is logged"
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, render_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(IntegrityError, _on_conflict)
    app.add_exception_handler(OperationalError, _on_database_down)
    app.add_exception_handler(InterfaceError, _on_database_down)
    app.add_exception_handler(Exception, _on_crash)
