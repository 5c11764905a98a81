"""Several worker processes on one port: ``jwtkit serve --workers N`` (issue 18).

The parent binds the listening socket once and starts ``N`` worker processes (``spawn``: no
state of the parent is shared by accident), each of which opens the store and serves the
inherited socket with uvicorn and the slow-client guard; the kernel hands each new connection
to one of the workers waiting in ``accept``. The parent only supervises:

- a worker that exits while the service runs (a crash, ``kill -9``, the OOM killer) is
  replaced at once; one that keeps dying within seconds of its start (a store that went away
  for good) stops the service after ``_CRASH_LIMIT`` attempts in a row, with an error;
- ``SIGTERM`` or ``SIGINT`` stops gracefully: every worker gets ``SIGTERM``, stops accepting,
  finishes the requests it has read (their answers are sent, their writes committed), closes
  idle keep-alive connections and exits; a worker still busy after ``stop_timeout`` seconds is
  killed;
- a worker whose parent is gone (even by ``kill -9``) stops by itself, gracefully, within
  about a second, rather than serving the port unsupervised (:func:`stop_with_parent`).

Each worker keeps its own caches, pools and connection limit, exactly as separate instances
on one store do (issue 10 put the rate-limit counters in the shared store for that reason).
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any, Final

from jwtkit.errors import KeyStoreError

__all__ = ["WorkerCrashError", "run_workers", "stop_with_parent"]

logger = logging.getLogger("jwtkit.server")

_CRASH_LIMIT: Final = 5  # Deaths in a row, each within _QUICK_DEATH seconds of the start.
_QUICK_DEATH: Final = 5.0


class WorkerCrashError(KeyStoreError):
    """The workers kept dying right after they started (the log says why)."""


def run_workers(
    target: Callable[..., None],
    args: tuple[Any, ...],
    sock: socket.socket,
    workers: int,
    *,
    stop_timeout: float,
) -> None:
    """Run ``workers`` processes of ``target(*args, sock)`` until SIGTERM/SIGINT.

    ``target`` and ``args`` must pickle (a module-level function, settings, options).

    Raises:
        WorkerCrashError: the workers died at start ``_CRASH_LIMIT`` times in a row.
    """
    ctx = multiprocessing.get_context("spawn")
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}

    def start() -> tuple[BaseProcess, float]:
        proc = ctx.Process(target=target, args=(*args, sock), daemon=False)
        proc.start()
        logger.info("started worker process [%d]", proc.pid)
        return proc, time.monotonic()

    procs = [start() for _ in range(workers)]
    crashes = 0
    try:
        while not stopping.is_set():
            multiprocessing.connection.wait([p.sentinel for p, _ in procs], timeout=0.5)
            for i, (proc, started) in enumerate(procs):
                if proc.is_alive() or stopping.is_set():
                    continue
                proc.join()
                # A Ctrl-C reaches the workers too: let the parent's own handler run first.
                time.sleep(0.2)
                if stopping.is_set():
                    break
                quick = time.monotonic() - started < _QUICK_DEATH
                crashes = crashes + 1 if quick else 0
                logger.error(
                    "worker process [%d] exited with status %s; starting another",
                    proc.pid, proc.exitcode,
                )  # fmt: skip
                if crashes >= _CRASH_LIMIT:
                    raise WorkerCrashError(
                        f"the workers died at start {crashes} times in a row; stopping"
                    )
                procs[i] = start()
    finally:
        _stop_all([p for p, _ in procs], stop_timeout)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _stop_all(procs: list[BaseProcess], timeout: float) -> None:
    """SIGTERM every live worker, wait up to ``timeout`` seconds, then kill the rest."""
    for proc in procs:
        if proc.is_alive() and proc.pid is not None:
            os.kill(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in procs:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            logger.error("worker process [%d] did not stop in %gs: killed", proc.pid, timeout)
            proc.kill()
            proc.join()


def stop_with_parent() -> None:
    """In a worker: SIGTERM this process (uvicorn's graceful stop) once its parent is gone.

    Without it, a supervisor killed with ``kill -9`` would leave its workers serving the port
    with nobody to replace them or stop them. A thread polls the parent's pid once a second
    (portable, unlike Linux's ``PR_SET_PDEATHSIG``); the pid comes from multiprocessing, so a
    parent that died before the thread started is noticed too.
    """
    parent = multiprocessing.parent_process()
    if parent is None or parent.pid is None:
        return
    parent_pid = parent.pid

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        logger.error("the supervising process [%d] is gone: stopping", parent_pid)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="jwtkit-parent-watch", daemon=True).start()
