"""No secret in the access log: query-string values are redacted (issue 12, item 4)."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from jwtkit.server import Accounts
from jwtkit.server._accesslog import RedactQuery, install, redact_query
from tests.support.server import (
    ALL_GRANTS,
    CLIENT,
    FAST_HASHER,
    PASSWORD,
    SECRET,
    USER,
    ServiceProcess,
    basic,
    service_env,
)


def test_secrets_in_urls_never_reach_a_real_uvicorn_access_log(
    tmp_path: Path, master_key: str
) -> None:
    store = f"sqlite:///{tmp_path / 'jwtkit.db'}"
    with Accounts.open(store, hasher=FAST_HASHER) as accounts:
        accounts.add_user(USER, PASSWORD)
        accounts.add_client(CLIENT, SECRET, grants=ALL_GRANTS)
    stdout = (tmp_path / "stdout.log").open("w")
    child = ServiceProcess(service_env(store, master_key, "http://id.test"), stdout=stdout)
    try:
        url = child.wait_ready()
        with httpx.Client(base_url=url, timeout=10) as http:
            # The mistake of issue 12: credentials in the URL of a token request.
            form = {"grant_type": "password", "username": USER, "password": PASSWORD}
            query = {"client_secret": SECRET, "password": PASSWORD, "grant_type": "password"}
            body = http.post("/token", params=query, data=form, headers=basic()).json()
            access, refresh = body["access_token"], body["refresh_token"]
            http.get("/.well-known/jwks.json", params={"access_token": access})
            http.get(f"/healthz?refresh_token={refresh}&scope=read+write")
            http.get(f"/token?{refresh}")  # a bare token as the whole query
            http.get(f"/nowhere?client%5Fsecret={SECRET}&{access}=x")
    finally:
        child.stop()
        stdout.close()
    log = (tmp_path / "stdout.log").read_text()
    lines = [line for line in log.splitlines() if '"' in line]
    assert len(lines) == 5, log
    for secret in (PASSWORD, SECRET, access, refresh):
        assert secret not in log
    assert '"POST /token?client_secret=[redacted]&password=[redacted]&grant_type=password' in log
    assert '"GET /.well-known/jwks.json?access_token=[redacted] HTTP/1.1" 200' in log
    assert '"GET /healthz?refresh_token=[redacted]&scope=read+write HTTP/1.1" 200' in log
    assert '"GET /token?[redacted] HTTP/1.1" 405' in log
    assert '"GET /nowhere?client_secret=[redacted]&[redacted] HTTP/1.1" 404' in log


@pytest.mark.parametrize(
    ("target", "logged"),
    [
        ("/token", "/token"),
        ("/token?", "/token?"),
        ("/a?x=1&&y", "/a?x=[redacted]&&[redacted]"),
        ("/authorize?response_type=code&client_id=web&state=s3cr3t&nonce=n",
         "/authorize?response_type=code&client_id=web&state=[redacted]&nonce=[redacted]"),
        ("/a?code=abc&code_verifier=xyz", "/a?code=[redacted]&code_verifier=[redacted]"),
        ("/a?scope=" + "x" * 200, "/a?scope=[redacted]"),
        ("/a?gr%61nt_type=password", "/a?grant_type=password"),
        ("/a?na%20me=v", "/a?[redacted]"),
        ("/a?=v", "/a?[redacted]"),
        ("/a?x=1?y=2", "/a?x=[redacted]"),
    ],
)  # fmt: skip
def test_redact_query(target: str, logged: str) -> None:
    assert redact_query(target) == logged


def test_the_filter_rewrites_uvicorn_records_and_is_installed_once() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/x?password=hunter2", "1.1", 200), None,
    )  # fmt: skip
    assert RedactQuery().filter(record)
    assert record.getMessage() == '127.0.0.1:5 - "GET /x?password=[redacted] HTTP/1.1" 200'
    line = logging.LogRecord("x", logging.INFO, __file__, 1, "GET /x?token=abc 200", None, None)
    assert RedactQuery().filter(line)
    assert line.getMessage() == "GET /x?token=[redacted] 200"
    name = "jwtkit.test.access"
    install(name)
    install(name)
    assert sum(isinstance(f, RedactQuery) for f in logging.getLogger(name).filters) == 1
