"""Who is asking: the tenant behind the request's API key.

``Authorization: Bearer <key>`` names a tenant. With ``DESCENT_AUTH=required``
(the docker-compose default) every ``/v1`` request must carry a live key;
with ``optional`` (the embedded default, which listens on loopback only) a
request without one acts as the default tenant. A key that is sent must be
valid either way: a wrong key is never quietly ignored.
"""

import uuid
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from api.deps import SessionDep, SettingsDep
from api.errors import ProblemError, render_problem
from persistence.models import DEFAULT_TENANT_ID
from persistence.tenants import authenticate


class UnauthorizedError(ProblemError):
    """The request needs a valid API key."""

    status, slug, title = 401, "unauthorized", "Unauthorized"
    headers = {"WWW-Authenticate": 'Bearer realm="descent"'}


# The dashboard's sign-in keeps the key here (api/routes/login.py).
KEY_COOKIE = "descent_key"


def current_tenant(
    request: Request, session: SessionDep, settings: SettingsDep
) -> uuid.UUID:
    header = request.headers.get("authorization")
    cookie = request.cookies.get(KEY_COOKIE)
    if header is None and cookie:
        header = f"Bearer {cookie}"
    if header is None:
        if settings.auth == "required":
            raise UnauthorizedError(
                "this server needs an API key: send Authorization: Bearer <key> "
                "(make one with python -m persistence.tenants create)",
                field="Authorization",
            )
        return DEFAULT_TENANT_ID
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError(
            "the Authorization header must read: Bearer <key>", field="Authorization"
        )
    tenant = authenticate(session, token.strip())
    if tenant is None:
        raise UnauthorizedError(
            "the API key is not valid, or it was revoked", field="Authorization"
        )
    return tenant


TenantDep = Annotated[uuid.UUID, Depends(current_tenant)]


async def on_unauthorized(request: Request, error: Exception) -> Response:
    """A browser asking for a dashboard page is sent to sign in; an API
    client gets the problem document."""
    assert isinstance(error, UnauthorizedError)
    page = not request.url.path.startswith("/v1/")
    if page and "text/html" in request.headers.get("accept", ""):
        return RedirectResponse("/login", status_code=303)
    return await render_problem(request, error)
