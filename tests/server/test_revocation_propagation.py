"""Revocations reach a locally verifying resource server, with real processes (issue 11).

The token service (``python -m jwtkit.server``), the resource server of
``examples/resource_server.py`` (JWKS + ``RevocationListCheck`` polling every 0.2 s, staleness
bound 3 s) and the ``jwtkit`` command each run in their own process on one SQLite store.
Every kind of revocation must turn the resource server's 200 into a 401 within the bound;
with the service killed, the resource server must fail closed (503), never keep accepting.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from jwtkit.server import Accounts
from tests.support.server import (
    ALL_GRANTS,
    CLIENT,
    FAST_ARGON2,
    FAST_HASHER,
    PASSWORD,
    SECRET,
    USER,
    ServiceProcess,
    service_env,
)

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "resource_server.py"
JWTKIT = Path(sys.executable).with_name("jwtkit")
INTERVAL = 0.2
MAX_STALENESS = 3.0
RS_SECRET = "api-secret-0123456789"
BATCH_SECRET = "batch-secret-0123456789"


@dataclass
class Deployment:
    service: str
    api: str
    store: str
    env: dict[str, str]
    service_process: ServiceProcess

    def token(self, auth: tuple[str, str] = (CLIENT, SECRET), **data: str) -> dict[str, str]:
        response = httpx.post(self.service + "/token", data=data, auth=auth)
        assert response.status_code == 200, response.text
        body: dict[str, str] = response.json()
        return body

    def login(self, username: str = USER, password: str = PASSWORD) -> dict[str, str]:
        return self.token(grant_type="password", username=username, password=password)

    def status(self, access_token: str) -> int:
        headers = {"Authorization": f"Bearer {access_token}"}
        return httpx.get(self.api + "/me", headers=headers, timeout=10).status_code

    def cli(self, *args: str) -> None:
        done = subprocess.run(
            [str(JWTKIT), *args], env=self.env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr


@pytest.fixture
def deployment(tmp_path: Path, master_key: str) -> Iterator[Deployment]:
    store = f"sqlite:///{tmp_path / 'jwtkit.db'}"
    with Accounts.open(store, hasher=FAST_HASHER) as accounts:
        accounts.add_user(USER, PASSWORD)
        accounts.add_user("bob", "bob-password-1")
        accounts.add_client(CLIENT, SECRET, scopes=("read",), grants=ALL_GRANTS)
        accounts.add_client("batch", BATCH_SECRET, grants=("client_credentials",))
        accounts.add_client("api", RS_SECRET, grants=("client_credentials",), resource_server=True)
    env = service_env(store, master_key, "http://id.test")
    service = ServiceProcess(env)
    api = None
    try:
        url = service.wait_ready()
        rs_env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("JWTKIT_", "RS_"))},
            "RS_CLIENT_ID": "api",
            "RS_CLIENT_SECRET": RS_SECRET,
            "RS_ISSUER": "http://id.test",
            "RS_AUDIENCE": "api",
            "RS_INTERVAL": str(INTERVAL),
            "RS_MAX_STALENESS": str(MAX_STALENESS),
        }
        api = ServiceProcess(rs_env, [sys.executable, str(EXAMPLE), url, "0"])
        cli_env = {**env, **{"JWTKIT_" + k.upper(): str(v) for k, v in FAST_ARGON2.items()}}
        yield Deployment(url, api.wait_ready(), store, cli_env, service)
    finally:
        if api is not None:
            api.stop()
        service.stop()


def refused_within(deployment: Deployment, access_token: str, action: Callable[[], None]) -> float:
    """Run ``action``; return how long the resource server kept accepting the token."""
    assert deployment.status(access_token) == 200
    action()
    done = time.monotonic()
    while (status := deployment.status(access_token)) == 200:
        assert time.monotonic() - done < MAX_STALENESS + 1, "still accepted past the bound"
        time.sleep(0.02)
    elapsed = time.monotonic() - done
    assert status == 401
    return elapsed


def test_every_revocation_reaches_the_local_verifier(deployment: Deployment) -> None:
    d = deployment
    first, second = d.login(), d.login()
    bobs = d.login("bob", "bob-password-1")
    batch = d.token(("batch", BATCH_SECRET), grant_type="client_credentials")
    for body in (first, second, bobs, batch):
        assert d.status(body["access_token"]) == 200

    def logout() -> None:
        response = httpx.post(
            d.service + "/revoke", data={"token": first["refresh_token"]}, auth=(CLIENT, SECRET)
        )
        assert response.status_code == 200

    def revoke_access() -> None:
        httpx.post(d.service + "/revoke", data={"token": second["access_token"]},
                   auth=(CLIENT, SECRET))  # fmt: skip

    took = {
        "logout (family)": refused_within(d, first["access_token"], logout),
        "access token (jti)": refused_within(d, second["access_token"], revoke_access),
        "user disable": refused_within(
            d, bobs["access_token"], lambda: d.cli("user", "disable", "bob")
        ),
        "client disable": refused_within(
            d, batch["access_token"], lambda: d.cli("client", "disable", "batch")
        ),
    }
    third = d.login()
    took["user logout"] = refused_within(
        d, third["access_token"], lambda: d.cli("user", "logout", USER)
    )
    assert all(seconds <= MAX_STALENESS for seconds in took.values()), took
    access = d.login()["access_token"]
    assert d.status(access) == 200  # a new session works

    # The issuer dies: once the list is too old to trust, the resource server answers 503.
    d.service_process.proc.send_signal(signal.SIGKILL)
    d.service_process.proc.wait(timeout=30)
    killed = time.monotonic()
    while (status := d.status(access)) == 200:
        assert time.monotonic() - killed < MAX_STALENESS + 1, "accepted with a stale list"
        time.sleep(0.05)
    assert status == 503
    assert time.monotonic() - killed >= MAX_STALENESS - INTERVAL - 0.5
