"""``serve``: run the token service with uvicorn (what ``jwtkit serve`` calls)."""

from __future__ import annotations

import copy
import logging
import logging.config
import logging.handlers
import queue
import socket
import time
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette

from jwtkit.errors import StoreUnavailableError
from jwtkit.server._accesslog import ACCESS_LOGGER
from jwtkit.server._app import create_app
from jwtkit.server._guard import ensure_file_limit, guarded_protocol
from jwtkit.server._settings import Settings
from jwtkit.server._workers import run_workers, stop_with_parent

__all__ = ["log_in_background", "open_with_retry", "serve", "startup_banner"]

logger = logging.getLogger("jwtkit.server")


def startup_banner(settings: Settings, host: str, port: int) -> list[str]:
    """Return the start-up lines: issuer, JWKS and discovery URLs, how to log in through the
    browser, and a curl line for a first machine token."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - display only
    shown = f"[{shown}]" if ":" in shown else shown
    token_url = f"http://{shown}:{port}/token"
    base = settings.base_url
    return [
        f"issuer: {base}",
        f"JWKS: {base}/.well-known/jwks.json",
        f"OpenID Connect discovery: {base}/.well-known/openid-configuration",
        "browser login (after `jwtkit user add USER` and `jwtkit client add CLIENT_ID"
        f" --redirect-uri URI`): {base}/authorize?response_type=code&client_id=CLIENT_ID&...",
        "machine token (after `jwtkit client add CLIENT_ID --grant client_credentials`):",
        f"  curl -s -u CLIENT_ID:CLIENT_SECRET -d grant_type=client_credentials {token_url}",
    ]


def open_with_retry(
    settings: Settings, *, sleep: Callable[[float], None] = time.sleep
) -> Starlette:
    """Build the app, retrying while the store is unavailable, for ``store_startup_timeout``.

    Waits 0.5 s, 1 s, 2 s, ... (at most 5 s) between attempts and logs one line per failed
    attempt; other errors (wrong master key, damaged store) fail at once.

    Raises:
        StoreUnavailableError: the store was still unavailable when the time ran out.
    """
    deadline = time.monotonic() + settings.store_startup_timeout
    attempt = 0
    while True:
        attempt += 1
        try:
            return create_app(settings)
        except StoreUnavailableError as exc:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                logger.error("store unavailable (attempt %d), giving up: %s", attempt, exc)
                raise
            delay = min(0.5 * 2 ** (attempt - 1), 5.0, remaining)
            logger.warning(
                "store unavailable (attempt %d), retrying in %.1fs: %s", attempt, delay, exc
            )
            sleep(delay)


def serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    app_factory: Callable[[], Any] | None = None,
    **uvicorn_options: Any,
) -> None:
    """Open the store, log how to get a first token, and serve until interrupted.

    ``settings.worker_count()`` processes serve the port (:mod:`jwtkit.server._workers`:
    a dead worker is replaced, SIGTERM stops gracefully); with one, this process serves.
    Extra keyword options go to ``uvicorn.Config`` (for example ``log_level``); they and
    ``app_factory`` (a module-level function returning another ASGI app, served with the
    same stack: the benchmark's ceiling) must pickle when there are several workers. A store
    that is unavailable at start is retried for ``settings.store_startup_timeout`` seconds.
    The header and body timeouts and the connection limit of ``settings`` are enforced in
    every worker by :func:`jwtkit.server._guard.guarded_protocol`.

    Raises:
        KeyStoreError: the store or master key is unusable (before anything listens), or
            the workers kept dying at start.
    """
    import uvicorn

    log_config = _log_config()
    logging.config.dictConfig(log_config)
    # Opened here even with several workers: a bad master key or store fails before anything
    # listens, and a schema upgrade runs once, not in every worker at the same time.
    app = _build_app(settings, app_factory)
    for line in startup_banner(settings, host, port):
        logger.info("%s", line)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": log_config,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        "proxy_headers": settings.forwarded_allow_ips is not None,
        "access_log": settings.access_log,
        "timeout_graceful_shutdown": settings.shutdown_timeout,
    }
    options.update(uvicorn_options)
    workers = settings.worker_count()
    if workers == 1:
        _run(uvicorn.Config(app, **_with_guard(settings, options)))
        return
    _close_app(app)
    sock = uvicorn.Config("jwtkit.server:create_app", **options).bind_socket()
    # Listen now, not when the first worker is up: connections made meanwhile wait in the
    # backlog instead of being refused (and a replaced worker's gap refuses nothing).
    sock.listen(int(options.get("backlog", 2048)))
    logger.info("serving with %d worker processes", workers)
    try:
        run_workers(
            _worker,
            (settings, app_factory, options),
            sock,
            workers,
            stop_timeout=settings.shutdown_timeout + 5,
        )
    finally:
        sock.close()


def _log_config() -> dict[str, Any]:
    from uvicorn.config import LOGGING_CONFIG

    log_config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    log_config["loggers"]["jwtkit"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return log_config


def _build_app(settings: Settings, app_factory: Callable[[], Any] | None) -> Any:
    return app_factory() if app_factory is not None else open_with_retry(settings)


def _close_app(app: Any) -> None:
    """Release what building the app opened (the store's connections, hashing threads)."""
    service = getattr(getattr(app, "state", None), "service", None)
    if service is not None:
        service.close()


def _with_guard(settings: Settings, options: dict[str, Any]) -> dict[str, Any]:
    """Return uvicorn options whose HTTP protocol is wrapped in the slow-client guard."""
    guarded = dict(options)
    guarded["http"] = guarded_protocol(
        header_timeout=settings.header_timeout,
        body_timeout=settings.body_timeout,
        max_connections=ensure_file_limit(settings.max_connections),
        http=options.get("http", "auto"),
    )
    return guarded


def _worker(
    settings: Settings,
    app_factory: Callable[[], Any] | None,
    options: dict[str, Any],
    sock: socket.socket,
) -> None:
    """One worker process: open the store and serve the inherited socket until SIGTERM."""
    import uvicorn

    logging.config.dictConfig(options["log_config"])
    stop_with_parent()
    app = _build_app(settings, app_factory)
    _run(uvicorn.Config(app, **_with_guard(settings, options)), sock)


def _run(config: Any, sock: socket.socket | None = None) -> None:
    """Serve ``config`` (on ``sock`` if given) with the access log written by a thread."""
    import uvicorn

    # After Config: it applies the logging configuration, which would undo the queue.
    listener = log_in_background()
    try:
        uvicorn.Server(config).run(sockets=None if sock is None else [sock])
    finally:
        if listener is not None:
            listener.stop()


_ACCESS_LOG_BACKLOG = 10_000  # Records waiting for the writer thread, at most.


class _RecordQueue(logging.handlers.QueueHandler):
    """Queue each record unformatted: formatting and writing happen in the writer thread.

    The access-log record's arguments are strings and numbers (already redacted by
    :class:`RedactQuery`, which runs before any handler), so formatting them later is safe.
    The queue is bounded: when the writer falls behind (a blocked pipe), records are dropped
    and counted rather than held in memory without end.
    """

    dropped = 0

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            _RecordQueue.dropped += 1


class _Writer(logging.handlers.QueueListener):
    """The access log's writer thread; stopping it never waits on a full queue for ever."""

    def stop(self) -> None:
        """Write what is queued and end the thread; give up after 5 s on a stuck writer (its
        thread is a daemon, so the process still exits)."""
        try:
            self.queue.put(self._sentinel, timeout=5.0)  # type: ignore[attr-defined]
        except queue.Full:
            return
        thread = getattr(self, "_thread", None)
        if thread is not None:
            thread.join()
            self._thread = None


def log_in_background(logger_name: str = ACCESS_LOGGER) -> logging.handlers.QueueListener | None:
    """Put the handlers of ``logger_name`` behind a queue served by one thread; return the
    listener (``stop()`` it to flush at exit), or None when the logger has no handlers.

    Call it after the logging configuration (uvicorn's ``Config`` applies its own): the event
    loop then only builds the record and queues it, and a slow disk or a full pipe never
    stalls requests.
    """
    logger = logging.getLogger(logger_name)
    handlers = [h for h in logger.handlers if not isinstance(h, _RecordQueue)]
    if not handlers:
        return None
    records: queue.Queue[logging.LogRecord] = queue.Queue(maxsize=_ACCESS_LOG_BACKLOG)
    listener = _Writer(records, *handlers, respect_handler_level=True)
    logger.handlers = [_RecordQueue(records)]
    listener.start()
    return listener
