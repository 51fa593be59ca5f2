"""``descent keys``: make and revoke API keys, on a machine that reaches the
database (the keys live there, hashed; there is no HTTP endpoint for them)."""

import uuid
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

keys_app = typer.Typer(
    help="Create and revoke API keys (needs DESCENT_DATABASE_URL, not the API).",
    no_args_is_help=True,
)
out = Console()
err = Console(stderr=True)


def _say(message: str, console: Console, style: str = "") -> None:
    console.print(Text(message, style=style), soft_wrap=True, highlight=False)


@keys_app.command("create")
def create(
    tenant: Annotated[str, typer.Option(help="The tenant's name; made if new.")],
    label: Annotated[str, typer.Option(help="What the key is for.")] = "",
) -> None:
    """Make a key for a tenant and print it once."""
    from persistence.db import session_scope
    from persistence.tenants import create_key

    try:
        with session_scope() as session:
            key, token = create_key(session, tenant, label)
    except Exception as error:  # one readable line, never a traceback
        _say(f"error: could not reach the database: {error}", err, "red")
        raise typer.Exit(1) from None
    _say(
        f"key {key.id} for tenant {tenant!r}; store it now, it is not shown again:", err
    )
    _say(token, out)


@keys_app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id, as create printed.")],
) -> None:
    """Revoke a key: requests with it are refused from now on."""
    from persistence.db import session_scope
    from persistence.tenants import revoke_key

    try:
        parsed = uuid.UUID(key_id)
    except ValueError:
        _say(f"error: {key_id!r} is not a key id (a UUID)", err, "red")
        raise typer.Exit(1) from None
    with session_scope() as session:
        revoked = revoke_key(session, parsed)
    if not revoked:
        _say(f"error: no live key {key_id}", err, "red")
        raise typer.Exit(1)
    _say(f"revoked {key_id}", err)
