"""Kill -9 the token service at random moments of a mixed load; check every acknowledged write.

Each round starts ``python -m jwtkit.server`` on the store, first checks that everything the
earlier rounds got a 2xx (or the deciding 400) for is still true, then runs logins, refreshes,
revocations, replays of used refresh tokens and ``jwtkit client add`` / ``jwtkit user add`` /
``jwtkit keys rotate --force`` commands from other processes, and SIGKILLs the service after a
random 0.3-1.5 s, whatever it is doing. After the last round the key ring is checked: every
kid ever acknowledged is present once, exactly one key is active.

    .venv/bin/python -m tests.stress.kill9 --backend sqlite --kills 100
    .venv/bin/python -m tests.stress.kill9 --backend postgres --kills 100

The CI suite runs two rounds per backend (tests/storage/test_durability.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from jwtkit.keys import KeyManager, generate_master_key
from tests.support.storage import Service, init_keys, pg_schema, seed_accounts

JWTKIT = str(Path(sys.executable).with_name("jwtkit"))


@dataclass
class Ledger:
    """What the service acknowledged, so what must still hold after any crash."""

    revoked_access: list[str] = field(default_factory=list)
    used_refresh: list[str] = field(default_factory=list)
    dead_families: list[str] = field(default_factory=list)  # revoked or reuse-revoked
    kids: set[str] = field(default_factory=set)
    clients: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    checked: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def counts(self) -> dict[str, int]:
        return {
            "revoked_access": len(self.revoked_access),
            "used_refresh": len(self.used_refresh),
            "dead_families": len(self.dead_families),
            "kids": len(self.kids),
            "cli_clients": len(self.clients),
            "cli_users": len(self.users),
        }


def _inactive(svc: Service, token: str) -> bool:
    r = svc.http.post("/introspect", data={"token": token}, auth=("web", svc_secret()))
    assert r.status_code == 200, r.text
    body: object = r.json()
    return body == {"active": False}


def svc_secret() -> str:
    from tests.support.storage import SECRET

    return SECRET


def check(svc: Service, ledger: Ledger, rng: random.Random, *, full: bool) -> int:
    """Check the ledger against the restarted service; return the number of checks."""
    items: list[str] = ledger.revoked_access + ledger.used_refresh + ledger.dead_families
    old, new = items[: ledger.checked], items[ledger.checked :]
    sample = old if full else rng.sample(old, min(len(old), 40))
    for token in new + sample:
        assert _inactive(svc, token), "an acknowledged revocation or use was lost"
    ledger.checked = len(items)
    return len(new) + len(sample)


def check_keys(store: str, master_key: str, ledger: Ledger) -> None:
    with KeyManager.open(store, master_key=master_key) as km:
        records = km.records()
        algs = km.signing_algs
    kids = [r.kid for r in records]
    assert len(kids) == len(set(kids)), "a key is duplicated"
    for alg in algs:
        active = [r for r in records if r.alg == alg and r.state == "active"]
        assert len(active) == 1, f"not exactly one active {alg} key"
    missing = ledger.kids - set(kids)
    assert not missing, f"acknowledged keys lost: {sorted(missing)}"


def _worker(svc: Service, ledger: Ledger, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    live: list[dict[str, Any]] = []
    while not stop.is_set():
        try:
            _one_op(svc, ledger, rng, live)
        except (httpx.HTTPError, OSError):
            return  # the service died under us: nothing in flight was acknowledged


def _one_op(svc: Service, ledger: Ledger, rng: random.Random, live: list[dict[str, Any]]) -> None:
    op = rng.random()
    if op < 0.25 or not live:
        r = svc.token(grant_type="password", username="alice", password="alice-password-1")
        if r.status_code == 200:
            live.append(r.json())
    elif op < 0.55:
        pair = rng.choice(live)
        r = svc.token(grant_type="refresh_token", refresh_token=pair["refresh_token"])
        if r.status_code == 200:
            with ledger.lock:
                ledger.used_refresh.append(pair["refresh_token"])
            pair.update(r.json())
        elif r.status_code == 400:
            live.remove(pair)
    elif op < 0.7:
        pair = live.pop(rng.randrange(len(live)))
        r = svc.http.post(
            "/revoke", data={"token": pair["access_token"]}, auth=("web", svc_secret())
        )
        if r.status_code == 200:
            with ledger.lock:
                ledger.revoked_access.append(pair["access_token"])
    elif op < 0.8:
        pair = live.pop(rng.randrange(len(live)))
        r = svc.http.post(
            "/revoke", data={"token": pair["refresh_token"]}, auth=("web", svc_secret())
        )
        if r.status_code == 200:
            with ledger.lock:
                ledger.dead_families.append(pair["refresh_token"])
    elif op < 0.9 and ledger.used_refresh:
        # Replaying a used token revokes its family: the newest token of it must stay dead.
        pair = rng.choice(live)
        old = pair["refresh_token"]
        r = svc.token(grant_type="refresh_token", refresh_token=old)
        if r.status_code != 200:
            return
        with ledger.lock:
            ledger.used_refresh.append(old)
        new = r.json()["refresh_token"]
        replay = svc.token(grant_type="refresh_token", refresh_token=old)
        if replay.status_code == 400:
            live.remove(pair)
            with ledger.lock:
                ledger.dead_families.append(new)
    else:
        r = svc.http.get("/.well-known/jwks.json")
        if r.status_code == 200:
            with ledger.lock:
                ledger.kids.update(k["kid"] for k in r.json()["keys"])


def _cli(svc: Service, ledger: Ledger, stop: threading.Event, rng: random.Random, n: int) -> None:
    env = dict(svc.env)
    while not stop.is_set():
        kind = rng.choice(["client", "user", "rotate"])
        name = f"{kind}{n}x{rng.randrange(10**9)}"
        if kind == "client":
            args = ["client", "add", name]
        elif kind == "user":
            args = ["user", "add", name, "--password-stdin"]
        else:
            args = ["keys", "rotate", "--force"]
        res = subprocess.run(
            [JWTKIT, *args], input="pw-" + name + "\n", env=env, capture_output=True,
            text=True, timeout=60, check=False,
        )  # fmt: skip
        if res.returncode != 0:
            continue  # not acknowledged (for example: the store was busy past its timeout)
        with ledger.lock:
            if kind == "client":
                ledger.clients.append(name)
            elif kind == "user":
                ledger.users.append(name)
            else:
                ledger.kids.add(json.loads(res.stdout)["kid"])


def check_accounts(store: str, ledger: Ledger) -> None:
    from jwtkit._storage import AccountRows, Database

    db = Database.open(store)
    try:
        rows = AccountRows(db)
        users = {u.username for u in rows.users()}
        clients = {c.client_id for c in rows.clients()}
    finally:
        db.close()
    assert set(ledger.users) <= users, "an acknowledged `jwtkit user add` was lost"
    assert set(ledger.clients) <= clients, "an acknowledged `jwtkit client add` was lost"


def run(
    store: str, *, kills: int, seed: int | None = None, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Run ``kills`` rounds on ``store``; return the ledger's counts and timings."""
    master_key = generate_master_key()
    init_keys(store, master_key)
    seed_accounts(store)
    rng = random.Random(seed)
    ledger = Ledger()
    checks = 0
    started = time.monotonic()
    for i in range(kills):
        svc = Service(store, master_key, key_cache_ttl="1", refresh_grace_seconds="0")
        checks += check(svc, ledger, rng, full=False)
        stop = threading.Event()
        threads = [
            threading.Thread(target=_worker, args=(svc, ledger, stop, rng.randrange(2**32)))
            for _ in range(2)
        ]
        threads.append(threading.Thread(target=_cli, args=(svc, ledger, stop, rng, i)))
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.3, 1.5))
        svc.kill()
        stop.set()
        for t in threads:
            t.join(90)
        if (i + 1) % 10 == 0 or i + 1 == kills:
            log(f"round {i + 1}/{kills}: {ledger.counts()}")
    svc = Service(store, master_key)
    try:
        checks += check(svc, ledger, rng, full=True)
    finally:
        svc.stop()
    check_keys(store, master_key, ledger)
    check_accounts(store, ledger)
    return {
        "kills": kills,
        "checks": checks,
        "seconds": round(time.monotonic() - started, 1),
        **ledger.counts(),
    }


@contextlib.contextmanager
def store_for(backend: str) -> Iterator[str]:
    """Yield a fresh store URL of ``backend`` (a temp SQLite file, a PostgreSQL schema)."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'jwtkit.db'}"
    else:
        with pg_schema("jwtkit_stress") as (_, url):
            yield url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--seed", type=int)
    args = parser.parse_args()
    with store_for(args.backend) as store:
        result = run(store, kills=args.kills, seed=args.seed)
    print(json.dumps({"backend": args.backend, **result}))


if __name__ == "__main__":
    main()
