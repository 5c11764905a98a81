"""N parallel refreshes of one refresh token: exactly one 200, every other 400 invalid_grant.

One service process on SQLite, two instances sharing the store on PostgreSQL (the requests
of a trial alternate between them). Each trial logs in, then sends ``--parallel`` refreshes
of the same token at the same moment (a barrier) on separate connections.

    .venv/bin/python -m tests.stress.refresh_race --backend sqlite --trials 1000
    .venv/bin/python -m tests.stress.refresh_race --backend postgres --trials 1000

The CI suite runs a few trials per backend (tests/storage/test_durability.py).
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import threading
import time
from typing import Any

import httpx

from jwtkit.keys import generate_master_key
from tests.stress.kill9 import store_for
from tests.support.storage import CLIENT, SECRET, Service, init_keys, seed_accounts


def trial(urls: list[str], clients: list[httpx.Client], refresh: str) -> list[tuple[int, str]]:
    """Send len(clients) refreshes of ``refresh`` at once; return (status, error) of each."""
    barrier = threading.Barrier(len(clients))
    out: list[tuple[int, str]] = [(0, "")] * len(clients)

    def use(i: int) -> None:
        barrier.wait()
        r = clients[i].post(
            urls[i % len(urls)] + "/token",
            data={"grant_type": "refresh_token", "refresh_token": refresh},
            auth=(CLIENT, SECRET),
        )
        out[i] = (r.status_code, r.json().get("error", "") if r.status_code != 200 else "")

    threads = [threading.Thread(target=use, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def run(
    store: str, *, trials: int, parallel: int, instances: int, **settings: str
) -> dict[str, Any]:
    """Run the trials; return the tally. A trial fails unless exactly one request won.

    ``settings`` are service settings (``store_timeout="10"`` becomes JWTKIT_STORE_TIMEOUT).
    """
    master_key = generate_master_key()
    init_keys(store, master_key)
    seed_accounts(store)
    services = [Service(store, master_key, **settings) for _ in range(instances)]
    clients = [httpx.Client(timeout=30) for _ in range(parallel)]
    tally: collections.Counter[str] = collections.Counter()
    bad: list[list[tuple[int, str]]] = []
    started = time.monotonic()
    try:
        for _ in range(trials):
            refresh = services[0].login()["refresh_token"]
            results = trial([s.url for s in services], clients, refresh)
            statuses = sorted(r[0] for r in results)
            for status, error in results:
                tally[f"{status} {error}".strip()] += 1
            if statuses != [200] + [400] * (parallel - 1) or any(
                s == 400 and e != "invalid_grant" for s, e in results
            ):
                bad.append(results)
    finally:
        for c in clients:
            c.close()
        for s in services:
            s.stop()
    return {
        "trials": trials,
        "parallel": parallel,
        "instances": instances,
        "failed_trials": len(bad),
        "first_failures": bad[:3],
        "responses": dict(tally),
        "seconds": round(time.monotonic() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--parallel", type=int, default=8)
    args = parser.parse_args()
    instances = 2 if args.backend == "postgres" else 1
    with store_for(args.backend) as store:
        result = run(store, trials=args.trials, parallel=args.parallel, instances=instances)
    print(json.dumps({"backend": args.backend, **result}))
    sys.exit(1 if result["failed_trials"] else 0)


if __name__ == "__main__":
    main()
