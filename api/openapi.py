"""The OpenAPI document says what errors really look like.

FastAPI documents validation errors as its own ``HTTPValidationError``; this
service answers every error, validation included, with an RFC 9457 problem
document. The schema is rewritten once, so that clients and fuzzers checking
responses against it see the truth: each error response, and a ``default``
for the rest, is ``application/problem+json`` with the ``Problem`` schema.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "a stable URI for the kind"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "what is wrong and the fix"},
        "field": {"type": "string", "description": "the offending field"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}
_PROBLEM_CONTENT = {
    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
}


def _document(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is not None:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        routes=app.routes,
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path in document.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    response["content"] = _PROBLEM_CONTENT
            responses["default"] = {
                "description": "An error, as an RFC 9457 problem document",
                "content": _PROBLEM_CONTENT,
            }
    app.openapi_schema = document
    return document


def install_problem_docs(app: FastAPI) -> None:
    app.openapi = lambda: _document(app)  # type: ignore[method-assign]
