"""Signing the dashboard in: an API key kept in an HttpOnly cookie.

A browser cannot put an Authorization header on a page load or on an
EventSource, so the dashboard sends the key as a cookie instead. The cookie
is HttpOnly (no script reads it) and SameSite=Strict (no other site's page
can make the browser send it), which is what keeps cookie-authenticated POSTs
safe from cross-site requests.
"""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import KEY_COOKIE
from api.dashboard_views import templates
from api.deps import SessionDep
from persistence.tenants import authenticate

router = APIRouter(include_in_schema=False)

# A day: long enough for a working session, short enough to expire unseen.
COOKIE_SECONDS = 24 * 3600


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    """The sign-in form."""
    return templates.TemplateResponse(request, "login.html", {"error": None})


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    key: Annotated[str, Form(max_length=200)],
) -> Response:
    """Check the key, keep it in a cookie and go to the jobs."""
    if authenticate(session, key.strip()) is None:
        context = {"error": "That key is not valid, or it was revoked."}
        return templates.TemplateResponse(
            request, "login.html", context, status_code=401
        )
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        KEY_COOKIE,
        key.strip(),
        max_age=COOKIE_SECONDS,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def logout() -> Response:
    """Forget the key."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(KEY_COOKIE)
    return response
