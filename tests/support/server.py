"""Fixtures for the token-service tests: a real SQLite store in tmp_path, fast Argon2, apps.

Argon2 costs are lowered through Settings (the production defaults stay RFC 9106's), so a
login costs microseconds here. Nothing of jwtkit is mocked: the apps are the real ones, the
stores real SQLite files, and the tokens are verified with the real core.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from jwtkit.keys import generate_master_key
from jwtkit.server import Settings, create_app
from jwtkit.server._accounts import make_password_hasher
from jwtkit.server._app import open_service
from jwtkit.server._service import TokenService

USER = "alice"
PASSWORD = "wonderland-rabbit-hole"
CLIENT = "web"
SECRET = "web-secret-0123456789abcdef"
# The browser origin registered for client web, and the header a page there sends.
WEB_ORIGIN = "http://testserver"
FROM_WEB = {"Origin": WEB_ORIGIN}
# What a client registered without grants could do before issue 13 (new default: the code flow).
ALL_GRANTS = ("password", "client_credentials", "refresh_token")
FAST_HASHER = make_password_hasher(time_cost=1, memory_cost=8, parallelism=1)
FAST_ARGON2: dict[str, Any] = {
    "argon2_time_cost": 1,
    "argon2_memory_cost": 8,
    "argon2_parallelism": 1,
}


class TestClient:
    """A synchronous in-process client: httpx.AsyncClient over httpx.ASGITransport.

    Each request runs in its own event loop; the app's lifespan is not run (the maintenance
    timer is tested over real HTTP).
    """

    __test__ = False

    def __init__(self, app: Starlette, *, address: str = "127.0.0.1") -> None:
        self.app = app
        self.address = address

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def run() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, client=(self.address, 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                return await c.request(method, url, **kwargs)

        return asyncio.run(run())

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)


class Clock:
    """A settable clock (seconds since the epoch) passed to create_app, never patched in."""

    def __init__(self, start: float = 1_900_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def basic(client_id: str = CLIENT, secret: str = SECRET) -> dict[str, str]:
    """Return an HTTP Basic Authorization header (RFC 6749 §2.3.1 encoding)."""
    raw = f"{client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


@pytest.fixture(scope="session")
def template_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A store whose key ring is complete (an RSA lineage costs ~0.25 s to generate), made once
    per session and copied for each test, as Django copies a template database."""
    key = generate_master_key()
    path = tmp_path_factory.mktemp("template") / "jwtkit.db"
    open_service(Settings(store=f"sqlite:///{path}", master_key=key, **FAST_ARGON2)).close()
    return path, key


@pytest.fixture
def master_key(template_store: tuple[Path, str]) -> str:
    return template_store[1]


@pytest.fixture
def make_settings(
    tmp_path: Path, master_key: str, template_store: tuple[Path, str]
) -> Callable[..., Settings]:
    """Return a factory of Settings over one SQLite file in tmp_path (a copy of the template
    store: its keys are new to this test's file, the master key is the template's)."""

    def make(**overrides: Any) -> Settings:
        target = tmp_path / "jwtkit.db"
        if "store" not in overrides and not target.exists():
            shutil.copyfile(template_store[0], target)
            target.chmod(0o600)
        values: dict[str, Any] = {
            "store": f"sqlite:///{tmp_path / 'jwtkit.db'}",
            "master_key": master_key,
            "issuer": "http://testserver",
            "audience": "api",
            # A refused attempt is answered at once here; the delay has its own test.
            "refusal_delay": 0.0,
            **FAST_ARGON2,
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_app(
    make_settings: Callable[..., Settings], clock: Clock
) -> Iterator[Callable[..., Starlette]]:
    """Return a factory of apps with user alice and confidential client web; closes them."""
    apps: list[Starlette] = []

    def make(*, users: bool = True, **overrides: Any) -> Starlette:
        app = create_app(make_settings(**overrides), clock=clock)
        apps.append(app)
        svc: TokenService = app.state.service
        if users and not svc.accounts.get_user(USER):
            svc.accounts.add_user(USER, PASSWORD, roles=("admin", "staff"))
            svc.accounts.add_client(
                CLIENT, SECRET, scopes=("read", "write"), grants=ALL_GRANTS, origins=(WEB_ORIGIN,)
            )
        return app

    yield make
    for app in apps:
        app.state.service.close()


@pytest.fixture
def app(make_app: Callable[..., Starlette]) -> Starlette:
    return make_app()


@pytest.fixture
def svc(app: Starlette) -> TokenService:
    service: TokenService = app.state.service
    return service


@pytest.fixture
def client(app: Starlette) -> TestClient:
    """An in-process HTTP client (no lifespan: the maintenance timer is tested separately)."""
    return TestClient(app)


def login(
    client: TestClient, headers: dict[str, str] | None = None, **extra: str
) -> httpx.Response:
    """Do a password grant as alice through client web and return the response."""
    data = {"grant_type": "password", "username": USER, "password": PASSWORD, **extra}
    return client.post("/token", data=data, headers={**basic(), **(headers or {})})


class LiveServer:
    """An ASGI app served by a real uvicorn on a free 127.0.0.1 port, in a thread.

    ``options`` go to ``uvicorn.Config`` (``http=`` a guarded protocol, for instance). Binding
    port 0 and reading the bound port back avoids racing other tests for a port.
    The app's lifespan runs (so the maintenance timer runs too).
    """

    def __init__(self, app: Any, **options: Any) -> None:
        import uvicorn

        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_config=None,
            access_log=False,
            lifespan="on",
            **options,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = ""

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def service_env(store: str, master_key: str, issuer: str, **extra: str) -> dict[str, str]:
    """Return the environment of a service child process (fast Argon2, given store and key)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JWTKIT_")}
    env.update(
        {
            "JWTKIT_STORE": store,
            "JWTKIT_MASTER_KEY": master_key,
            "JWTKIT_ISSUER": issuer,
            "JWTKIT_AUDIENCE": "api",
            **{"JWTKIT_" + k.upper(): str(v) for k, v in FAST_ARGON2.items()},
            # One process per service unless a test asks for more (the PostgreSQL default
            # would start one per CPU); tests/server/test_workers.py covers several.
            "JWTKIT_WORKERS": "1",
            **extra,
        }
    )
    return env


class ServiceProcess:
    """``python -m jwtkit.server 127.0.0.1 0`` in a child process; the port is read back from
    uvicorn's start-up line, so no free-port guessing races other tests. ``argv`` runs
    another uvicorn program instead (a resource server). ``stdout`` (where uvicorn's access
    log goes) is discarded unless a file is given."""

    def __init__(
        self,
        env: dict[str, str],
        argv: list[str] | None = None,
        *,
        stdout: Any = subprocess.DEVNULL,
    ) -> None:
        self.proc = subprocess.Popen(
            argv or [sys.executable, "-m", "jwtkit.server", "127.0.0.1", "0"],
            env=env,
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.url = ""
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)
            marker = "Uvicorn running on "
            if marker in line and not self.url:
                self.url = line.split(marker, 1)[1].split()[0]
                self._ready.set()
        self._ready.set()

    def wait_ready(self, timeout: float = 30) -> str:
        """Wait for the listening line and return the base URL (fails with the child's log)."""
        self._ready.wait(timeout)
        assert self.url, "the service did not start:\n" + self.log
        return self.url

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def stop(self) -> str:
        """Stop the child (SIGTERM, then SIGKILL) and return its whole stderr."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(timeout=10)
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        return self.log


def free_port() -> int:
    """Return a loopback port that was free a moment ago (for a child that must know its URL
    before it starts: the issuer names its port)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def jwtkit_serve(store: str, master_key: str) -> Iterator[str]:
    """Run ``jwtkit serve`` on a free loopback port and yield its URL (the issuer names the
    port, so it is chosen before the start; a port lost to another test is tried again)."""
    for _ in range(3):
        url = f"http://127.0.0.1:{free_port()}"
        argv = [sys.executable, "-m", "jwtkit", "serve", "--port", url.rsplit(":", 1)[1]]
        child = ServiceProcess(service_env(store, master_key, url), argv)
        try:
            started = child.wait_ready() == url
        except AssertionError:
            started = False
        if started:
            try:
                yield url
            finally:
                child.stop()
            return
        child.stop()
    raise RuntimeError("jwtkit serve did not start")
