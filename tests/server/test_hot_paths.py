"""The token service's hot paths (issue 18): client records cached with correct invalidation,
``client_credentials`` answered without the store, the access log off the event loop.

Real processes where the claim is about processes: a ``jwtkit client disable`` run by the CLI
reaches a running service within the cache interval, and a service whose PostgreSQL is cut off
keeps issuing machine tokens from memory while everything that needs the store answers 503.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from jwtkit.keys import generate_master_key
from jwtkit.server._serve import log_in_background
from tests.support.server import CLIENT, SECRET, ServiceProcess, TestClient, service_env
from tests.support.storage import (
    PostgresMissingError,
    Service,
    TCPProxy,
    init_keys,
    pg_schema,
    pg_url,
    seed_accounts,
)

CC = {"grant_type": "client_credentials"}


@pytest.fixture
def schema() -> Iterator[tuple[str, str]]:
    """(name, URL) of a fresh PostgreSQL schema (skips without a server)."""
    try:
        with pg_schema("jwtkit_hot") as pair:
            yield pair
    except PostgresMissingError as exc:
        pytest.skip(str(exc))


def test_this_process_sees_its_own_client_edits_at_once(
    make_app: Callable[..., Starlette],
) -> None:
    app = make_app(client_cache_ttl=3600.0)
    http = TestClient(app)
    assert http.post("/token", data=CC, auth=(CLIENT, SECRET)).status_code == 200
    # The record and the secret are now remembered: the next one is served from memory.
    svc = app.state.service
    assert svc.accounts.remembered_client(CLIENT, SECRET) is not None
    svc.accounts.disable_client(CLIENT)
    assert svc.accounts.remembered_client(CLIENT, SECRET) is None
    refused = http.post("/token", data=CC, auth=(CLIENT, SECRET))
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    svc.accounts.enable_client(CLIENT)
    assert http.post("/token", data=CC, auth=(CLIENT, SECRET)).status_code == 200
    new_secret = svc.accounts.rotate_client_secret(CLIENT, overlap=0)
    assert http.post("/token", data=CC, auth=(CLIENT, SECRET)).status_code == 401
    assert http.post("/token", data=CC, auth=(CLIENT, new_secret)).status_code == 200


def test_a_wrong_secret_is_never_answered_from_memory(make_app: Callable[..., Starlette]) -> None:
    app = make_app(client_cache_ttl=3600.0)
    http = TestClient(app)
    assert http.post("/token", data=CC, auth=(CLIENT, SECRET)).status_code == 200
    assert app.state.service.accounts.remembered_client(CLIENT, SECRET + "x") is None
    assert http.post("/token", data=CC, auth=(CLIENT, SECRET + "x")).status_code == 401


@pytest.mark.slow
def test_client_disable_from_another_process_takes_effect_within_the_interval(
    tmp_path: Path,
) -> None:
    store = f"sqlite:///{tmp_path / 'jwtkit.db'}"
    master_key = generate_master_key()
    init_keys(store, master_key)
    seed_accounts(store)
    ttl = 1.0
    svc = Service(store, master_key, client_cache_ttl=str(ttl))
    try:
        for _ in range(5):
            assert svc.token(**CC).status_code == 200
        cli = subprocess.run(
            [sys.executable, "-m", "jwtkit", "client", "disable", CLIENT],
            env=svc.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert cli.returncode == 0, cli.stderr
        done = time.monotonic()
        while (status := svc.token(**CC).status_code) == 200:
            assert time.monotonic() - done < ttl + 1.0, "still issuing past the cache interval"
            time.sleep(0.02)
        assert status == 401
        # And it stays refused (429 once the failed authentications reach the limit).
        assert all(svc.token(**CC).status_code in (401, 429) for _ in range(8))
    finally:
        svc.stop()


@pytest.mark.postgres
@pytest.mark.slow
def test_client_credentials_needs_no_store_round_trip(schema: tuple[str, str]) -> None:
    """With the store cut off, a remembered machine client still gets tokens (from memory,
    within the cache intervals) while a request that needs the store answers 503 at once."""
    schema_name, direct = schema
    master_key = generate_master_key()
    init_keys(direct, master_key)
    seed_accounts(direct)
    with TCPProxy() as proxy:
        svc = Service(
            pg_url(schema_name, port=proxy.port), master_key,
            store_timeout="0.5", client_cache_ttl="30", key_cache_ttl="30",
        )  # fmt: skip
        try:
            assert svc.token(**CC).status_code == 200
            proxy.set_mode("refuse")
            assert [svc.token(**CC).status_code for _ in range(20)] == [200] * 20
            login = svc.token(grant_type="password", username="alice", password="x")
            assert login.status_code == 503 and login.headers.get("retry-after")
            proxy.set_mode("forward")
        finally:
            svc.stop()


def test_the_access_log_is_written_by_a_thread(tmp_path: Path) -> None:
    name = "jwtkit.test.access"
    logger = logging.getLogger(name)
    written: list[tuple[str, str]] = []

    class Recording(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            written.append((threading.current_thread().name, self.format(record)))

    handler = Recording()
    logger.addHandler(handler)
    logger.propagate = False
    try:
        listener = log_in_background(name)
        assert listener is not None
        logger.warning("%s - %s %d", "127.0.0.1", "/healthz", 200)
        listener.stop()
        assert written == [(written[0][0], "127.0.0.1 - /healthz 200")]
        assert written[0][0] != threading.current_thread().name
        assert log_in_background("jwtkit.test.nothing") is None
    finally:
        logger.handlers = []


def test_serve_turns_the_access_log_off_by_setting(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'jwtkit.db'}"
    master_key = generate_master_key()
    init_keys(store, master_key)
    for setting, logged in (("true", True), ("false", False)):
        out = tmp_path / f"stdout-{setting}.log"
        with out.open("w") as stdout:
            env = service_env(store, master_key, "http://id.test", JWTKIT_ACCESS_LOG=setting)
            child = ServiceProcess(env, stdout=stdout)
            try:
                assert httpx.get(child.wait_ready() + "/healthz").status_code == 200
            finally:
                child.stop()
        # uvicorn's access log goes to stdout, flushed by the writer thread at the stop.
        assert ('"GET /healthz HTTP/1.1" 200' in out.read_text()) is logged


def test_the_access_log_queue_is_bounded() -> None:
    """A writer that cannot keep up (a blocked pipe) costs dropped lines, not memory."""
    import queue as queue_module

    from jwtkit.server import _serve

    name = "jwtkit.test.access.bounded"
    logger = logging.getLogger(name)
    release = threading.Event()

    class Blocked(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            release.wait(10)

    logger.addHandler(Blocked())
    logger.propagate = False
    try:
        listener = log_in_background(name)
        assert listener is not None
        assert isinstance(listener.queue, queue_module.Queue)
        before = _serve._RecordQueue.dropped
        for _ in range(_serve._ACCESS_LOG_BACKLOG + 50):
            logger.warning("line")
        assert _serve._RecordQueue.dropped - before >= 49
        release.set()
        listener.stop()
    finally:
        logger.handlers = []
