"""PostgreSQL outages through a TCP proxy the test controls (never the shared server).

A refused connection and a silent partition give 503 ``temporarily_unavailable`` with
``Retry-After`` within the store timeout (plus a margin), the JWKS and metadata keep answering
from memory, ``/healthz`` says not ready, and the service recovers by itself within 5 s with
no 5xx afterwards. Start-up with the database down retries, one log line per attempt, then
exits with the store status. The long runs are tests/stress/partition.py.
"""

from __future__ import annotations

import threading
import time

import pytest

from jwtkit.keys import generate_master_key
from tests.stress import partition
from tests.support.server import ServiceProcess, service_env
from tests.support.storage import Service, TCPProxy, init_keys, pg_url, seed_accounts

pytestmark = pytest.mark.postgres

TIMEOUT = 1.0
MARGIN = 1.5  # two shared cores: scheduling noise, not the store


@pytest.mark.parametrize("mode", ["refuse", "blackhole"])
def test_outage_answers_503_fast_and_recovers(pg_store: tuple[str, str], mode: str) -> None:
    schema, direct = pg_store
    master_key = generate_master_key()
    init_keys(direct, master_key)
    seed_accounts(direct)
    result = partition.outage(schema, master_key, mode=mode, length=2.5, timeout=TIMEOUT)
    token, jwks, meta, health = (result[k] for k in ("token", "jwks", "metadata", "healthz"))
    assert set(token["answers"]) == {"503"}, result
    assert token["503_without_retry_after"] == 0
    assert token["slowest_s"] <= TIMEOUT + MARGIN, result
    assert set(jwks["answers"]) == {"200"} and jwks["slowest_s"] <= TIMEOUT + MARGIN, result
    assert set(meta["answers"]) == {"200"}, result
    assert "503" in health["answers"] and health["slowest_s"] <= TIMEOUT + MARGIN, result
    assert result["recovery_s"] is not None and result["recovery_s"] <= 5.0, result
    assert result["5xx_after_recovery"] == 0, result


def test_startup_retries_then_gives_up_with_the_store_status(pg_store: tuple[str, str]) -> None:
    schema, direct = pg_store
    master_key = generate_master_key()
    init_keys(direct, master_key)
    with TCPProxy() as proxy:
        proxy.set_mode("refuse")
        env = service_env(pg_url(schema, port=proxy.port), master_key, "http://id.test",
                          JWTKIT_STORE_STARTUP_TIMEOUT="2", JWTKIT_STORE_TIMEOUT="0.5")  # fmt: skip
        child = ServiceProcess(env)
        assert child.proc.wait(timeout=60) == 4
        log = child.stop()
    attempts = [line for line in log.splitlines() if "store unavailable (attempt" in line]
    assert len(attempts) >= 2, log
    assert log.strip().splitlines()[-1].startswith("error: key store: "), log
    assert "Traceback" not in log


def test_startup_waits_for_the_database(pg_store: tuple[str, str]) -> None:
    schema, direct = pg_store
    master_key = generate_master_key()
    init_keys(direct, master_key)
    seed_accounts(direct)
    with TCPProxy() as proxy:
        proxy.set_mode("refuse")

        def forward_after_a_refusal() -> None:
            # The database comes back a second after the service's first attempt was refused,
            # however long the service took to start (a fixed timer raced a loaded machine).
            proxy.refused.wait(60)
            time.sleep(1.0)
            proxy.set_mode("forward")

        threading.Thread(target=forward_after_a_refusal, daemon=True).start()
        started = time.monotonic()
        svc = Service(pg_url(schema, port=proxy.port), master_key, store_timeout="0.5")
        try:
            assert time.monotonic() - started >= 1.0
            assert svc.token(grant_type="client_credentials").status_code == 200
        finally:
            log = svc.stop()
    assert "store unavailable (attempt 1)" in log
