"""Start-up cost: wall time of short commands in fresh interpreters, interleaved, medians.

A CLI call or a serverless handler pays the import time on every run, so issues 6 and 17
bound it: ``import jwtkit`` against ``import jwt`` (PyJWT) and ``python -c pass``, and a
complete ``jwtkit verify`` (ES256 token, PEM key) and ``jwtkit inspect``, run through the
installed ``jwtkit`` console script as people type it. Every command runs once untimed (to
warm the bytecode and page caches), then all commands run round-robin in a shuffled order.

Bytecode: a pip-installed package ships compiled ``.pyc`` files, so every command runs with
bytecode caching on, written to a private ``PYTHONPYCACHEPREFIX`` (the source tree stays
clean) even where the environment sets ``PYTHONDONTWRITEBYTECODE``. Without that, an
editable checkout recompiles every jwtkit module on every run; one row shows that case too.
"""

from __future__ import annotations

import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["measure_startup"]

VERIFY = "jwtkit verify (ES256, PEM key)"
UNCACHED = "jwtkit verify, jwtkit's bytecode not cached"


def _jwtkit() -> list[str]:
    """Return how to start the CLI: the console script beside the interpreter, else ``-m``."""
    script = Path(sys.executable).with_name("jwtkit")
    return [str(script)] if script.exists() else [sys.executable, "-m", "jwtkit"]


def _cli_commands(workdir: Path) -> tuple[dict[str, list[str]], str]:
    """Build the ``jwtkit verify`` and ``inspect`` commands, or say why they cannot run."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from benchmarks import floor
    from benchmarks._common import AUDIENCE, CASES, ISSUER, KID, full_claims, make_materials

    try:
        import jwtkit.cli.main  # noqa: F401
    except ImportError as exc:
        return {}, f"jwtkit CLI not importable ({exc})"
    case = next(c for c in CASES if c.label == "ES256")
    material = make_materials((case,))["ES256"]
    assert isinstance(material.private, ec.EllipticCurvePrivateKey)
    # The same header as every other benchmark token, kid included (a PEM key has no kid of
    # its own, so the CLI must accept whatever kid the token names).
    header = {"alg": "ES256", "typ": "JWT", "kid": KID}
    token = floor.sign_token(material, full_claims(), header)
    pem = workdir / "es256.pub.pem"
    pem.write_bytes(material.public_pem)
    verify = ["verify", token, "--key", str(pem), "--alg", "ES256", "--iss", ISSUER]
    commands = {
        VERIFY: [*_jwtkit(), *verify, "--aud", AUDIENCE],
        "jwtkit inspect": [*_jwtkit(), "inspect", token],
    }
    for name, command in commands.items():
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return {}, f"{name} failed (exit {done.returncode}): {last[:200]}"
    return commands, ""


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


def _time_once(command: Sequence[str], env: dict[str, str]) -> tuple[float, float]:
    """Run ``command`` once; return its wall time and its CPU time (user + system), in ms.

    CPU time is the steadier figure on a shared machine: waiting for a core is not in it.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter_ns()
    subprocess.run(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
    )
    wall = (time.perf_counter_ns() - start) / 1e6
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return wall, cpu


def _without_jwtkit_bytecode(env: dict[str, str], prefix: str, warm: list[str]) -> dict[str, str]:
    """Return an env whose bytecode cache holds everything but jwtkit's own modules.

    That is what an editable checkout gives under ``PYTHONDONTWRITEBYTECODE`` (this machine
    sets it): the standard library and cryptography load compiled, jwtkit compiles each run.
    """
    import shutil

    import jwtkit

    warmed = {**env, "PYTHONPYCACHEPREFIX": prefix}
    _time_once(warm, warmed)
    source = Path(jwtkit.__file__).resolve().parent
    shutil.rmtree(Path(prefix) / source.relative_to(source.anchor), ignore_errors=True)
    return {**warmed, "PYTHONDONTWRITEBYTECODE": "1"}


def measure_startup(runs: int = 15, *, seed: int = 6) -> dict[str, Any]:
    """Return median wall times (ms) per command over ``runs`` interleaved runs, plus notes."""
    py = sys.executable
    commands: dict[str, list[str]] = {
        "python -c pass": [py, "-c", "pass"],
        "python -c 'import jwtkit'": [py, "-c", "import jwtkit"],
        "python -c 'import jwt' (PyJWT)": [py, "-c", "import jwt"],
    }
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONWARNINGS": "ignore", "PYTHONPYCACHEPREFIX": f"{tmp}/pyc"}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        envs = dict.fromkeys(commands, env)
        cli, why = _cli_commands(Path(tmp))
        if not cli:
            notes.append(f"`jwtkit verify` and `jwtkit inspect` skipped: {why}")
        commands.update(cli)
        envs.update(dict.fromkeys(cli, env))
        if VERIFY in cli:
            commands[UNCACHED] = cli[VERIFY]
            envs[UNCACHED] = _without_jwtkit_bytecode(env, f"{tmp}/pyc-no-jwtkit", cli[VERIFY])
        for name, command in commands.items():
            _time_once(command, envs[name])
        samples: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        order = list(commands)
        rng = random.Random(seed)
        for _ in range(runs):
            rng.shuffle(order)
            for name in order:
                wall, used = _time_once(commands[name], envs[name])
                samples[name].append(wall)
                cpu[name].append(used)
        if VERIFY in cli:
            args = cli[VERIFY][cli[VERIFY].index("verify") :]
            notes.append(
                "Heaviest top-level imports of `jwtkit verify` (one -X importtime run): "
                + _heaviest_imports([py, "-m", "jwtkit", *args], env)
            )
    rows = {
        name: {
            "median_ms": statistics.median(values),
            "min_ms": min(values),
            "max_ms": max(values),
            "cpu_median_ms": statistics.median(cpu[name]),
            "runs": len(values),
        }
        for name, values in samples.items()
    }
    return {"rows": rows, "notes": notes}


def _print_table(result: dict[str, Any]) -> None:
    """Print each command's median and min, and both as multiples of ``python -c pass``."""
    rows = result["rows"]
    base = rows["python -c pass"]
    head = f"{'command':<58} {'median ms':>9} {'x pass':>7} {'min ms':>7} {'x pass':>7}"
    print(head + f" {'cpu ms':>7} {'x pass':>7}")
    for name, row in rows.items():
        median, low, used = row["median_ms"], row["min_ms"], row["cpu_median_ms"]
        print(
            f"{name:<58} {median:9.1f} {median / base['median_ms']:7.2f} "
            f"{low:7.1f} {low / base['min_ms']:7.2f} "
            f"{used:7.1f} {used / base['cpu_median_ms']:7.2f}"
        )
    for note in result["notes"]:
        print(note)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.startup", description="Start-up times alone (issue 17)."
    )
    parser.add_argument("--runs", type=int, default=41, help="interleaved runs per command")
    _print_table(measure_startup(parser.parse_args().runs))
