"""The one error the client raises, read from the API's problem documents."""

from typing import Any

import httpx


class DescentError(Exception):
    """The API refused a request, or could not be reached or understood.

    ``status`` is the HTTP status (None when no answer came) and ``field`` the
    request field at fault, as the API's ``application/problem+json`` names it.
    """

    def __init__(
        self, message: str, status: int | None = None, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


def _detail(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    detail = body.get("detail")
    if isinstance(detail, str) and detail:
        return detail
    if isinstance(detail, list) and detail:
        # A framework's own validation list rather than Descent's problem shape.
        return "; ".join(str(item.get("msg", item)) for item in detail[:5])
    title = body.get("title")
    return str(title) if title else None


def error_from_response(response: httpx.Response) -> DescentError:
    """The DescentError for a 4xx or 5xx answer, with its detail and field."""
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = _detail(body)
    field = body.get("field") if isinstance(body, dict) else None
    if detail is None:
        text = response.text.strip().splitlines()[0][:200] if response.text else ""
        detail = f"HTTP {response.status_code} {response.reason_phrase}".strip()
        if text:
            detail += f": {text}"
    if response.status_code in (401, 403) and "key" not in detail.lower():
        detail += " (pass an API key with --key or DESCENT_API_KEY)"
    return DescentError(detail, status=response.status_code, field=field)
