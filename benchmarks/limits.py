"""The token service's limits under attack, measured (issue 10).

``python -m benchmarks.limits`` runs every part in one run and writes
``benchmarks/results/limits.md`` and ``limits.json``; ``python -m benchmarks.limits dos``
(or ``slow``, ``timing``, ``overhead``) runs one part. Every part starts real service
processes (``python -m jwtkit.server``, SQLite store in a temporary directory, the default
Argon2id cost unless said otherwise) on free loopback ports:

- ``dos``: 150 connections of bogus client authentication (random client ids and secrets),
  from one address, then from a different address per request (``X-Forwarded-For`` from a
  trusted proxy: what a botnet gets past the per-address limits). A paced probe measures the
  p99 of JWKS and of a valid ``client_credentials`` request before and during each attack;
  the goal is at most 3x the p99 without attack. The attacker runs in a process of its own.
- ``slow``: 300 connections that send part of a request head: under plain uvicorn, under the
  guard (default 10 s header timeout), and with a connection limit of 200.
- ``timing``: failed authentications of every kind over HTTP, interleaved rounds, median per
  kind next to the wrong-secret and wrong-password cases.
- ``overhead``: requests/s of a bare Starlette handler under uvicorn with httptools and
  uvloop, with and without the guard (``wrk``; skipped without it: ``apt-get install wrk``).

Nothing here is asserted by the test suite; the numbers go to docs/server.md.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import random
import secrets
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # Run as a script: make ``benchmarks`` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.service import _free_port, _get, _once, _request, _wait_ready

__all__ = ["main"]

RESULTS = Path(__file__).resolve().parent / "results"
CLIENT_ID = "bench-client"
ATTACK_CONNECTIONS = 150
PARTIAL_CONNECTIONS = 300
HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
# Settings given with --env KEY=VALUE, for every service this run starts.
EXTRA_ENV: dict[str, str] = {}
NO_LIMITS = {
    "JWTKIT_LOGIN_MAX_FAILURES_PER_USER": "1000000",
    "JWTKIT_LOGIN_MAX_FAILURES_PER_ADDRESS": "1000000",
    "JWTKIT_LOGIN_ACCOUNT_CEILING": "0",
    "JWTKIT_CLIENT_MAX_FAILURES": "1000000",
    "JWTKIT_CLIENT_MAX_FAILURES_PER_ADDRESS": "1000000",
}


# -- the service --------------------------------------------------------------------------


@contextlib.contextmanager
def _service(
    workdir: Path, env_extra: dict[str, str], *, command: Sequence[str] | None = None
) -> Iterator[tuple[int, dict[str, str]]]:
    """Start a service on a fresh store; yield (port, secrets of the accounts made)."""
    from argon2 import PasswordHasher

    from jwtkit.keys import KeyManager, generate_master_key
    from jwtkit.server._accounts import Accounts, make_password_hasher

    store = f"sqlite:///{workdir / f'limits-{secrets.token_hex(4)}.db'}"
    port = _free_port()
    master_key = generate_master_key()
    made: dict[str, str] = {"user_password": "correct horse battery staple"}
    with Accounts.open(store, hasher=make_password_hasher()) as accounts:
        made["secret"] = accounts.add_client(CLIENT_ID, scopes=("orders:read",))
        accounts.add_client("public", public=True)
        accounts.add_client("off-client", made["secret"])
        accounts.disable_client("off-client")
        accounts.add_user("alice", made["user_password"])
        accounts.add_user("off", made["user_password"])
        accounts.disable_user("off")
    # Accounts hashed with older, cheaper parameters (upgraded at their next success).
    with Accounts.open(store, hasher=PasswordHasher(1, 8192, 1)) as old:
        old.add_client("old-client", made["secret"])
        old.add_user("old", made["user_password"])
    with KeyManager.open(store, master_key=master_key) as km:
        km.active_key()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("JWTKIT_")},
        "JWTKIT_STORE": store,
        "JWTKIT_MASTER_KEY": master_key,
        "JWTKIT_ISSUER": f"http://127.0.0.1:{port}",
        **env_extra,
        **EXTRA_ENV,
    }
    argv = list(command or [sys.executable, "-m", "jwtkit.server", "127.0.0.1", str(port)])
    log = (workdir / f"server-{port}.log").open("wb")
    proc = subprocess.Popen(
        [a.replace("{port}", str(port)) for a in argv],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_ready(port, proc)
        yield port, made
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _post(port: int, path: str, form: str, *, auth: tuple[str, str], extra: str = "") -> bytes:
    body = form.encode()
    basic = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Basic {basic}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
        f"{extra}\r\n"
    ).encode() + body


def _cc(port: int, client: str, secret: str, extra: str = "") -> bytes:
    return _post(
        port, "/token", "grant_type=client_credentials", auth=(client, secret), extra=extra
    )


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values) or [0.0]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {
        "n": len(values),
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": p99 * 1000,
        "max_ms": ordered[-1] * 1000,
    }


# -- dos: 150 connections of bogus client authentication ------------------------------------


async def _probe(
    port: int, secret: str, seconds: float, interval: float, *, raw: bool = False
) -> dict[str, Any]:
    """Paced JWKS and valid client_credentials requests, each on its own connection.

    Returns per endpoint its percentiles, or with ``raw`` (latencies, error counts).
    """
    out: dict[str, Any] = {}

    async def paced(name: str, raw: bytes) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        latencies: list[float] = []
        errors: Counter[int | str] = Counter()
        start = time.perf_counter()
        tick = start
        while tick - start < seconds:
            tick += interval
            await asyncio.sleep(max(0.0, tick - time.perf_counter()))
            t0 = time.perf_counter()
            try:
                status, _ = await _request(reader, writer, raw)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                errors["connection"] += 1
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            if status == 200:
                latencies.append(time.perf_counter() - t0)
            else:
                errors[status] += 1
        writer.close()
        summary = {**_percentiles(latencies), "errors": dict(errors)}
        out[name] = (latencies, errors) if raw else summary

    await asyncio.gather(
        paced("jwks", _get("/.well-known/jwks.json", port)),
        paced("client_credentials", _cc(port, CLIENT_ID, secret)),
    )
    return out


async def _attack(port: int, connections: int, seconds: float, spoof: bool) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < deadline:
            extra = ""
            if spoof:
                a, b, c = (random.randrange(256) for _ in range(3))
                extra = f"X-Forwarded-For: 10.{a}.{b}.{c}\r\n"
            raw = _cc(port, "bogus-" + secrets.token_hex(6), secrets.token_urlsafe(24), extra)
            try:
                status, _ = await _request(reader, writer, raw)
                counts[str(status)] += 1
            except (OSError, asyncio.IncompleteReadError, ValueError):
                counts["reconnects"] += 1
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - t0
    return {
        "connections": connections,
        "seconds": elapsed,
        "statuses": dict(counts),
        "rps": sum(v for k, v in counts.items() if k.isdigit()) / elapsed,
    }


def _attacker(port: int, seconds: float, spoof: bool) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "benchmarks.limits", "_attack", str(port), str(seconds)]
        + (["--spoof"] if spoof else []),
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )


def measure_dos(seconds: float = 8.0, rounds: int = 5) -> dict[str, Any]:
    """Probe p99 without attack, under a one-address attack and under a spoofed one.

    The three phases are interleaved, ``rounds`` times, and each phase's samples pooled, so
    that other load on a shared machine weighs on all three alike.
    """
    interval = 0.025
    pooled: dict[str, dict[str, list[float]]] = {}
    per_round: dict[str, list[dict[str, float]]] = {}
    attacks: dict[str, Counter[str]] = {}
    attack_rps: dict[str, list[float]] = {}
    errors: dict[str, Counter[str]] = {}
    plan = (("no attack", None), ("one address", False), ("one address per request", True))
    with (
        tempfile.TemporaryDirectory() as tmp,
        _service(Path(tmp), {"JWTKIT_FORWARDED_ALLOW_IPS": "127.0.0.1"}) as (port, made),
    ):
        secret = made["secret"]
        asyncio.run(_probe(port, secret, 2.0, interval))  # warm up; remembers the secret
        for _ in range(rounds):
            for name, spoof in plan:
                attacker = None if spoof is None else _attacker(port, seconds + 4.0, spoof)
                if attacker is not None:
                    time.sleep(3.0)  # the attack is in full swing before the probe starts
                probe = asyncio.run(_probe(port, secret, seconds, interval, raw=True))
                if attacker is not None:
                    out, _ = attacker.communicate(timeout=seconds + 120)
                    attack = json.loads(out)
                    attacks.setdefault(name, Counter()).update(attack["statuses"])
                    attack_rps.setdefault(name, []).append(attack["rps"])
                    time.sleep(3.0)  # let the queue drain before the next phase
                for endpoint, (latencies, errs) in probe.items():
                    pooled.setdefault(name, {}).setdefault(endpoint, []).extend(latencies)
                    errors.setdefault(f"{name}/{endpoint}", Counter()).update(errs)
                    per_round.setdefault(f"{name}/{endpoint}", []).append(
                        _percentiles(latencies)["p99_ms"]
                    )
    phases: dict[str, Any] = {}
    for name, endpoints in pooled.items():
        phases[name] = {
            "probe": {
                endpoint: {
                    **_percentiles(latencies),
                    "errors": dict(errors[f"{name}/{endpoint}"]),
                    "p99_per_round_ms": per_round[f"{name}/{endpoint}"],
                }
                for endpoint, latencies in endpoints.items()
            }
        }
        if name in attacks:
            phases[name]["attack"] = {
                "connections": ATTACK_CONNECTIONS,
                "statuses": dict(attacks[name]),
                "rps": statistics.mean(attack_rps[name]),
            }
    base = phases["no attack"]["probe"]
    for phase in phases.values():
        for endpoint, row in phase["probe"].items():
            row["p99_vs_no_attack"] = row["p99_ms"] / base[endpoint]["p99_ms"]
    return {
        "phases": phases,
        "interval_s": interval,
        "seconds": seconds,
        "rounds": rounds,
        "goal": "p99 under attack <= 3x the p99 without attack, for JWKS and client_credentials",
    }


# -- slow: 300 partial-header connections -------------------------------------------------


def _partial_connections(port: int, count: int) -> tuple[list[socket.socket], int, float]:
    """Open ``count`` connections that each send part of a head; return them, the number
    refused at once with 503, and when the last one was opened (``time.monotonic()``)."""
    socks: list[socket.socket] = []
    refused = 0
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(HEAD)
        socks.append(sock)
    opened = time.monotonic()
    time.sleep(0.5)
    kept = []
    for sock in socks:
        readable, _, _ = select.select([sock], [], [], 0)
        if readable and sock.recv(65536, socket.MSG_PEEK).startswith(b"HTTP/1.1 503"):
            refused += 1
            sock.close()
        else:
            kept.append(sock)
    return kept, refused, opened


def _watch(socks: list[socket.socket], seconds: float, origin: float) -> dict[str, Any]:
    """Watch connections until the server closed them all or ``seconds`` after ``origin``
    passed; times are counted from ``origin`` (when the connections were opened)."""
    closed_at: list[float] = []
    answers: Counter[str] = Counter()
    open_socks = {s.fileno(): s for s in socks}
    while open_socks and time.monotonic() - origin < seconds:
        readable, _, _ = select.select(list(open_socks.values()), [], [], 0.1)
        for sock in readable:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                data = b""
            if data:  # the server's answer (408, 503); its close comes next
                answers[data.split(b"\r\n", 1)[0].decode("latin-1")] += 1
                continue
            closed_at.append(time.monotonic() - origin)
            del open_socks[sock.fileno()]
            sock.close()
    for sock in open_socks.values():
        sock.close()
    never = len(open_socks)
    marks = {
        f"open_after_{mark}s": never + sum(1 for t in closed_at if t > mark)
        for mark in (5, 9, 15, 30, 60)
        if mark <= seconds
    }
    return {
        "connections": len(socks),
        "still_open_at_end": never,
        "watched_s": seconds,
        **marks,
        "first_closed_s": min(closed_at) if closed_at else None,
        "last_closed_s": max(closed_at) if closed_at else None,
        "answers": dict(answers),
    }


def _jwks_while(port: int, seconds: float) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        latencies: list[float] = []
        errors = 0
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            try:
                status, _ = await _once(port, _get("/.well-known/jwks.json", port))
            except (OSError, asyncio.IncompleteReadError, ValueError):
                status = 0
            if status == 200:
                latencies.append(time.perf_counter() - t0)
            else:
                errors += 1
            await asyncio.sleep(0.05)
        return {**_percentiles(latencies), "errors": errors}

    return asyncio.run(run())


PLAIN_UVICORN = (
    "import uvicorn; from jwtkit.server import Settings, create_app; "
    "uvicorn.run(create_app(Settings.from_env()), host='127.0.0.1', port={port}, "
    "log_level='warning')"
)


def measure_slow(observe: float = 20.0, plain_observe: float = 60.0) -> dict[str, Any]:
    """300 partial heads: plain uvicorn, the guard with its defaults, a connection limit."""
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        with _service(Path(tmp), {}, command=[sys.executable, "-c", PLAIN_UVICORN]) as (port, _):
            socks, _, opened = _partial_connections(port, PARTIAL_CONNECTIONS)
            out["plain uvicorn"] = _watch(socks, plain_observe, opened)
        with _service(Path(tmp), {}) as (port, _):
            socks, refused, opened = _partial_connections(port, PARTIAL_CONNECTIONS)
            with ThreadPoolExecutor(1) as pool:
                jwks = pool.submit(_jwks_while, port, 5.0)
                watched = _watch(socks, observe, opened)
            out["guard (header timeout 10 s)"] = {
                **watched,
                "refused": refused,
                "jwks_meanwhile": jwks.result(),
            }
        with _service(Path(tmp), {"JWTKIT_MAX_CONNECTIONS": "200"}) as (port, _):
            socks, refused, opened = _partial_connections(port, PARTIAL_CONNECTIONS)
            status, _ = asyncio.run(_once(port, _get("/.well-known/jwks.json", port)))
            watched = _watch(socks, observe, opened)
            after, _ = asyncio.run(_once(port, _get("/.well-known/jwks.json", port)))
            out["guard + max 200 connections"] = {
                **watched,
                "refused_with_503": refused,
                "new_request_while_full": status,
                "new_request_after_timeouts": after,
            }
    return out


# -- timing: every failed authentication costs the same ------------------------------------


def measure_timing(rounds: int = 20) -> dict[str, Any]:
    """Median time of each kind of failed authentication, interleaved, default Argon2 cost."""
    with tempfile.TemporaryDirectory() as tmp, _service(Path(tmp), NO_LIMITS) as (port, made):
        secret, password = made["secret"], made["user_password"]

        def login(user: str, pw: str) -> bytes:
            form = f"grant_type=password&username={user}&password={pw.replace(' ', '+')}"
            return _post(port, "/token", form, auth=(CLIENT_ID, secret))

        cases = {
            "client: wrong secret": (_cc(port, CLIENT_ID, "wrong-" + secret), 401),
            "client: unknown id": (_cc(port, "nobody", secret), 401),
            "client: public id with a secret": (_cc(port, "public", secret), 401),
            "client: disabled, right secret": (_cc(port, "off-client", secret), 401),
            "client: older cheaper hash, wrong secret": (
                _cc(port, "old-client", "x" + secret),
                401,
            ),
            "user: wrong password": (login("alice", "wrong"), 400),
            "user: unknown": (login("nobody", password), 400),
            "user: disabled, right password": (login("off", password), 400),
            "user: older cheaper hash, wrong password": (login("old", "wrong"), 400),
        }
        asyncio.run(_once(port, _cc(port, CLIENT_ID, secret)))  # remember the client
        samples: dict[str, list[float]] = {name: [] for name in cases}
        unexpected: Counter[str] = Counter()
        for _ in range(rounds + 1):  # the first round warms up (the dummy hash is made)
            order = list(cases)
            random.shuffle(order)
            for name in order:
                raw, expected = cases[name]
                t0 = time.perf_counter()
                status, _ = asyncio.run(_once(port, raw))
                samples[name].append(time.perf_counter() - t0)
                if status != expected:
                    unexpected[f"{name}: {status}"] += 1
    rows = {}
    for name, values in samples.items():
        kept = sorted(values[1:])
        rows[name] = {
            "median_ms": statistics.median(kept) * 1000,
            "p10_ms": kept[len(kept) // 10] * 1000,
            "p90_ms": kept[(len(kept) * 9) // 10] * 1000,
        }
    for name, row in rows.items():
        ref = rows["client: wrong secret" if name.startswith("client") else "user: wrong password"]
        row["vs_reference"] = row["median_ms"] / ref["median_ms"]
    return {"rounds": rounds, "rows": rows, "unexpected": dict(unexpected)}


# -- overhead: the guard on the fastest stack ------------------------------------------------

BARE_APP = """
import sys, uvicorn
from urllib.parse import parse_qsl
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from jwtkit.server._guard import guarded_protocol

async def token(request):
    form = dict(parse_qsl((await request.body()).decode()))
    return JSONResponse({"access_token": "x" * 500, "token_type": "Bearer",
                         "expires_in": 900, "scope": form.get("scope", "")})

app = Starlette(routes=[Route("/token", token, methods=["POST"])])
http = "httptools"
if sys.argv[2] == "guard":
    http = guarded_protocol(header_timeout=10, body_timeout=10, max_connections=1000,
                            http="httptools")
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), http=http, loop="uvloop",
            log_level="warning", access_log=False)
"""

WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = "grant_type=client_credentials&scope=orders%3Aread"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
"""


def measure_overhead(rounds: int = 3, seconds: int = 5) -> dict[str, Any]:
    """Requests/s of a bare handler (httptools + uvloop), without and with the guard."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return {"skipped": "wrk is not installed (apt-get install wrk)"}
    for module in ("httptools", "uvloop"):
        try:
            __import__(module)
        except ImportError:
            return {"skipped": f"{module} is not installed (pip install -e '.[bench]')"}
    results: dict[str, list[float]] = {"plain": [], "guard": []}
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "post.lua"
        script.write_text(WRK_SCRIPT)
        app = Path(tmp) / "bare.py"
        app.write_text(BARE_APP)
        for _ in range(rounds):
            for mode in ("plain", "guard"):
                port = _free_port()
                proc = subprocess.Popen([sys.executable, str(app), str(port), mode])
                try:
                    _wait_port(port)
                    run = subprocess.run(
                        [
                            wrk,
                            "-t1",
                            "-c32",
                            f"-d{seconds}s",
                            "-s",
                            str(script),
                            f"http://127.0.0.1:{port}/token",
                        ],
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    results[mode].append(_wrk_rps(run.stdout))
                finally:
                    proc.terminate()
                    proc.wait(timeout=20)
    plain, guard = (statistics.median(results[m]) for m in ("plain", "guard"))
    return {
        "stack": "uvicorn, httptools, uvloop, 1 process; wrk -t1 -c32",
        "rps": results,
        "median_plain": plain,
        "median_guard": guard,
        "guard_vs_plain": guard / plain,
    }


def _wait_port(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.1)
    raise RuntimeError("the bare server did not start")


def _wrk_rps(text: str) -> float:
    for line in text.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    raise RuntimeError(f"no Requests/sec in wrk's output: {text[-500:]}")


# -- report ---------------------------------------------------------------------------------


def report(result: dict[str, Any]) -> str:
    """Render the results as Markdown."""
    lines = ["# Limits of the token service (issue 10)", ""]
    meta = result.get("meta", {})
    if meta:
        lines += [f"Measured {meta['date']} on {meta['machine']}; {meta['note']}", ""]
    dos = result.get("dos")
    if dos:
        lines += [
            f"## {ATTACK_CONNECTIONS} connections of bogus client authentication",
            "",
            f"Probe: one JWKS and one valid client_credentials request every "
            f"{dos['interval_s'] * 1000:.0f} ms, each on its own connection; the three phases "
            f"interleaved, {dos['rounds']} rounds of {dos['seconds']:g} s each, samples pooled "
            f"per phase. Goal: {dos['goal']}.",
            "",
            "| phase | endpoint | p50 ms | p99 ms | max ms | p99 / no attack | p99 per round"
            " | errors |",
            "| --- | --- | ---: | ---: | ---: | ---: | --- | --- |",
        ]
        for phase, data in dos["phases"].items():
            for endpoint, row in data["probe"].items():
                rounds_p99 = " / ".join(f"{v:.1f}" for v in row["p99_per_round_ms"])
                lines.append(
                    f"| {phase} | {endpoint} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | "
                    f"{row['max_ms']:.1f} | {row['p99_vs_no_attack']:.2f} | {rounds_p99} | "
                    f"{row['errors'] or 0} |"
                )
        lines += ["", "| attack | requests/s | answers |", "| --- | ---: | --- |"]
        for phase, data in dos["phases"].items():
            if "attack" in data:
                attack = data["attack"]
                answers = ", ".join(f"{k}: {v}" for k, v in sorted(attack["statuses"].items()))
                lines.append(f"| {phase} | {attack['rps']:.0f} | {answers} |")
        lines.append("")
    slow = result.get("slow")
    if slow:
        lines += [
            f"## {PARTIAL_CONNECTIONS} connections sending part of a request head",
            "",
            "Counted from the moment all were open.",
            "",
            "| server | open after 5 s | 9 s | 15 s | 60 s | first / last closed (s) | answers |",
            "| --- | ---: | ---: | ---: | ---: | --- | --- |",
        ]
        for name, row in slow.items():
            answers = ", ".join(f"{k}: {v}" for k, v in row["answers"].items()) or "none"
            first, last = row["first_closed_s"], row["last_closed_s"]
            closed = "never" if first is None else f"{first:.1f} / {last:.1f}"
            if first is not None and row["still_open_at_end"]:
                closed = f"{first:.1f} / -"
            cells = [str(row.get(f"open_after_{m}s", "-")) for m in (5, 9, 15, 60)]
            lines.append(f"| {name} | {' | '.join(cells)} | {closed} | {answers} |")
        guard = slow.get("guard (header timeout 10 s)", {})
        limit = slow.get("guard + max 200 connections", {})
        if guard:
            j = guard["jwks_meanwhile"]
            lines += [
                "",
                f"While the 300 were open under the guard, JWKS on new connections: p50 "
                f"{j['p50_ms']:.1f} ms, p99 {j['p99_ms']:.1f} ms, {j['errors']} errors.",
            ]
        if limit:
            lines.append(
                f"With a limit of 200: {limit['refused_with_503']} refused at once with 503; a "
                f"new request while full: {limit['new_request_while_full']}; after the "
                f"timeouts: {limit['new_request_after_timeouts']}."
            )
        lines.append("")
    timing = result.get("timing")
    if timing:
        lines += [
            "## Failed authentication: time per kind (default Argon2id cost)",
            "",
            f"{timing['rounds']} interleaved rounds over HTTP; reference: the wrong secret of an "
            "existing client, the wrong password of an existing user.",
            "",
            "| case | median ms | p10 ms | p90 ms | median / reference |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for name, row in timing["rows"].items():
            lines.append(
                f"| {name} | {row['median_ms']:.1f} | {row['p10_ms']:.1f} | "
                f"{row['p90_ms']:.1f} | {row['vs_reference']:.2f} |"
            )
        if timing["unexpected"]:
            lines.append(f"\nUnexpected answers: {timing['unexpected']}")
        lines.append("")
    overhead = result.get("overhead")
    if overhead:
        lines += ["## The guard on the fastest stack", ""]
        if "skipped" in overhead:
            lines.append(f"Skipped: {overhead['skipped']}")
        else:
            lines.append(
                f"{overhead['stack']}, a bare Starlette form handler: "
                f"{overhead['median_plain']:.0f} req/s without the guard, "
                f"{overhead['median_guard']:.0f} with it "
                f"({overhead['guard_vs_plain']:.3f}x; medians of {len(overhead['rps']['plain'])})."
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the parts asked for and write the results."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.limits", description=__doc__)
    parser.add_argument(
        "parts",
        nargs="*",
        default=["dos", "slow", "timing", "overhead"],
        help="dos, slow, timing, overhead (default: all)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a JWTKIT_* setting for every service started (repeatable)",
    )
    args, rest = parser.parse_known_args(argv)
    EXTRA_ENV.update(item.split("=", 1) for item in args.env)
    if args.parts and args.parts[0] == "_attack":
        port, seconds = int(args.parts[1]), float(args.parts[2])
        result = asyncio.run(_attack(port, ATTACK_CONNECTIONS, seconds, "--spoof" in rest))
        print(json.dumps(result))
        return 0
    runners = {
        "dos": measure_dos,
        "slow": measure_slow,
        "timing": measure_timing,
        "overhead": measure_overhead,
    }
    result: dict[str, Any] = {
        "meta": {
            "date": time.strftime("%Y-%m-%d"),
            "machine": f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}",
            "note": "a machine shared with other work; ratios are within this run.",
        }
    }
    for part in args.parts:
        print(f"== {part}", file=sys.stderr)
        result[part] = runners[part]()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "limits.json").write_text(json.dumps(result, indent=2) + "\n")
    text = report(result)
    (args.out / "limits.md").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
