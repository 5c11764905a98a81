"""Token-service load test (issue 18): each endpoint against the bare web-stack ceiling.

``python -m benchmarks.service`` starts, on loopback, with the same server stack, settings and
worker count (``jwtkit.server.serve``: uvicorn, its fastest parser and loop, the slow-client
guard, the access log as configured):

1. the **ceiling**: a bare Starlette ``POST /token`` that parses the same form with the
   service's parser and answers a JSON body of the size of a real token response
   (``benchmarks.service_apps``);
2. the token service on **PostgreSQL** (a database of its own on 127.0.0.1:5432, dropped
   after) and on **SQLite** (a file in a temporary directory), each measured on
   ``client_credentials``, ``refresh_token`` (one rotation, i.e. a database write, per
   request), ``/introspect`` and ``/.well-known/jwks.json``;
3. a **resource server**: one small JSON endpoint unprotected, behind ``BearerAuthMiddleware``
   with an ES256 ``Verifier``, and the same with the verified-token cache, called with a
   token of the service.

Load comes from wrk (Debian's package, installed with apt-get when missing and allowed) or,
failing that, an asyncio keep-alive client. For each phase it reports requests/s, p50/p99,
errors (anything but 200), the share of the server's CPU (all its processes) spent signing or
verifying (requests x the in-process CPU cost of one operation / server CPU), and the ratio
to the ceiling measured in the same run with the same worker count. Phases run in rounds
(``--rounds``), each round in the same order; a row reports the median round.

``--profile`` then samples every server process with py-spy (``pip install py-spy``, in the
bench extra) during one more run of each phase, and writes where the time goes by component.
Results: ``benchmarks/results/service.md``, ``service.json``, ``service.png`` and, with
``--profile LABEL``, ``service-profile-LABEL.md``. Nothing is measured if ``jwtkit.server``
is missing: the result says why.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import dataclasses
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # Run as a script: make ``benchmarks`` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.loadgen import Load, Outcome, ensure_wrk, request_once, run_async, run_wrk

__all__ = ["main", "measure_service"]

CLIENT_ID = "bench-client"
RS_ID = "bench-rs"
APP_ID = "bench-app"
USER = "bench-user"
PASSWORD = "correct horse battery staple"  # A benchmark account.
SCOPE = "orders:read"
PHASE_SECONDS = 5.0
CONNECTIONS = 32
RESULTS = Path(__file__).resolve().parent / "results"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


# -- small helpers (also used by benchmarks.limits) -----------------------------------------


def _missing() -> str:
    for module in ("jwtkit.server", "jwtkit.client", "uvicorn", "argon2", "starlette"):
        try:
            __import__(module)
        except ImportError as exc:
            return f"{module} is not importable ({exc}); install jwtkit[server,client]"
    return ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes
) -> tuple[int, bytes]:
    from benchmarks.loadgen import _response

    writer.write(raw)
    return await _response(reader)


async def _once(port: int, raw: bytes) -> tuple[int, bytes]:
    return await request_once(port, raw)


def _get(path: str, port: int) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()


def _wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with status {proc.returncode} at start")
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, ValueError):
            status, _ = asyncio.run(_once(port, _get("/healthz", port)))
            if status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer /healthz within {timeout:g} s")


def _tree(pid: int) -> list[int]:
    """Return ``pid`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo += children.get(current, [])
    return out


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process tree (all threads of every process) from /proc."""
    total = 0
    for member in _tree(pid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{member}/stat").read_text().rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _postgres_cpu_seconds() -> float:
    """CPU time of every PostgreSQL server process on this machine (``comm`` postgres): the
    database's share of the cores, which the service's own processes do not include."""
    total = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                head, _, rest = (entry / "stat").read_text().rpartition(")")
                if head.endswith("(postgres"):
                    fields = rest.split()
                    total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


FORM = (("Content-Type", "application/x-www-form-urlencoded"),)


def _post(path: str, auth: str, body: str) -> Load:
    return Load("POST", path, (("Authorization", auth), *FORM), body)


# -- the servers -----------------------------------------------------------------------------


@dataclass
class Server:
    """A server process on loopback: its name, port, pid, and what the phases need."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    workers: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.proc.pid


def _supports_workers() -> bool:
    from jwtkit.server import Settings

    return any(f.name == "workers" for f in dataclasses.fields(Settings))


def _default_workers(store: str) -> int:
    """The worker count ``jwtkit serve`` picks for ``store`` (1 before --workers existed)."""
    if not _supports_workers():
        return 1
    from jwtkit.server import Settings

    settings = Settings(store=store)
    resolved = getattr(settings, "worker_count", None)
    return int(resolved()) if callable(resolved) else 1


@contextlib.contextmanager
def _start(
    name: str, argv: Sequence[str], env: dict[str, str], workdir: Path, port: int, workers: int
) -> Iterator[Server]:
    log = (workdir / f"{name}-{port}.log").open("wb")
    proc = subprocess.Popen(list(argv), env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_ready(port, proc)
        yield Server(name, port, proc, workers)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _base_env(store: str, port: int, workers: int, extra: dict[str, str]) -> dict[str, str]:
    from jwtkit.keys import generate_master_key

    env = {k: v for k, v in os.environ.items() if not k.startswith("JWTKIT_")}
    env.update(
        JWTKIT_STORE=store,
        JWTKIT_MASTER_KEY=generate_master_key(),
        JWTKIT_ISSUER=f"http://127.0.0.1:{port}",
        **extra,
    )
    if _supports_workers():
        env["JWTKIT_WORKERS"] = str(workers)
    return env


@contextlib.contextmanager
def _service(
    label: str, store: str, workdir: Path, workers: int, extra: dict[str, str]
) -> Iterator[Server]:
    """Start the token service on a fresh ``store`` with the benchmark's accounts."""
    from jwtkit.server import Accounts

    made: dict[str, Any] = {}
    with Accounts.open(store) as accounts:  # The service's default Argon2id cost.
        made["cc"] = accounts.add_client(CLIENT_ID, scopes=(SCOPE,), grants=("client_credentials",))
        made["rs"] = accounts.add_client(RS_ID, resource_server=True)
        made["app"] = accounts.add_client(
            APP_ID, scopes=(SCOPE,), grants=("password", "refresh_token"), first_party=True
        )
        accounts.add_user(USER, PASSWORD)
    port = _free_port()
    env = _base_env(store, port, workers, extra)
    argv = [sys.executable, "-m", "jwtkit.server", "127.0.0.1", str(port)]
    with _start(label, argv, env, workdir, port, workers) as server:
        server.extra.update(made)
        yield server


@contextlib.contextmanager
def _postgres_store() -> Iterator[str | None]:
    """Create a database of our own on 127.0.0.1:5432; yield its URL (None if no server)."""
    try:
        import psycopg
    except ImportError:
        yield None
        return
    name = f"jwtkit_bench_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.Error:
        yield None
        return
    try:
        admin.execute(f"CREATE DATABASE {name}")  # A generated name, never input.
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with contextlib.suppress(psycopg.Error):
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def _app_server(
    kind: str, workdir: Path, workers: int, env_extra: dict[str, str], store: str
) -> contextlib.AbstractContextManager[Server]:
    port = _free_port()
    env = {**_base_env(store, port, workers, env_extra)}
    argv = [sys.executable, "-m", "benchmarks.service_apps", kind, "127.0.0.1", str(port)]
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(Path(__file__).resolve().parent.parent), env.get("PYTHONPATH")])
    )
    return _start(f"{kind}-{workers}w", argv, env, workdir, port, workers)


# -- requests --------------------------------------------------------------------------------


def _call(port: int, load: Load, body: str | None = None) -> tuple[int, bytes]:
    return asyncio.run(request_once(port, load.raw(port, body)))


def _cc_load(svc: Server) -> Load:
    return _post("/token", _basic(CLIENT_ID, svc.extra["cc"]), "grant_type=client_credentials")


def _access_token(svc: Server) -> str:
    status, body = _call(svc.port, _cc_load(svc))
    if status != 200:
        raise RuntimeError(f"{svc.name}: POST /token answered {status}: {body[:200]!r}")
    return str(json.loads(body)["access_token"])


def _refresh_seeds(svc: Server, count: int) -> list[str]:
    """Log in ``count`` times (password grant): one refresh-token chain per connection."""
    auth = _basic(APP_ID, svc.extra["app"])
    form = urllib.parse.urlencode(
        {"grant_type": "password", "username": USER, "password": PASSWORD, "scope": SCOPE}
    )

    async def login() -> list[str]:
        out = []
        for _ in range(count):
            status, body = await request_once(svc.port, _post("/token", auth, form).raw(svc.port))
            if status != 200:
                raise RuntimeError(f"{svc.name}: password grant answered {status}: {body[:200]!r}")
            out.append(json.loads(body)["refresh_token"])
        return out

    return asyncio.run(login())


def _refresh_load(svc: Server, seeds: Sequence[str]) -> Load:
    auth = _basic(APP_ID, svc.extra["app"])
    return dataclasses.replace(
        _post("/token", auth, "grant_type=refresh_token&refresh_token={token}"),
        seeds=tuple(seeds),
    )


def _introspect_load(svc: Server, token: str) -> Load:
    return _post("/introspect", _basic(RS_ID, svc.extra["rs"]), f"token={token}")


def _check_introspection(svc: Server, token: str) -> None:
    status, body = _call(svc.port, _introspect_load(svc, token))
    if status != 200 or not json.loads(body).get("active"):
        raise RuntimeError(f"{svc.name}: /introspect answered {status}: {body[:200]!r}")


# -- costs of the crypto, measured in this process -------------------------------------------


def _cpu_cost_us(fn: Callable[[], object], loops: int, repeats: int = 5) -> float:
    """Median CPU time of one call of ``fn`` in µs (CPU time: it is compared with the
    server's CPU time)."""
    runs = []
    for _ in range(repeats):
        start = time.process_time_ns()
        for _ in range(loops):
            fn()
        runs.append((time.process_time_ns() - start) / loops / 1000)
    return statistics.median(runs)


def _crypto_costs(token: str, jwks: str, issuer: str, audience: str) -> dict[str, float]:
    """CPU µs of one ES256 ``Signer.sign`` (the service's claims), one uncached and one
    cached ``Verifier.verify`` of the service's token."""
    from jwtkit import Key, KeySet, Signer, Verifier

    signer = Signer(Key.generate("ES256", kid="k"), issuer=issuer, audience=audience)
    claims = {"sub": f"client:{CLIENT_ID}", "client_id": CLIENT_ID, "scope": SCOPE}
    keys = KeySet.from_jwks(jwks)
    options: dict[str, Any] = {"algorithms": ["ES256"], "issuer": issuer, "audience": audience}
    plain = Verifier(keys, **options)
    cached = Verifier(keys, **options, cache_size=16)
    return {
        "sign": _cpu_cost_us(lambda: signer.sign(claims), 300),
        "verify": _cpu_cost_us(lambda: plain.verify(token), 300),
        "verify_cached": _cpu_cost_us(lambda: cached.verify(token), 3000),
    }


# -- phases ----------------------------------------------------------------------------------


@dataclass
class Phase:
    """One measured endpoint: where, what, and which crypto it spends per request."""

    key: str
    label: str
    server: Server
    load: Callable[[], Load]
    crypto: str | None = None  # "sign", "verify" or "verify_cached"
    group: str = "service"
    goal: tuple[str, float] | None = None  # (reference phase key, minimum ratio)
    samples: list[dict[str, Any]] = field(default_factory=list)


def _measure(
    phase: Phase, seconds: float, connections: int, wrk: str | None, costs: dict[str, float]
) -> dict[str, Any]:
    load = phase.load()
    server = phase.server
    # Warm-up (full runs): connections, caches, the remembered client secret. First a few
    # requests one at a time, so that every worker verifies the secret once (Argon2) before
    # 32 connections at once would each ask for that verification (see the notes).
    if not load.seeds and seconds >= 3:
        for _ in range(8 * server.workers):
            _call(server.port, load)
        _drive(wrk, server.port, load, min(1.0, seconds), connections)
        load = phase.load()
    cpu0, db0 = _cpu_seconds(server.pid), _postgres_cpu_seconds()
    outcome = _drive(wrk, server.port, load, seconds, connections)
    cpu = _cpu_seconds(server.pid) - cpu0
    db_cpu = _postgres_cpu_seconds() - db0
    row: dict[str, Any] = {
        "requests": outcome.requests,
        "rps": outcome.requests / outcome.seconds if outcome.seconds else 0.0,
        "p50_ms": outcome.p50_ms,
        "p99_ms": outcome.p99_ms,
        "errors": outcome.errors,
        "server_cpu_s": cpu,
        "seconds": outcome.seconds,
        "tool": outcome.tool,
        "cores_used": cpu / outcome.seconds if outcome.seconds else 0.0,
        "postgres_cores": db_cpu / outcome.seconds if outcome.seconds else 0.0,
    }
    if phase.crypto and cpu > 0:
        row["crypto_cpu_pct"] = 100 * outcome.requests * costs[phase.crypto] / 1e6 / cpu
    return row


def _drive(wrk: str | None, port: int, load: Load, seconds: float, connections: int) -> Outcome:
    if wrk is not None:
        return run_wrk(wrk, port, load, seconds=seconds, connections=connections)
    return run_async(port, load, seconds=seconds, connections=connections)


def _ratio(phase: Phase, ref: Phase) -> float:
    """The median over rounds of this phase's req/s over its reference's in the same round:
    a round's phases run minutes apart at most, so a change of the machine's load between
    rounds cancels out of the ratio."""
    ratios = [
        s["rps"] / r["rps"] for s, r in zip(phase.samples, ref.samples, strict=True) if r["rps"]
    ]
    return statistics.median(ratios) if ratios else 0.0


def _summarize(phases: Sequence[Phase]) -> list[dict[str, Any]]:
    """One row per phase (the median round by req/s) with its ratio to its reference."""
    rows: dict[str, dict[str, Any]] = {}
    for phase in phases:
        ordered = sorted(phase.samples, key=lambda s: s["rps"])
        row = dict(ordered[len(ordered) // 2])
        row.update(
            key=phase.key,
            name=phase.label,
            group=phase.group,
            workers=phase.server.workers,
            rounds_rps=[round(s["rps"]) for s in phase.samples],
            errors=sum(s["errors"] for s in phase.samples),
        )
        if phase.crypto:
            row["crypto"] = phase.crypto
        rows[phase.key] = row
    by_key = {p.key: p for p in phases}
    for phase in phases:
        row = rows[phase.key]
        ceiling = by_key.get(f"ceiling-{phase.server.workers}w")
        if ceiling is not None:
            row["ratio_ceiling"] = _ratio(phase, ceiling)
        if phase.goal:
            ref, minimum = phase.goal
            ratio = _ratio(phase, by_key[ref])
            row["goal"] = {
                "reference": rows[ref]["name"],
                "ratio": ratio,
                "minimum": minimum,
                "met": ratio >= minimum and row["errors"] == 0,
            }
    return list(rows.values())


# -- the run ---------------------------------------------------------------------------------


@dataclass
class Options:
    """What ``measure_service`` runs."""

    seconds: float = PHASE_SECONDS
    rounds: int = 1
    connections: int = CONNECTIONS
    workers: int | None = None  # None: the default of each store
    postgres: bool = True
    use_wrk: bool = True
    profile: str | None = None  # a label: profile every phase once more with py-spy
    profile_seconds: float = 6.0
    out: Path = RESULTS
    env: dict[str, str] = field(default_factory=dict)


def measure_service(options: Options | None = None) -> dict[str, Any]:
    """Run every phase and return rows, goals and notes, or ``{"skipped": reason}``."""
    opts = options or Options()
    missing = _missing()
    if missing:
        return {"skipped": missing}
    wrk = ensure_wrk() if opts.use_wrk else None
    load_before = _loadavg()
    started = datetime.now(UTC)
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        phases, notes = _start_everything(stack, tmp, opts)
        costs = _prepare_costs(phases)
        for round_no in range(opts.rounds):
            for phase in phases:
                _log(f"round {round_no + 1}/{opts.rounds}: {phase.label} ...")
                phase.samples.append(_measure(phase, opts.seconds, opts.connections, wrk, costs))
        profile = None
        if opts.profile:
            profile = _profile_all(phases, opts, wrk)
    rows = _summarize(phases)
    tool = "wrk" if wrk else "an asyncio client in the harness process"
    notes.insert(
        0,
        f"Load: {tool}, {opts.connections} keep-alive connections, phases of {opts.seconds:g} s, "
        f"{opts.rounds} round(s) in this order; req/s, p50 and p99 are the median round's, "
        "errors the sum of all rounds, a ratio the median of the rounds' ratios (each round "
        "against the reference measured in that round). The load generator shares the "
        "machine's cores with the servers.",
    )
    notes.append(
        "Crypto share: requests x the in-process CPU cost of one operation "
        f"(ES256 sign {costs['sign']:.1f} µs, verify {costs['verify']:.1f} µs, cached verify "
        f"{costs['verify_cached']:.2f} µs) / the CPU time of all the server's processes."
    )
    return {
        "rows": rows,
        "notes": notes,
        "costs_us": costs,
        "profile": profile,
        "meta": {
            "date": started.strftime("%Y-%m-%d %H:%M UTC"),
            "load_before": load_before,
            "load_after": _loadavg(),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "versions": _versions(),
            "tool": tool,
        },
    }


def _start_everything(
    stack: contextlib.ExitStack, tmp: Path, opts: Options
) -> tuple[list[Phase], list[str]]:
    notes: list[str] = []
    stores: list[tuple[str, str]] = []
    if opts.postgres:
        pg = stack.enter_context(_postgres_store())
        if pg is None:
            notes.append("PostgreSQL at 127.0.0.1:5432 was not reachable: no PostgreSQL rows.")
        else:
            stores.append(("PostgreSQL", pg))
    stores.append(("SQLite", f"sqlite:///{tmp / 'bench.db'}"))
    services: list[tuple[str, Server]] = []
    for label, store in stores:
        workers = opts.workers or _default_workers(store)
        _log(f"starting the service on {label} ({workers} worker(s)) ...")
        svc = stack.enter_context(_service(label, store, tmp, workers, opts.env))
        services.append((label, svc))
    first = services[0][1]
    token = _access_token(first)
    _, jwks = _call(first.port, Load("GET", "/.well-known/jwks.json"))
    first.extra.update(token=token, jwks=jwks.decode())
    sizes = {"BENCH_BODY_SIZE": str(len(_call(first.port, _cc_load(first))[1]))}
    ceilings: dict[int, Server] = {}
    for _, svc in services:
        if svc.workers not in ceilings:
            _log(f"starting the ceiling ({svc.workers} worker(s)) ...")
            ceilings[svc.workers] = stack.enter_context(
                _app_server("ceiling", tmp, svc.workers, {**opts.env, **sizes}, stores[-1][1])
            )
    issuer = f"http://127.0.0.1:{first.port}"
    rs_env = {**opts.env, "BENCH_JWKS": jwks.decode(), "BENCH_ISSUER": issuer}
    rs_env["BENCH_AUDIENCE"] = issuer
    _log("starting the resource server ...")
    rs = stack.enter_context(_app_server("resource", tmp, first.workers, rs_env, stores[-1][1]))
    first.extra["issuer"] = issuer
    phases: list[Phase] = []
    for workers, ceiling in ceilings.items():
        body = "grant_type=client_credentials&scope=orders%3Aread"
        load = Load("POST", "/token", (("Authorization", "Basic eDp5"), *FORM), body)
        phases.append(
            Phase(
                f"ceiling-{workers}w",
                f"ceiling: bare Starlette POST ({workers} worker(s))",
                ceiling,
                lambda load=load: load,
                group="ceiling",
            )
        )
    for label, svc in services:
        tok = _access_token(svc)
        _check_introspection(svc, tok)
        tag = label.lower()
        goal_ref = f"ceiling-{svc.workers}w"
        phases += [
            Phase(
                f"cc-{tag}",
                f"client_credentials ({label})",
                svc,
                lambda svc=svc: _cc_load(svc),
                "sign",
                goal=(goal_ref, 0.5),
            ),
            Phase(
                f"refresh-{tag}",
                f"refresh_token ({label})",
                svc,
                # wrk calls request() once before it connects, to check the script: one spare.
                lambda svc=svc, n=opts.connections + 1: _refresh_load(svc, _refresh_seeds(svc, n)),
                "sign",
                goal=(goal_ref, 0.25) if label == "PostgreSQL" else None,
            ),
            Phase(
                f"introspect-{tag}",
                f"/introspect ({label})",
                svc,
                lambda svc=svc, tok=tok: _introspect_load(svc, tok),
                "verify",
                goal=(goal_ref, 0.4),
            ),
            Phase(
                f"jwks-{tag}",
                f"JWKS ({label})",
                svc,
                lambda: Load("GET", "/.well-known/jwks.json"),
                goal=(goal_ref, 0.8),
            ),
        ]
    bearer = (("Authorization", f"Bearer {token}"),)
    phases += [
        Phase(
            "rs-open",
            "resource: unprotected",
            rs,
            lambda: Load("GET", "/open", bearer),
            group="resource",
        ),
        Phase(
            "rs-cached",
            "resource: ES256 BearerAuthMiddleware, cached",
            rs,
            lambda: Load("GET", "/cached", bearer),
            "verify_cached",
            group="resource",
            goal=("rs-open", 0.8),
        ),
        Phase(
            "rs-uncached",
            "resource: ES256 BearerAuthMiddleware, uncached",
            rs,
            lambda: Load("GET", "/uncached", bearer),
            "verify",
            group="resource",
            goal=("rs-open", 0.35),
        ),
    ]
    status, answer = _call(rs.port, Load("GET", "/cached", bearer))
    if status != 200:
        raise RuntimeError(f"the resource server refused the token: {status} {answer[:200]!r}")
    return phases, notes


def _prepare_costs(phases: Sequence[Phase]) -> dict[str, float]:
    svc = next(p.server for p in phases if p.group == "service")
    extra = svc.extra
    return _crypto_costs(extra["token"], extra["jwks"], extra["issuer"], extra["issuer"])


# -- profiling with py-spy -------------------------------------------------------------------

# Where a sampled stack is charged: the first frame from the leaf whose file matches.
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("signing / verifying", ("cryptography/", "jwtkit/_backend", "jwtkit/jws.py")),
    ("argon2", ("argon2/",)),
    ("logging (access log)", ("logging/",)),
    ("psycopg", ("psycopg/", "psycopg_pool/")),
    ("sqlite", ("sqlite3/",)),
    ("jwtkit storage", ("jwtkit/_storage/",)),
    ("JSON", ("json/",)),
    ("jwtkit core (claims, encoding)", ("jwtkit/",)),
    ("thread handoff (anyio, threads)", ("anyio/", "threading.py", "concurrent/futures")),
    ("HTTP parsing (h11/httptools)", ("h11/", "httptools/")),
    ("uvicorn", ("uvicorn/",)),
    ("starlette", ("starlette/",)),
    ("event loop (asyncio/uvloop)", ("asyncio/", "uvloop/", "selectors.py")),
)


def _category(stack: str) -> str:
    frames = stack.split(";")
    for frame in reversed(frames):
        for name, patterns in CATEGORIES:
            if any(p in frame for p in patterns):
                if name == "jwtkit core (claims, encoding)" and "jwtkit/server" in frame:
                    return "jwtkit service logic"
                if name == "jwtkit core (claims, encoding)" and "jwtkit/client" in frame:
                    return "jwtkit client (middleware)"
                return name
    return "other (interpreter, stdlib)"


def _py_spy() -> str | None:
    import shutil

    here = Path(sys.executable).parent / "py-spy"
    return str(here) if here.exists() else shutil.which("py-spy")


def _profile_all(phases: Sequence[Phase], opts: Options, wrk: str | None) -> dict[str, Any]:
    spy = _py_spy()
    if spy is None:
        return {"skipped": "py-spy is not installed (pip install py-spy; it is in the bench extra)"}
    out: dict[str, Any] = {"phases": {}}
    for phase in phases:
        _log(f"profiling {phase.label} ...")
        load = phase.load()
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / "profile.txt"
            command = [
                spy,
                "record",
                "--pid",
                str(phase.server.pid),
                "--subprocesses",
                "--gil",
                "--nonblocking",
                "--rate",
                "200",
                "--duration",
                str(round(opts.profile_seconds)),
                "--format",
                "raw",
                "--output",
                str(raw),
            ]
            spy_proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(0.5)
            _drive(wrk, phase.server.port, load, opts.profile_seconds - 1, opts.connections)
            _, err = spy_proc.communicate(timeout=60)
            if not raw.exists():
                out["phases"][phase.key] = {"skipped": err.decode(errors="replace")[-300:]}
                continue
            out["phases"][phase.key] = _digest(raw.read_text(encoding="utf-8", errors="replace"))
        out["phases"][phase.key]["label"] = phase.label
    return out


def _digest(raw: str) -> dict[str, Any]:
    """Shares by category and the top leaf functions of a py-spy raw (collapsed) profile."""
    by_category: dict[str, int] = {}
    leaves: dict[str, int] = {}
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        cat = _category(stack)
        by_category[cat] = by_category.get(cat, 0) + count
        leaf = stack.split(";")[-1]
        if not leaf.startswith("process "):  # A bare process frame: no Python code running.
            leaves[leaf] = leaves.get(leaf, 0) + count
    top = sorted(leaves.items(), key=lambda kv: -kv[1])[:12]
    return {
        "samples": total,
        "categories": {
            k: 100 * v / total for k, v in sorted(by_category.items(), key=lambda kv: -kv[1])
        }
        if total
        else {},
        "top": [(k, 100 * v / total) for k, v in top] if total else [],
    }


# -- output ----------------------------------------------------------------------------------


def _loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("jwtkit", "uvicorn", "starlette", "httptools", "uvloop", "psycopg"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "missing"
    return out


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def table(result: dict[str, Any]) -> list[str]:
    """Return the Markdown table of the rows (also used for the README)."""
    out = [
        "| endpoint | workers | req/s | ratio to ceiling | p50 ms | p99 ms | errors "
        "| crypto % of CPU | cores: server / PostgreSQL | goal |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in result["rows"]:
        ratio = f"{r['ratio_ceiling']:.2f}" if "ratio_ceiling" in r else ""
        crypto = f"{r['crypto_cpu_pct']:.1f}" if "crypto_cpu_pct" in r else ""
        goal = ""
        if "goal" in r:
            g = r["goal"]
            mark = "met" if g["met"] else "**missed**"
            ref = "ceiling" if g["reference"].startswith("ceiling") else "unprotected"
            goal = f"{g['ratio']:.2f} x {ref} (goal ≥ {g['minimum']:.2f}): {mark}"
        out.append(
            f"| {r['name']} | {r['workers']} | {r['rps']:,.0f} | {ratio} | {r['p50_ms']:.2f} | "
            f"{r['p99_ms']:.2f} | {r['errors']} | {crypto} | {r['cores_used']:.2f} / "
            f"{_cores(r.get('postgres_cores'))} | {goal} |"
        )
    return out


def _cores(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def report(result: dict[str, Any]) -> str:
    """Return service.md: how it was measured, the table, the notes."""
    if result.get("skipped"):
        return f"# Token service under load\n\nSkipped: {result['skipped']}\n"
    meta = result["meta"]
    versions = ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
    lines = [
        "# Token service under load (issue 18)",
        "",
        f"> Measured {meta['date']} on {meta['cpus']} CPUs, Python {meta['python']}; {versions}.",
        f"> Command: `{meta.get('command', 'python -m benchmarks.service')}`; load average "
        f"before/after: {meta['load_before']} / {meta['load_after']} (a shared machine).",
        "",
        *table(result),
        "",
        *(f"- {n}" for n in result["notes"]),
        "",
    ]
    return "\n".join(lines)


def profile_report(result: dict[str, Any], label: str) -> str:
    """Return service-profile-LABEL.md: shares of GIL-holding samples by component."""
    prof = result.get("profile") or {}
    meta = result.get("meta", {})
    lines = [
        f"# Token service profile: {label}",
        "",
        f"py-spy (`record --subprocesses --gil --rate 200`) on every server process during one "
        f"more load phase per endpoint, {meta.get('date', '')}, load average "
        f"{meta.get('load_after', '')}. Each sample is charged to the first frame, from the "
        "leaf, that belongs to a component (`benchmarks.service.CATEGORIES`); idle threads and "
        "time without the GIL are not sampled.",
        "",
    ]
    if "rows" in result:
        lines += ["The measurement this profile goes with:", "", *table(result), ""]
    if prof.get("skipped"):
        return "\n".join([*lines, f"Skipped: {prof['skipped']}", ""])
    for data in prof.get("phases", {}).values():
        lines += [f"## {data.get('label')}", ""]
        if "skipped" in data:
            lines += [f"Not profiled: {data['skipped']}", ""]
            continue
        lines += [f"{data['samples']} samples.", "", "| component | share |", "|---|---:|"]
        lines += [f"| {k} | {v:.1f}% |" for k, v in data["categories"].items()]
        lines += ["", "Top leaf functions:", "", "| function | share |", "|---|---:|"]
        lines += [f"| `{k}` | {v:.1f}% |" for k, v in data["top"]]
        lines.append("")
    return "\n".join(lines)


def write_chart(result: dict[str, Any], path: Path) -> None:
    """Draw req/s per endpoint as horizontal bars, with the ratio to the ceiling."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["rows"]
    colors = {"ceiling": "#888888", "service": "#1a56db", "resource": "#2e9e5b"}
    fig, ax = plt.subplots(figsize=(11, 0.45 * len(rows) + 1.6), constrained_layout=True)
    names = [
        r["name"] if r["group"] == "ceiling" else f"{r['name']} [{r['workers']}w]" for r in rows
    ][::-1]
    values = [r["rps"] for r in rows][::-1]
    ax.barh(names, values, color=[colors.get(r["group"], "#444") for r in rows][::-1])
    for y, r in enumerate(rows[::-1]):
        label = f"{r['rps']:,.0f}"
        if "ratio_ceiling" in r and r["group"] != "ceiling":
            label += f"  ({r['ratio_ceiling']:.2f}x ceiling)"
        label += f"  p99 {r['p99_ms']:.1f} ms"
        ax.text(r["rps"], y, " " + label, va="center", fontsize="small")
    ax.set_xlabel("requests per second (higher is better)")
    ax.set_xlim(0, max(values) * 1.45)
    meta = result["meta"]
    ax.set_title(
        f"jwtkit token service on loopback, {meta['date']} ([Nw]: N worker processes)\n"
        f"{meta['cpus']} CPUs shared with the load generator and other work; load average "
        f"before {meta['load_before']}",
        fontsize="medium",
    )
    ax.grid(axis="x", alpha=0.3)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.service", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 s phases")
    parser.add_argument("--seconds", type=float, help=f"seconds per phase ({PHASE_SECONDS:g})")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of all phases (1)")
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    parser.add_argument("--workers", type=int, help="worker processes (default: per store)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--no-wrk", action="store_true", help="use the asyncio client")
    parser.add_argument("--profile", metavar="LABEL", help="also profile with py-spy")
    parser.add_argument("--out", type=Path, default=RESULTS, help="output directory")
    parser.add_argument("--env", action="append", default=[], metavar="JWTKIT_X=Y")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the table, and write the results; return the exit status."""
    args = _parse(argv)
    seconds = args.seconds or (1.0 if args.quick else PHASE_SECONDS)
    opts = Options(
        seconds=seconds,
        rounds=args.rounds,
        connections=8 if args.quick else args.connections,
        workers=args.workers,
        postgres=not args.no_postgres,
        use_wrk=not args.no_wrk,
        profile=args.profile,
        profile_seconds=3.0 if args.quick else 6.0,
        out=args.out,
        env=dict(e.split("=", 1) for e in args.env),
    )
    result = measure_service(opts)
    if "meta" in result:
        shown = " ".join(["python -m benchmarks.service", *(argv or sys.argv[1:])])
        result["meta"]["command"] = shown
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "service.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    text = report(result)
    (out / "service.md").write_text(text, encoding="utf-8")
    if "rows" in result:
        with contextlib.suppress(ImportError):
            write_chart(result, out / "service.png")
    if args.profile and "rows" in result:
        (out / f"service-profile-{args.profile}.md").write_text(
            profile_report(result, args.profile), encoding="utf-8"
        )
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
