"""Shared parts of the storage tests and of the stress scripts in tests/stress/.

- :func:`pg_schema`: a fresh PostgreSQL schema on the shared server (database ``test``),
  dropped afterwards; the URL selects it through ``search_path``. Skips (pytest) or raises
  (scripts) when no server answers.
- :class:`TCPProxy`: a TCP proxy between a service and PostgreSQL that the test controls:
  ``forward``, ``refuse`` (new and existing connections are reset, as when the database is
  down) and ``blackhole`` (connections are accepted and kept, but no byte goes through in
  either direction, as in a silent network partition). Never touches the shared server.
- :class:`Service`: ``python -m jwtkit.server`` in a child process (SIGKILL-able) with an
  HTTP client, plus helpers for the users and clients the scenarios need.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import select
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx

from tests.support.server import FAST_ARGON2, ServiceProcess, service_env

PG_BASE = os.environ.get("JWTKIT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
USER, PASSWORD = "alice", "alice-password-1"
CLIENT, SECRET = "web", "web-secret-0123456789abcdef"


class PostgresMissingError(Exception):
    """PostgreSQL (or psycopg) is not there: pytest skips, scripts stop with the reason."""


def pg_admin() -> Any:
    """Return an autocommit admin connection to the test database."""
    try:
        import psycopg
    except ImportError as exc:
        raise PostgresMissingError("psycopg is not installed") from exc
    try:
        return psycopg.connect(PG_BASE, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        raise PostgresMissingError(
            f"PostgreSQL not reachable at {PG_BASE}: {type(exc).__name__}"
        ) from exc


@contextlib.contextmanager
def pg_schema(prefix: str = "jwtkit_storage") -> Iterator[tuple[str, str]]:
    """Yield (schema name, store URL) of a fresh schema; drop it afterwards."""
    admin = pg_admin()
    # The name is generated here, never user input, so interpolating it is safe.
    schema = f"{prefix}_{secrets.token_hex(6)}"
    admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield schema, f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        with contextlib.suppress(Exception):
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


def pg_schema_or_skip(prefix: str) -> Iterator[str]:
    """Yield the URL of a fresh schema for a pytest fixture; skip, saying why, without a server."""
    import pytest

    try:
        with pg_schema(prefix) as (_, url):
            yield url
    except PostgresMissingError as exc:
        pytest.skip(str(exc))


def pg_url(schema: str, host: str = "127.0.0.1", port: int = 5432) -> str:
    """Return a store URL for ``schema`` on host:port (the shared server or a proxy)."""
    return f"postgresql://postgres@{host}:{port}/test?options=-csearch_path%3D{schema}"


class TCPProxy:
    """A loopback TCP proxy to ``target`` whose behaviour the test switches at will."""

    def __init__(self, target: tuple[str, int] = ("127.0.0.1", 5432)) -> None:
        self.target = target
        self.mode = "forward"
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._pairs: list[tuple[socket.socket, socket.socket | None]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.refused = threading.Event()  # Set once a connection was refused.
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def __enter__(self) -> TCPProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def set_mode(self, mode: str) -> None:
        """Switch to ``forward``, ``refuse`` or ``blackhole``.

        ``refuse`` resets every open connection and every new one. Leaving ``blackhole``
        closes the connections that lost bytes meanwhile (their streams are broken).
        """
        assert mode in ("forward", "refuse", "blackhole")
        with self._lock:
            previous, self.mode = self.mode, mode
            doomed = []
            if mode == "refuse" or (previous == "blackhole" and mode == "forward"):
                doomed, self._pairs = self._pairs, []
        for client, upstream in doomed:
            _reset(client)
            if upstream is not None:
                _reset(upstream)

    def _accept(self) -> None:
        self._listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                mode = self.mode
            if mode == "refuse":
                _reset(client)
                self.refused.set()
                continue
            upstream = None
            if mode == "forward":
                try:
                    upstream = socket.create_connection(self.target, timeout=5)
                except OSError:
                    _reset(client)
                    continue
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket | None) -> None:
        peers = [client] if upstream is None else [client, upstream]
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select(peers, [], [], 0.2)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    with self._lock:
                        mode = self.mode
                    if mode != "forward" or upstream is None:
                        continue  # blackhole: the bytes vanish, nobody is told
                    (upstream if sock is client else client).sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in peers:
                with contextlib.suppress(OSError):
                    sock.close()

    def close(self) -> None:
        """Stop accepting and drop every connection."""
        self._stop.set()
        self._listener.close()
        self.set_mode("refuse")


def _reset(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    with contextlib.suppress(OSError):
        sock.close()


class Service:
    """A token-service child process and an HTTP client for it."""

    def __init__(self, store: str, master_key: str, **settings: str) -> None:
        self.store = store
        self.master_key = master_key
        extra = {"JWTKIT_" + k.upper(): v for k, v in settings.items()}
        self.env = service_env(store, master_key, "http://id.test", **extra)
        self.child = ServiceProcess(self.env)
        self.url = self.child.wait_ready(60)
        self.http = httpx.Client(base_url=self.url, timeout=30)

    def kill(self) -> None:
        """SIGKILL the child: no shutdown code runs."""
        proc = self.child.proc
        proc.kill()
        proc.wait()
        self.child._reader.join(timeout=10)
        if proc.stderr is not None:
            proc.stderr.close()
        self.http.close()

    def stop(self) -> str:
        """Stop the child normally and return its log."""
        self.http.close()
        return self.child.stop()

    def token(self, **form: str) -> httpx.Response:
        """POST /token as the confidential client ``web``."""
        return self.http.post("/token", data=form, auth=(CLIENT, SECRET))

    def login(self) -> dict[str, Any]:
        """Do a password grant as alice; return the JSON body (asserting 200)."""
        r = self.token(grant_type="password", username=USER, password=PASSWORD)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body


def seed_accounts(store: str) -> None:
    """Create alice and the confidential client web (fast Argon2) in ``store``."""
    from jwtkit.server import Accounts
    from jwtkit.server._accounts import make_password_hasher

    hasher = make_password_hasher(
        time_cost=FAST_ARGON2["argon2_time_cost"],
        memory_cost=FAST_ARGON2["argon2_memory_cost"],
        parallelism=FAST_ARGON2["argon2_parallelism"],
    )
    with Accounts.open(store, hasher=hasher) as accounts:
        if accounts.get_user(USER) is None:
            accounts.add_user(USER, PASSWORD, roles=("staff",))
            accounts.add_client(
                CLIENT,
                SECRET,
                scopes=("read",),
                grants=("password", "client_credentials", "refresh_token"),
            )


def init_keys(store: str, master_key: str) -> None:
    """Create the key ring (so that several instances never race its creation)."""
    from jwtkit.keys import KeyManager

    with KeyManager.open(store, master_key=master_key) as km:
        km.active_key()


def wait_until(predicate: Any, timeout: float, interval: float = 0.05) -> float:
    """Poll ``predicate`` until true; return the seconds it took (AssertionError on timeout)."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)
    return time.monotonic() - start
