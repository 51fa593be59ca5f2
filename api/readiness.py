"""Readiness: the database answers SELECT 1 and the broker answers a question.

Each check runs in a worker thread under a deadline; a check that hangs is
abandoned rather than awaited, so the probe answers within CHECK_SECONDS even
while a dependency is stuck.
"""

from collections.abc import Callable

import anyio
import structlog
from celery import Celery
from sqlalchemy import text

from api import broker_status
from persistence.db import session_scope

log = structlog.get_logger(__name__)

# Kubernetes' default probe timeout is 1 s and compose's 30 s; 3 s sits
# between a slow answer and a dead dependency.
CHECK_SECONDS = 3.0


def check_database() -> None:
    with session_scope() as session:
        session.execute(text("SELECT 1"))


async def _state(name: str, check: Callable[[], None]) -> str:
    with anyio.move_on_after(CHECK_SECONDS):
        try:
            await anyio.to_thread.run_sync(check, abandon_on_cancel=True)
        except Exception as error:
            log.warning("readiness.down", dependency=name, error=str(error))
            # The class only: a driver's message can carry hosts and users.
            return f"down ({type(error).__name__})"
        return "ok"
    log.warning("readiness.timeout", dependency=name, after_s=CHECK_SECONDS)
    return f"down (no answer within {CHECK_SECONDS:g} s)"


async def run_checks(celery: Celery) -> dict[str, str]:
    """{"database": "ok" | "down (...)", "broker": ...}, checked concurrently."""
    checks: dict[str, Callable[[], None]] = {
        "database": check_database,
        "broker": lambda: broker_status.ping(celery),
    }
    states: dict[str, str] = {}

    async def run(name: str) -> None:
        states[name] = await _state(name, checks[name])

    async with anyio.create_task_group() as group:
        for name in checks:
            group.start_soon(run, name)
    return {name: states[name] for name in checks}
