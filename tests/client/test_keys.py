"""``descent keys create`` and ``revoke`` against the database, then the key
used on the API."""

from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from client.cli import app


def test_create_prints_a_working_key_and_revoke_ends_it(
    client: TestClient, data_dir: Path
) -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["keys", "create", "--tenant", "acme"])
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("dsk_")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/jobs", headers=headers).status_code == 200

    key_id = made.stderr.split()[1]
    revoked = runner.invoke(app, ["keys", "revoke", key_id])
    assert revoked.exit_code == 0, revoked.output
    assert client.get("/v1/jobs", headers=headers).status_code == 401
    again = runner.invoke(app, ["keys", "revoke", key_id])
    assert again.exit_code == 1
    assert "no live key" in again.stderr
