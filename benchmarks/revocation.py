"""How long a locally verifying resource server keeps accepting a revoked token (issue 11).

``python -m benchmarks.revocation`` starts the token service (``python -m jwtkit.server``) and
the resource server of ``examples/resource_server.py`` (JWKS + ``RevocationListCheck``) as
separate processes on loopback, over a fresh SQLite store. Each trial logs in, waits until the
resource server accepts the access token, waits a random time (so that trials fall on every
phase of the poller and of the issuer's one-second list cache), revokes the session (``POST
/revoke`` of the refresh token) and then asks the resource server every 5 ms until it answers
401. The staleness is the
time from the revocation's 200 to that first 401. Any 200 later than ``max_staleness`` would be
a broken bound and is counted. It runs once with the defaults (interval 2 s, bound 10 s) and
once with a short interval.

It also measures the two costs the design rests on: the check on the request path (ns per
call, against a bare ``dict`` membership test in the same run), and the revocation-list
endpoint under load (requests/s for a full 200 and for a 304 revalidation, 1,000 entries).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # Run as a script: make ``benchmarks`` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks.service import _request

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "resource_server.py"
FAST_ARGON2 = {"JWTKIT_ARGON2_TIME_COST": "1", "JWTKIT_ARGON2_MEMORY_COST": "8",
               "JWTKIT_ARGON2_PARALLELISM": "1"}  # fmt: skip
USER, PASSWORD = "alice", "bench-password-1"
WEB, WEB_SECRET = "web", "web-secret-0123456789"
API, API_SECRET = "api", "api-secret-0123456789"
ISSUER = "http://id.bench"
LIST_CACHE = 1.0  # the service's default JWTKIT_REVOCATION_LIST_CACHE


class Child:
    """A uvicorn program in a child process; its URL is read from uvicorn's start-up line."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        self.url = ""
        self._ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            if "Uvicorn running on " in line and not self.url:
                self.url = line.split("Uvicorn running on ", 1)[1].split()[0]
                self._ready.set()
        self._ready.set()

    def wait(self) -> str:
        self._ready.wait(60)
        if not self.url:
            raise RuntimeError(f"{self.proc.args!r} did not start")
        return self.url

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@contextmanager
def service(tmp: Path) -> Iterator[tuple[str, str]]:
    """Run the token service over a new store; yield its URL and the store URL."""
    from jwtkit.keys import generate_master_key
    from jwtkit.server import Accounts
    from jwtkit.server._accounts import make_password_hasher

    store = f"sqlite:///{tmp / 'jwtkit.db'}"
    hasher = make_password_hasher(time_cost=1, memory_cost=8, parallelism=1)
    with Accounts.open(store, hasher=hasher) as accounts:
        accounts.add_user(USER, PASSWORD)
        accounts.add_client(WEB, WEB_SECRET, grants=("password", "refresh_token"))
        accounts.add_client(API, API_SECRET, grants=("client_credentials",), resource_server=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JWTKIT_")}
    env.update(FAST_ARGON2, JWTKIT_STORE=store, JWTKIT_MASTER_KEY=generate_master_key(),
               JWTKIT_ISSUER=ISSUER, JWTKIT_AUDIENCE="api")  # fmt: skip
    child = Child([sys.executable, "-m", "jwtkit.server", "127.0.0.1", "0"], env)
    try:
        yield child.wait(), store
    finally:
        child.stop()


@contextmanager
def resource_server(issuer_url: str, interval: float, bound: float) -> Iterator[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JWTKIT_", "RS_"))}
    env.update(
        RS_CLIENT_ID=API,
        RS_CLIENT_SECRET=API_SECRET,
        RS_ISSUER=ISSUER,
        RS_AUDIENCE="api",
        RS_INTERVAL=str(interval),
        RS_MAX_STALENESS=str(bound),
    )
    child = Child([sys.executable, str(EXAMPLE), issuer_url, "0"], env)
    try:
        yield child.wait()
    finally:
        child.stop()


def staleness(
    issuer: str, api: str, *, trials: int, interval: float, bound: float
) -> dict[str, Any]:
    """Revoke ``trials`` sessions; return the revoke-to-401 times and broken-bound count."""
    times: list[float] = []
    late = 0
    with httpx.Client(timeout=30) as http:
        for _ in range(trials):
            login = {"grant_type": "password", "username": USER, "password": PASSWORD}
            body = http.post(issuer + "/token", auth=(WEB, WEB_SECRET), data=login).json()
            bearer = {"Authorization": f"Bearer {body['access_token']}"}
            while http.get(api + "/me", headers=bearer).status_code != 200:
                time.sleep(0.05)  # the first list, or the JWKS, is still being fetched
            # Land anywhere in the poller's and the issuer's list-cache cycles.
            time.sleep(random.uniform(0, interval + LIST_CACHE))
            revoked = http.post(issuer + "/revoke", auth=(WEB, WEB_SECRET),
                                data={"token": body["refresh_token"]})  # fmt: skip
            assert revoked.status_code == 200
            done = time.monotonic()
            while (status := http.get(api + "/me", headers=bearer).status_code) == 200:
                time.sleep(0.005)
            elapsed = time.monotonic() - done
            if status != 401 or elapsed > bound:
                late += 1
            times.append(elapsed)
    times.sort()
    return {
        "interval_s": interval,
        "max_staleness_s": bound,
        "trials": trials,
        "p50_s": statistics.median(times),
        "p95_s": times[min(len(times) - 1, int(len(times) * 0.95))],
        "max_s": times[-1],
        "mean_s": statistics.fmean(times),
        "over_bound": late,
    }


def check_cost(calls: int = 1_000_000) -> dict[str, Any]:
    """ns per ``RevocationListCheck`` call (10,000 entries) vs a bare dict membership test,
    and next to the ES256 ``Verifier.verify`` it follows on every request."""
    from jwtkit import Key, KeySet, Signer, Verifier
    from jwtkit._revocation import Revocations
    from jwtkit.client import RevocationListCheck
    from jwtkit.client.revocation import _Snapshot

    jti = {f"j{i}": 2e9 for i in range(10_000)}
    families = {f"f{i}": 2e9 for i in range(10_000)}
    subjects = {f"u{i}": (1e9, 2e9) for i in range(1_000)}
    check = RevocationListCheck("https://id.test/revocations", API, API_SECRET, autostart=False)
    check._snapshot = _Snapshot(Revocations(jti, families, subjects), None, time.monotonic())
    claims = {"jti": "live", "jwtkit_fid": "live", "sub": "alice", "client_id": "web",
              "iat": 1_900_000_000}  # fmt: skip
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            check(claims)
        full = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(calls):
            claims["jti"] in jti  # noqa: B015 - the baseline: one bare membership test
        bare = time.perf_counter() - start
        rounds.append((full, bare))
    check.close()
    full, bare = min(rounds)
    key = Key.generate("ES256", kid="k")
    token = Signer(key, issuer=ISSUER, audience="api", lifetime=3600).sign({"sub": "alice"})
    verifier = Verifier(KeySet([key.public()]), algorithms=["ES256"], issuer=ISSUER,
                        audience="api")  # fmt: skip
    verifies = 2_000
    best = min(_timed(lambda: verifier.verify(token), verifies) for _ in range(5))
    return {
        "check_ns": full / calls * 1e9,
        "dict_in_ns": bare / calls * 1e9,
        "check_vs_dict_in": full / bare,
        "es256_verify_ns": best / verifies * 1e9,
        "check_share_of_verify": (full / calls) / (best / verifies),
    }


def _timed(fn: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return time.perf_counter() - start


async def _load(port: int, raw: bytes, seconds: float, connections: int) -> tuple[int, int]:
    ok = errors = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal ok, errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                status, _ = await _request(reader, writer, raw)
                if status in (200, 304):
                    ok += 1
                else:
                    errors += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return ok, errors


def endpoint_load(issuer: str, store: str, *, seconds: float = 4.0) -> dict[str, Any]:
    """Requests/s of GET /revocations with 1,000 entries: full answers and 304s."""
    from jwtkit._storage import Database, Families

    db = Database.open(store)
    try:
        families = Families(db)
        for i in range(1_000):
            families.deny(f"bench-jti-{i:04d}-" + "x" * 16, time.time() + 3600)
    finally:
        db.close()
    port = int(issuer.rsplit(":", 1)[1])
    basic = base64.b64encode(f"{API}:{API_SECRET}".encode()).decode()
    time.sleep(LIST_CACHE + 0.1)  # past the issuer's list cache: the entries are listed
    first = httpx.get(issuer + "/revocations", auth=(API, API_SECRET))
    etag = first.headers["etag"]
    listed = first.json()
    entries = sum(len(listed[kind]) for kind in ("jti", "families", "subjects"))
    out: dict[str, Any] = {"entries": entries, "bytes": len(first.content)}
    for name, extra in (("full_rps", ""), ("not_modified_rps", f"If-None-Match: {etag}\r\n")):
        raw = (f"GET /revocations HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
               f"Authorization: Basic {basic}\r\n{extra}\r\n").encode()  # fmt: skip
        ok, errors = asyncio.run(_load(port, raw, seconds, 4))
        out[name] = ok / seconds
        out[name.replace("rps", "errors")] = errors
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the measurements and print them as JSON (and a short table)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.revocation", description=__doc__)
    parser.add_argument("--trials", type=int, default=30, help="revocations per setting")
    parser.add_argument("--short-interval", type=float, default=0.2, help="second setting")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    result: dict[str, Any] = {"staleness": []}
    with tempfile.TemporaryDirectory() as tmp, service(Path(tmp)) as (issuer, store):
        for interval, bound in ((2.0, 10.0), (args.short_interval, 2.0)):
            with resource_server(issuer, interval, bound) as api:
                row = staleness(issuer, api, trials=args.trials, interval=interval, bound=bound)
                result["staleness"].append(row)
                print(
                    f"interval {interval:g} s, bound {bound:g} s: p50 {row['p50_s']:.3f} s, "
                    f"p95 {row['p95_s']:.3f} s, max {row['max_s']:.3f} s, "
                    f"over the bound {row['over_bound']}/{row['trials']}",
                    flush=True,
                )
        result["endpoint"] = endpoint_load(issuer, store)
    result["check"] = check_cost()
    print(json.dumps(result, indent=2))
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
