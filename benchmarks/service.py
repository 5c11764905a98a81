"""Token-service load test: client_credentials tokens/s and JWKS requests/s on loopback.

The service (``python -m jwtkit.server``, uvicorn, one process) runs in a subprocess on a free
127.0.0.1 port over a fresh SQLite store in a temporary directory; the load generator is a
small HTTP/1.1 keep-alive client on asyncio streams in this process, so it costs far less
CPU than the server it drives. Each phase is bounded in time and in request count. Besides
throughput, p50/p99 latency and the error count (anything but 200), it reports what share
of the server's CPU time went to signing (tokens x the in-process CPU cost of one
``Signer.sign``), i.e. how close the endpoint is to the crypto limit. The client is created
with the service's default Argon2id secret hashing.

Nothing is measured if ``jwtkit.server`` (or uvicorn/argon2) is missing: the result says why.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["measure_service"]

CLIENT_ID = "bench-client"
PHASE_SECONDS = 5.0
MAX_REQUESTS = 20_000
CONNECTIONS = 8


@dataclass(slots=True)
class Phase:
    """Outcome of one load phase."""

    name: str
    latencies: list[float]
    errors: int
    seconds: float
    server_cpu: float

    def row(self) -> dict[str, Any]:
        """Summarize as a report row (milliseconds, requests per second)."""
        lat = sorted(self.latencies) or [0.0]
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        return {
            "name": self.name,
            "requests": len(self.latencies),
            "rps": len(self.latencies) / self.seconds if self.seconds else 0.0,
            "p50_ms": statistics.median(lat) * 1000,
            "p99_ms": p99 * 1000,
            "errors": self.errors,
            "server_cpu_s": self.server_cpu,
            "seconds": self.seconds,
        }


def _missing() -> str:
    for module in ("jwtkit.server", "jwtkit.server._accounts", "uvicorn", "argon2"):
        try:
            __import__(module)
        except ImportError as exc:
            return f"{module} is not importable ({exc}); install jwtkit[server]"
    return ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all threads) from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes
) -> tuple[int, bytes]:
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            body += await reader.readexactly(size + 2)
            if size == 0:
                return status, body
    return status, await reader.readexactly(int(headers.get("content-length", "0")))


async def _load(
    port: int, raw: bytes, seconds: float, max_requests: int
) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline and len(latencies) + errors < max_requests:
                start = time.perf_counter()
                try:
                    status, _ = await _request(reader, writer, raw)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    continue
                if status == 200:
                    latencies.append(time.perf_counter() - start)
                else:
                    errors += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    return latencies, errors


def _get(path: str, port: int) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()


def _token_request(port: int, secret: str) -> bytes:
    body = b"grant_type=client_credentials&scope=orders%3Aread"
    basic = base64.b64encode(f"{CLIENT_ID}:{secret}".encode()).decode()
    return (
        f"POST /token HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Basic {basic}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


@contextlib.contextmanager
def _server(workdir: Path) -> Iterator[tuple[int, int, str]]:
    """Start the service on a fresh store; yield (port, pid, client secret)."""
    from jwtkit.keys import generate_master_key
    from jwtkit.server._accounts import Accounts, make_password_hasher

    store = f"sqlite:///{workdir / f'bench-{secrets.token_hex(4)}.db'}"
    port = _free_port()
    env = {
        **os.environ,
        "JWTKIT_STORE": store,
        "JWTKIT_MASTER_KEY": generate_master_key(),
        "JWTKIT_ISSUER": f"http://127.0.0.1:{port}",
    }
    accounts = Accounts.open(store, hasher=make_password_hasher())
    try:
        secret = accounts.add_client(
            CLIENT_ID, scopes=("orders:read",), grants=("client_credentials",)
        )
    finally:
        accounts.close()
    log = (workdir / f"server-{port}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jwtkit.server", "127.0.0.1", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_ready(port, proc)
        yield port, proc.pid, secret
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the service exited with status {proc.returncode} at start")
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, ValueError):
            status, _ = asyncio.run(_once(port, _get("/healthz", port)))
            if status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError("the service did not answer /healthz within 30 s")


async def _once(port: int, raw: bytes) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        return await _request(reader, writer, raw)
    finally:
        writer.close()


def _check_token(port: int, secret: str) -> str:
    """Fetch one token and verify it against the service's JWKS; return its alg."""
    from jwtkit import KeySet, Verifier, decode_unverified

    status, body = asyncio.run(_once(port, _token_request(port, secret)))
    if status != 200:
        raise RuntimeError(f"POST /token answered {status}: {body[:200]!r}")
    token = json.loads(body)["access_token"]
    _, jwks = asyncio.run(_once(port, _get("/.well-known/jwks.json", port)))
    alg = str(decode_unverified(token)[0]["alg"])
    keys = KeySet.from_jwks(jwks.decode())
    Verifier(keys, algorithms=[alg], audience=f"http://127.0.0.1:{port}").verify(token)
    return alg


def _phase(name: str, port: int, pid: int, raw: bytes, seconds: float, max_requests: int) -> Phase:
    asyncio.run(_load(port, raw, 0.5, 200))  # Warm up connections and caches.
    cpu0, t0 = _cpu_seconds(pid), time.perf_counter()
    latencies, errors = asyncio.run(_load(port, raw, seconds, max_requests))
    seconds, cpu = time.perf_counter() - t0, _cpu_seconds(pid) - cpu0
    return Phase(name, latencies, errors, seconds, cpu)


def _cpu_cost_us(fn: Callable[[], object], loops: int, repeats: int = 3) -> float:
    """Median CPU time (all threads of this process) of one call of ``fn``, in µs.

    CPU time, not wall time, because it is compared with the server's CPU time, and Argon2id
    with parallelism > 1 spends more CPU than wall time.
    """
    runs = []
    for _ in range(repeats):
        start = time.process_time_ns()
        for _ in range(loops):
            fn()
        runs.append((time.process_time_ns() - start) / loops / 1000)
    return statistics.median(runs)


def _sign_cost_us(alg: str) -> float:
    """CPU cost of one access-token ``Signer.sign`` with ``alg`` (µs)."""
    from jwtkit import Key, Signer

    signer = Signer(Key.generate(alg, kid="k"), issuer="https://issuer.example", audience="api")
    claims = {"sub": CLIENT_ID, "client_id": CLIENT_ID, "scope": "orders:read"}
    return _cpu_cost_us(lambda: signer.sign(claims), 300)


def measure_service(
    seconds: float = PHASE_SECONDS, max_requests: int = MAX_REQUESTS
) -> dict[str, Any]:
    """Run the load phases and return rows and notes, or ``{"skipped": reason}``.

    Each phase lasts ``seconds`` or ``max_requests`` requests, whichever comes first.
    """
    missing = _missing()
    if missing:
        return {"skipped": missing}
    rows: list[dict[str, Any]] = []
    notes = [
        f"{CONNECTIONS} keep-alive connections from an asyncio client in the harness process; "
        f"phases of {seconds:g} s or {max_requests} requests; one uvicorn process "
        "(python -m jwtkit.server), SQLite store; the loopback client shares the 2 cores.",
    ]
    try:
        with tempfile.TemporaryDirectory() as tmp, _server(Path(tmp)) as (port, pid, secret):
            alg = _check_token(port, secret)
            path = "/.well-known/jwks.json"
            jwks = _phase(f"GET {path}", port, pid, _get(path, port), seconds, max_requests)
            rows.append(jwks.row())
            name = "POST /token (client_credentials)"
            phase = _phase(name, port, pid, _token_request(port, secret), seconds, max_requests)
            row = phase.row()
            sign_us = _sign_cost_us(alg)
            if phase.server_cpu > 0:
                row["sign_cpu_pct"] = 100 * row["requests"] * sign_us / 1e6 / phase.server_cpu
            rows.append(row)
            notes.append(
                f"Signing share: {row['requests']} {alg} tokens x {sign_us:.0f} µs of CPU per "
                f"Signer.sign (measured in-process) / {phase.server_cpu:.2f} s of server CPU = "
                f"{row.get('sign_cpu_pct', 0):.1f}%; the rest is HTTP, ASGI, form parsing, "
                "client authentication and the store."
            )
    except (RuntimeError, OSError) as exc:
        return {"skipped": f"the service could not be measured: {exc}", "rows": rows}
    return {"rows": rows, "notes": notes}
