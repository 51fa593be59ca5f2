"""docker-compose.yml, .env.example and the Dockerfile agree with the code.

No Docker engine is needed: the files are read as YAML and text. When a
compose client is on the PATH, one more test asks it to validate the file.
"""

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from persistence.settings import Settings

ROOT = Path(__file__).resolve().parents[2]

# Services that run once and exit; every other service runs until stopped.
ONE_SHOT = {"migrate"}
# Services that run Descent's code against the shared database and broker.
DESCENT_SERVICES = ("api", "migrate", "worker", "worker-gpu")
WORKERS = ("worker", "worker-gpu")
SHARED_URLS = ("DESCENT_DATABASE_URL", "DESCENT_BROKER_URL")
# Settings that a later release adds; compose passes them already.
ARRIVING_LATER = {"DESCENT_AUTH"}
REQUIRED_VARIABLES = ("POSTGRES_PASSWORD",)

# ${VAR}, ${VAR:-default}, ${VAR:?message} or $VAR, but not the escaped $$VAR.
INTERPOLATION = re.compile(r"(?<!\$)\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_]\w*))")


@pytest.fixture(scope="module")
def compose_text() -> str:
    return (ROOT / "docker-compose.yml").read_text()


@pytest.fixture(scope="module")
def compose(compose_text: str) -> dict[str, Any]:
    return yaml.safe_load(compose_text)


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def environment(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.partition("=")[::2] for item in raw)
    return {str(name): str(value) for name, value in raw.items()}


def strings(node: Any) -> list[str]:
    """Every key and value in a parsed YAML tree that Compose interpolates."""
    if isinstance(node, dict):
        return [
            text
            for key, value in node.items()
            for text in strings(key) + strings(value)
        ]
    if isinstance(node, list):
        return [text for item in node for text in strings(item)]
    return [node] if isinstance(node, str) else []


def long_running(services: dict[str, dict[str, Any]]) -> list[str]:
    return [name for name in services if name not in ONE_SHOT]


def test_every_long_running_service_has_a_healthcheck(services: dict) -> None:
    # Protects depends_on conditions and restarts: without a check, "up" is a guess.
    for name in long_running(services):
        check = services[name].get("healthcheck") or {}
        assert not check.get("disable"), f"{name}: healthcheck disabled"
        assert check.get("test") not in (None, ["NONE"]), f"{name}: no healthcheck"


def test_long_running_services_restart_and_one_shots_do_not(services: dict) -> None:
    # Protects against a crashed API staying down, or migrate re-running forever.
    for name in long_running(services):
        assert services[name].get("restart") == "unless-stopped", name
    for name in ONE_SHOT:
        assert services[name].get("restart", "no") == "no", name


def test_descent_variables_are_settings_fields(services: dict) -> None:
    # Protects against a misspelt DESCENT_* variable that Settings silently ignores.
    known = {f"DESCENT_{name.upper()}" for name in Settings.model_fields}
    known |= ARRIVING_LATER
    for name, service in services.items():
        unknown = {
            variable
            for variable in environment(service)
            if variable.startswith("DESCENT_") and variable not in known
        }
        assert not unknown, f"{name} receives {sorted(unknown)}, not in Settings"


def test_interpolated_variables_are_in_env_example(
    compose: dict[str, Any], env_example: dict[str, str]
) -> None:
    # Protects a first `docker compose up` from a variable nobody documented.
    used = {a or b for text in strings(compose) for a, b in INTERPOLATION.findall(text)}
    assert used, "the compose file interpolates nothing; the pattern is broken"
    missing = sorted(used - set(env_example))
    assert not missing, f"add {missing} to .env.example"


def test_required_variables_fail_when_unset(compose_text: str) -> None:
    # Protects against starting PostgreSQL with an empty or default password.
    for variable in REQUIRED_VARIABLES:
        uses = re.findall(r"\$\{" + variable + r"(:?[-?+]?)", compose_text)
        assert uses, f"{variable} is not used"
        assert set(uses) == {":?"}, f"use ${{{variable}:?message}} everywhere"


def test_env_example_holds_placeholders_not_secrets(
    env_example: dict[str, str],
) -> None:
    # Protects against committing a real password in the example file.
    for variable in REQUIRED_VARIABLES:
        assert env_example[variable] == "change-me", variable


def test_services_share_one_database_and_broker(services: dict) -> None:
    # Protects against an API and a worker that never see each other's jobs.
    for variable in SHARED_URLS:
        values = {
            name: environment(services[name]).get(variable) for name in DESCENT_SERVICES
        }
        assert None not in values.values(), f"{variable} missing: {values}"
        assert len(set(values.values())) == 1, f"{variable} differs: {values}"
    database = environment(services["api"])["DESCENT_DATABASE_URL"]
    assert database.startswith("postgresql+psycopg://")
    assert environment(services["api"])["DESCENT_BROKER_URL"].startswith("redis://")


def test_api_and_workers_wait_for_healthy_db_and_redis(services: dict) -> None:
    # Protects the first requests and tasks from racing a database still starting.
    for name in ("api", *WORKERS):
        depends = services[name].get("depends_on") or {}
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions"
        for dependency in ("db", "redis"):
            condition = (depends.get(dependency) or {}).get("condition")
            assert condition == "service_healthy", f"{name} -> {dependency}"


def test_api_and_workers_start_after_migrations(services: dict) -> None:
    # Protects against serving or training on a schema one revision behind.
    for name in ("api", *WORKERS):
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully", name
    assert services["migrate"]["command"][-1] == "persistence.migrate"


def test_cpu_worker_can_be_scaled(services: dict) -> None:
    # Protects `--scale worker=N`: a fixed name or host port allows one copy only.
    worker = services["worker"]
    assert "container_name" not in worker
    assert "ports" not in worker
    assert "--queues=cpu" in worker["command"]


def test_gpu_worker_needs_profile_and_device(services: dict) -> None:
    # Protects CPU-only hosts from a GPU service, and the GPU worker from no GPU.
    gpu = services["worker-gpu"]
    assert gpu.get("profiles") == ["gpu"]
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert any(
        device.get("driver") == "nvidia" and "gpu" in device.get("capabilities", [])
        for device in devices
    )
    assert "--queues=gpu" in gpu["command"]
    # CuPy must not be initialised in a process that forks.
    assert "--pool=solo" in gpu["command"]
    assert gpu["build"]["args"]["DEVICE"] == "gpu"


def test_dockerfile_final_stage_runs_as_non_root() -> None:
    # Protects the host from a container process that runs as root.
    text = (ROOT / "Dockerfile").read_text()
    stages = re.split(r"(?im)^FROM\s", text)
    assert len(stages) >= 3, "the Dockerfile should have a builder and a runtime"
    users = re.findall(r"(?im)^USER\s+(\S+)", stages[-1])
    assert users, "the final stage has no USER line"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), f"the final stage runs as {users[-1]}"


def _compose_command() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run(
            [docker, "compose", "version"], capture_output=True
        ).returncode
        == 0
    ):
        return [docker, "compose"]
    return None


def test_compose_client_accepts_the_file() -> None:
    # Protects against YAML that parses but that Compose itself rejects.
    command = _compose_command()
    if command is None:
        pytest.skip("no compose client on the PATH (docker compose or docker-compose)")
    result = subprocess.run(
        [*command, "--env-file", ".env.example", "--profile", "gpu", "config", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
