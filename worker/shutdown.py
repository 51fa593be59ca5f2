"""Telling the pool process that trains a job that its worker is stopping.

Celery's warm shutdown (SIGTERM to the worker's main process) waits for the
running task, which may train for hours. Instead the main process sets a byte
in a memory map it shares with every pool process it forks; the training loop
reads it before each mini-batch, stores a checkpoint at the end of its epoch
(or stops mid-epoch after DESCENT_SHUTDOWN_GRACE_SECONDS), requeues its job as
the next attempt and returns, so the worker exits within seconds.

A SIGTERM that reaches the pool process itself (a whole process group or
cgroup signalled, as systemd does) asks the same of that process alone while
it trains, and ends an idle pool process as before.
"""

import mmap
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager

from celery.signals import worker_process_init, worker_shutting_down

# Anonymous and shared: made at import in the main process, before the pool
# forks, so every pool process reads what the main process writes.
_flag = mmap.mmap(-1, 1)
# This process's own SIGTERM; never shared, so that one pool process told to
# stop (a hard time limit sends SIGTERM before SIGKILL) leaves the rest be.
_signalled = False
_training = False


def requested() -> bool:
    return _signalled or _flag[0] == 1


def request() -> None:
    """Ask every pool process of this worker to checkpoint and requeue."""
    _flag[0] = 1


@contextmanager
def training() -> Iterator[None]:
    """Marks this process as training, so a SIGTERM asks it to stop in order."""
    global _training, _signalled
    _training = True
    try:
        yield
    finally:
        _training = False
        if _signalled:
            # The job went back to the queue; this process may take the next.
            _signalled = False
            signal.signal(signal.SIGTERM, _on_sigterm)


@worker_shutting_down.connect
def _on_worker_shutting_down(**_: object) -> None:
    # Runs in the main process's signal handler: a byte write, nothing more.
    request()


def _on_sigterm(signum: int, _frame: object) -> None:
    global _signalled
    # One request; a second SIGTERM ends the process the usual way.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if not _training:
        os.kill(os.getpid(), signal.SIGTERM)
        return
    _signalled = True


@worker_process_init.connect
def _install_in_pool_process(**_: object) -> None:
    signal.signal(signal.SIGTERM, _on_sigterm)
