"""Load generators for ``benchmarks.service``: wrk (Debian's package) or an asyncio client.

A :class:`Load` is one kind of request: a fixed raw HTTP/1.1 request, or a chain (the refresh
grant) whose next request carries the refresh token the previous answer returned, one chain
per connection. :func:`run_wrk` drives it with wrk and a generated Lua script; :func:`run_async`
with a small keep-alive client on asyncio streams (the fallback when wrk is missing). Both
return a :class:`Outcome`: completed requests, errors (anything but 200, and socket errors),
p50/p99 latency and the wall time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Load", "Outcome", "ensure_wrk", "request_once", "run_async", "run_wrk"]

_REFRESH = re.compile(rb'"refresh_token":"([^"]+)"')


@dataclass(frozen=True, slots=True)
class Load:
    """A request to repeat: ``method path`` with ``headers`` and ``body``.

    With ``seeds`` (refresh tokens, one per connection, and one more for wrk, which calls
    ``request()`` once to check the script before it connects), ``body`` holds ``{token}``, which is
    replaced by the refresh token of the chain; each 200 answer's ``refresh_token`` becomes
    the chain's next one.
    """

    method: str
    path: str
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""
    seeds: tuple[str, ...] = field(default=(), repr=False)

    def raw(self, port: int, body: str | None = None) -> bytes:
        """Return the request bytes (with ``body`` instead of the template, if given)."""
        payload = (self.body if body is None else body).encode()
        head = [f"{self.method} {self.path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
        head += [f"{k}: {v}" for k, v in self.headers]
        if payload or self.method == "POST":
            head.append(f"Content-Length: {len(payload)}")
        return ("\r\n".join(head) + "\r\n\r\n").encode() + payload


@dataclass(slots=True)
class Outcome:
    """What one load phase measured."""

    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    tool: str


def ensure_wrk() -> str | None:
    """Return wrk's path; install Debian's package with apt-get when it is missing and this
    process may (root). None when it cannot be had (the asyncio client is used then)."""
    found = shutil.which("wrk")
    if found or shutil.which("apt-get") is None or os.geteuid() != 0:
        return found
    for update in (False, True):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            if update:
                subprocess.run(["apt-get", "update", "-q"], capture_output=True, timeout=300)
            subprocess.run(
                ["apt-get", "install", "-y", "-q", "wrk"], capture_output=True, timeout=300
            )
        if found := shutil.which("wrk"):
            return found
    return None


def _lua_string(text: str) -> str:
    return json.dumps(text)  # A JSON string of ASCII text is a valid Lua string literal.


def _lua_script(load: Load) -> str:
    lines = [f"wrk.method = {_lua_string(load.method)}", f"wrk.path = {_lua_string(load.path)}"]
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in load.headers]
    if not load.seeds:
        lines.append(f"wrk.body = {_lua_string(load.body)}")
    else:
        prefix, _, suffix = load.body.partition("{token}")
        lines += [
            f"local seeds = {_lua_string(','.join(load.seeds))}",
            "local tokens = {}",
            'for t in string.gmatch(seeds, "[^,]+") do table.insert(tokens, t) end',
            "function request()",
            '  local t = table.remove(tokens) or "used-up"',
            f"  return wrk.format(nil, nil, nil, {_lua_string(prefix)} .. t .. "
            f"{_lua_string(suffix)})",
            "end",
            "function response(status, headers, body)",
            '  local t = string.match(body, \'"refresh_token":"([^"]+)"\')',
            "  if t then table.insert(tokens, t) end",
            "end",
        ]
    lines += [
        "function done(summary, latency, requests)",
        "  local e = summary.errors",
        '  io.write(string.format(\'\\nRESULT {"requests":%d,"duration_us":%d,'
        '"errors":%d,"status_errors":%d,"p50_us":%d,"p99_us":%d}\\n\', summary.requests,'
        " summary.duration, e.connect + e.read + e.write + e.status + e.timeout, e.status,"
        " latency:percentile(50), latency:percentile(99)))",
        "end",
    ]
    return "\n".join(lines) + "\n"


def run_wrk(
    wrk: str, port: int, load: Load, *, seconds: float, connections: int, threads: int = 1
) -> Outcome:
    """Run wrk for ``seconds`` with ``connections`` keep-alive connections."""
    if load.seeds and len(load.seeds) < connections:
        raise ValueError("a chained load needs one seed per connection")
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "load.lua"
        script.write_text(_lua_script(load), encoding="ascii")
        command = [
            wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
            "--timeout", "10s", "-s", str(script), f"http://127.0.0.1:{port}{load.path}",
        ]  # fmt: skip
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 60, check=False
        )
    marker = next((ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if done.returncode != 0 or marker is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr[-500:]}")
    data = json.loads(marker.removeprefix("RESULT "))
    return Outcome(
        # wrk counts answers with an error status among its requests, socket errors apart.
        requests=data["requests"] - data["status_errors"],
        errors=data["errors"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        tool="wrk",
    )


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
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


async def request_once(port: int, raw: bytes) -> tuple[int, bytes]:
    """Send one request on a fresh connection; return (status, body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        return await _response(reader)
    finally:
        writer.close()


async def _run_async(port: int, load: Load, seconds: float, connections: int) -> Outcome:
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()
    deadline = start + seconds

    async def connection(seed: str | None) -> None:
        nonlocal errors
        token = seed
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                body = load.body.replace("{token}", token or "") if load.seeds else None
                t0 = time.perf_counter()
                try:
                    writer.write(load.raw(port, body))
                    status, answer = await _response(reader)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    continue
                if status != 200:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - t0)
                if load.seeds and (found := _REFRESH.search(answer)):
                    token = found.group(1).decode()
        finally:
            writer.close()

    seeds: list[str | None] = list(load.seeds) or [None] * connections
    await asyncio.gather(*(connection(seeds[i]) for i in range(connections)))
    elapsed = time.perf_counter() - start
    lat = sorted(latencies) or [0.0]
    return Outcome(
        requests=len(latencies),
        errors=errors,
        seconds=elapsed,
        p50_ms=lat[len(lat) // 2] * 1000,
        p99_ms=lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000,
        tool="asyncio client",
    )


def run_async(port: int, load: Load, *, seconds: float, connections: int) -> Outcome:
    """Drive ``load`` with the asyncio client (it shares this process's one core)."""
    if load.seeds and len(load.seeds) < connections:
        raise ValueError("a chained load needs one seed per connection")
    return asyncio.run(_run_async(port, load, seconds, connections))
