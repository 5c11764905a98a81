"""Database outages through a TCP proxy: refused connections and silent partitions.

The service talks to PostgreSQL through :class:`tests.support.storage.TCPProxy`. For each outage
length, load runs on ``/token`` (client_credentials: a store read per request), the JWKS,
the metadata and ``/healthz`` before, during and after the outage. Reported per run: the
slowest answer of each endpoint during the outage (the bound is the store timeout), how the
answers split (503 with Retry-After expected on /token and /healthz, 200 on JWKS and
metadata), the time from the end of the outage to the first 200 of /token (recovery), and the
5xx answers after recovery (stale pooled connections would show here).

    .venv/bin/python -m tests.stress.partition --mode blackhole --lengths 10 40
    .venv/bin/python -m tests.stress.partition --mode refuse --lengths 10 40

The CI suite runs one short outage of each kind (tests/storage/test_outage.py).
"""

from __future__ import annotations

import argparse
import collections
import json
import threading
import time
from typing import Any

import httpx

from jwtkit.keys import generate_master_key
from tests.support.storage import (
    CLIENT,
    SECRET,
    Service,
    TCPProxy,
    init_keys,
    pg_schema,
    pg_url,
    seed_accounts,
)

ENDPOINTS = {
    "token": ("POST", "/token"),
    "jwks": ("GET", "/.well-known/jwks.json"),
    "metadata": ("GET", "/.well-known/oauth-authorization-server"),
    "healthz": ("GET", "/healthz"),
}


class Recorder:
    """(time, endpoint, status, seconds, retry_after) of every answer."""

    def __init__(self) -> None:
        self.rows: list[tuple[float, str, int, float, str | None]] = []
        self.lock = threading.Lock()

    def add(self, row: tuple[float, str, int, float, str | None]) -> None:
        with self.lock:
            self.rows.append(row)


def _load(url: str, name: str, rec: Recorder, stop: threading.Event) -> None:
    method, path = ENDPOINTS[name]
    with httpx.Client(base_url=url, timeout=60) as http:
        while not stop.is_set():
            t0 = time.monotonic()
            if name == "token":
                r = http.post(
                    path, data={"grant_type": "client_credentials"}, auth=(CLIENT, SECRET)
                )
            else:
                r = http.request(method, path)
            rec.add((t0, name, r.status_code, time.monotonic() - t0, r.headers.get("retry-after")))
            time.sleep(0.02)


def outage(
    schema: str, master_key: str, *, mode: str, length: float, timeout: float, workers: int = 2
) -> dict[str, Any]:
    """One service behind a proxy, one outage of ``length`` seconds; return the figures."""
    with TCPProxy() as proxy:
        store = pg_url(schema, port=proxy.port)
        # No client cache: the machine tokens then need the store, which is what an outage
        # test measures (with the cache they are issued from memory for its interval, as
        # tests/server/test_hot_paths.py checks).
        svc = Service(
            store, master_key, store_timeout=str(timeout), key_cache_ttl="1", client_cache_ttl="0"
        )
        rec = Recorder()
        stop = threading.Event()
        names = ["token"] * workers + ["jwks", "metadata", "healthz"]
        threads = [threading.Thread(target=_load, args=(svc.url, n, rec, stop)) for n in names]
        for t in threads:
            t.start()
        time.sleep(1.5)
        proxy.set_mode(mode)
        began = time.monotonic()
        time.sleep(length)
        proxy.set_mode("forward")
        healed = time.monotonic()
        time.sleep(max(4.0, timeout + 3.0))
        stop.set()
        for t in threads:
            t.join(120)
        log = svc.stop()
    figures = summarize(rec.rows, began, healed, timeout)
    return figures | {"mode": mode, "length": length, "log_lines": len(log.splitlines())}


def summarize(
    rows: list[tuple[float, str, int, float, str | None]],
    began: float,
    healed: float,
    timeout: float,
) -> dict[str, Any]:
    """Split the answers into before / during / after the outage and compute the figures.

    "During" holds the requests sent and answered within the outage, less its first 0.1 s
    (the proxy's switch races the bytes already in flight); a request sent during the outage
    may well be answered 200 after it, within its deadline.
    """
    during = [r for r in rows if began + 0.1 <= r[0] and r[0] + r[3] < healed]
    after = [r for r in rows if r[0] >= healed]
    first_ok = min((r[0] + r[3] for r in after if r[1] == "token" and r[2] == 200), default=None)
    recovery = None if first_ok is None else first_ok - healed
    # Once /token answered 200 again, every later answer must be good.
    settled = [r for r in after if first_ok is not None and r[0] >= first_ok]
    out: dict[str, Any] = {"store_timeout": timeout}
    for name in ENDPOINTS:
        mine = [r for r in during if r[1] == name]
        out[name] = {
            "answers": dict(collections.Counter(str(r[2]) for r in mine)),
            "slowest_s": round(max((r[3] for r in mine), default=0.0), 3),
            "503_without_retry_after": sum(1 for r in mine if r[2] == 503 and not r[4]),
        }
    out["recovery_s"] = None if recovery is None else round(recovery, 3)
    out["5xx_after_recovery"] = sum(1 for r in settled if r[2] >= 500)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=["blackhole", "refuse"], default="blackhole")
    parser.add_argument("--lengths", type=float, nargs="+", default=[10.0, 40.0])
    parser.add_argument("--store-timeout", type=float, default=2.0)
    args = parser.parse_args()
    with pg_schema("jwtkit_partition") as (schema, store):
        master_key = generate_master_key()
        init_keys(store, master_key)
        seed_accounts(store)
        for length in args.lengths:
            result = outage(
                schema, master_key, mode=args.mode, length=length, timeout=args.store_timeout
            )
            print(json.dumps(result))


if __name__ == "__main__":
    main()
