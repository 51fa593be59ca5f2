"""Dependencies the route handlers declare: a session per request, settings."""

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from persistence.db import session_factory
from persistence.settings import Settings, get_settings


def on_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the request's transaction has committed."""
    session.info.setdefault("on_commit", []).append(callback)


def get_session() -> Iterator[Session]:
    session = session_factory()()
    try:
        yield session
        session.commit()
        # A task is sent only after its row is committed, so the worker never
        # looks for a job that is not there yet.
        for callback in session.info.pop("on_commit", []):
            callback()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# scope="function" commits before the response is sent, so a client that reads
# back what it just created always finds it.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
