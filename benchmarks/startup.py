"""Start-up cost: wall time of short commands in fresh interpreters, interleaved, medians.

A CLI call or a serverless handler pays the import time on every run, so issue 6 bounds it:
``import jwtkit`` against ``import jwt`` (PyJWT) and ``python -c pass``, and a complete
``jwtkit verify`` of an ES256 token with a PEM key. Every command runs once untimed (to warm
the bytecode and page caches), then all commands run round-robin in a shuffled order.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["measure_startup"]


def _cli_command(workdir: Path) -> tuple[list[str] | None, str]:
    """Build the ``jwtkit verify`` command for an ES256 token, or say why it cannot run."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from benchmarks import floor
    from benchmarks._common import AUDIENCE, CASES, ISSUER, KID, full_claims, make_materials

    try:
        import jwtkit.cli.main  # noqa: F401
    except ImportError as exc:
        return None, f"jwtkit CLI not importable ({exc})"
    case = next(c for c in CASES if c.label == "ES256")
    material = make_materials((case,))["ES256"]
    assert isinstance(material.private, ec.EllipticCurvePrivateKey)
    # The same header as every other benchmark token, kid included (a PEM key has no kid of
    # its own, so the CLI must accept whatever kid the token names).
    header = {"alg": "ES256", "typ": "JWT", "kid": KID}
    token = floor.sign_token(material, full_claims(), header)
    pem = workdir / "es256.pub.pem"
    pem.write_bytes(material.public_pem)
    command = [sys.executable, "-m", "jwtkit", "verify", token, "--key", str(pem)]
    command += ["--alg", "ES256", "--iss", ISSUER, "--aud", AUDIENCE]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"jwtkit verify failed (exit {done.returncode}): {last[:200]}"
    return command, ""


def _heaviest_imports(command: Sequence[str], env: dict[str, str], top: int = 8) -> str:
    """Top-level imports of ``command`` by cumulative time (``python -X importtime``)."""
    done = subprocess.run(
        [command[0], "-X", "importtime", *command[1:]],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    found: list[tuple[int, str]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        parts = line.split("|")
        if len(parts) != 3:
            continue
        cumulative, name = parts[1], parts[2]
        if name.startswith("  "):  # Nested import: counted in its top-level parent.
            continue
        found.append((int(cumulative), name.strip()))
    found.sort(reverse=True)
    return ", ".join(f"{name} {us / 1000:.1f} ms" for us, name in found[:top])


def _time_once(command: Sequence[str], env: dict[str, str]) -> float:
    start = time.perf_counter_ns()
    subprocess.run(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
    )
    return (time.perf_counter_ns() - start) / 1e6


def measure_startup(runs: int = 15, *, seed: int = 6) -> dict[str, Any]:
    """Return median wall times (ms) per command over ``runs`` interleaved runs, plus notes."""
    py = sys.executable
    commands: dict[str, list[str]] = {
        "python -c pass": [py, "-c", "pass"],
        "python -c 'import jwtkit'": [py, "-c", "import jwtkit"],
        "python -c 'import jwt' (PyJWT)": [py, "-c", "import jwt"],
    }
    notes: list[str] = []
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    with tempfile.TemporaryDirectory() as tmp:
        cli, why = _cli_command(Path(tmp))
        if cli is None:
            notes.append(f"`jwtkit verify` skipped: {why}")
        else:
            commands["jwtkit verify (ES256, PEM key)"] = cli
        for command in commands.values():
            _time_once(command, env)
        samples: dict[str, list[float]] = {name: [] for name in commands}
        order = list(commands)
        rng = random.Random(seed)
        for _ in range(runs):
            rng.shuffle(order)
            for name in order:
                samples[name].append(_time_once(commands[name], env))
        if cli is not None:
            notes.append(
                "Heaviest top-level imports of `jwtkit verify` (one -X importtime run): "
                + _heaviest_imports(cli, env)
            )
    rows = {
        name: {
            "median_ms": statistics.median(values),
            "min_ms": min(values),
            "max_ms": max(values),
            "runs": len(values),
        }
        for name, values in samples.items()
    }
    return {"rows": rows, "notes": notes}
