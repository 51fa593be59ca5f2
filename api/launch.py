"""``make run``: migrate, start a supervised Celery worker, serve the API.

With no ``DESCENT_DATABASE_URL`` or ``DESCENT_BROKER_URL`` set this is the
embedded default: SQLite and a folder-based broker under ``DESCENT_DATA_DIR``,
nothing else to install.
"""

import ipaddress
import os
import signal
import subprocess
import sys
import threading
import time

import structlog
import uvicorn

from persistence.logs import configure_logging
from persistence.migrate import upgrade
from persistence.settings import get_settings

log = structlog.get_logger(__name__)

# A worker that dies within this many seconds of starting is restarted after
# a growing pause, so a broken setup does not spin the CPU.
QUICK_DEATH_SECONDS = 10.0


def worker_command(queue: str = "cpu", concurrency: int = 1) -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", "worker.app", "worker",
        "--queues", queue, "--concurrency", str(concurrency), "--loglevel", "INFO",
        "--without-gossip", "--without-mingle",
        "--hostname", f"{queue}-{os.getpid()}@%h",
    ]  # fmt: skip


class WorkerSupervisor:
    """Keeps one worker process alive and restarts it when it dies (the job it
    was training is resumed from its checkpoint by a reaper)."""

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.process: subprocess.Popen[bytes] | None = None
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        pause = 1.0
        while not self.stopping.is_set():
            started = time.monotonic()
            # Its own session: a Ctrl-C or SIGTERM meant for the service reaches
            # the launcher, which then stops the worker in order.
            self.process = subprocess.Popen(self.command, start_new_session=True)
            log.info("worker.started", pid=self.process.pid)
            code = self.process.wait()
            if self.stopping.is_set():
                return
            lived = time.monotonic() - started
            pause = min(pause * 2, 30.0) if lived < QUICK_DEATH_SECONDS else 1.0
            log.warning("worker.died", exit_code=code, restart_in_s=pause)
            self.stopping.wait(pause)

    def stop(self, timeout_s: float = 30.0) -> None:
        self.stopping.set()
        process = self.process
        if process is None or process.poll() is not None:
            return
        # SIGTERM: a training job stores its checkpoint and goes back to the
        # queue (worker/shutdown.py), so the worker is gone in seconds.
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def main() -> None:
    configure_logging()
    settings = get_settings()
    if settings.auth != "required" and not _loopback(settings.host):
        # Without keys every request acts as the default tenant: fine on this
        # machine's loopback, never on an address others can reach.
        log.error(
            "launch.refused",
            host=settings.host,
            reason="DESCENT_AUTH is not 'required'; set it, or listen on 127.0.0.1",
        )
        raise SystemExit(2)
    upgrade()
    if settings.auth != "required":
        log.warning(
            "launch.no_keys_needed",
            host=settings.host,
            note="requests without an API key act as the default tenant; "
            "this server listens on loopback only",
        )
    if not settings.database_url:
        log.info(
            "embedded.default",
            database=settings.resolved_database_url,
            broker=f"{settings.resolved_broker_url} in {settings.broker_folder}",
        )
    supervisor = WorkerSupervisor(
        worker_command(concurrency=settings.worker_concurrency)
    )
    supervisor.start()
    # uvicorn re-raises SIGTERM/SIGINT once it has shut down; turning them into
    # SystemExit lets the finally clause below stop the worker before we exit.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _exit_on_signal)
    try:
        # The API logs every request itself (request.finished, with its id).
        uvicorn.run(
            "api.main:app",
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
        )
    finally:
        supervisor.stop()


if __name__ == "__main__":
    main()
