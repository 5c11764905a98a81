"""Shared helpers for the CLI tests: run ``jwtkit`` in-process through ``main``, or as a process."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jwtkit.cli.env import Env
from jwtkit.cli.main import main

REPO = Path(__file__).resolve().parents[2]
JWTKIT_BIN = Path(sys.executable).with_name("jwtkit")


def vectors_dir() -> Path:
    """Return the shared test-vector directory (JWTKIT_VECTORS or <repo>/../shared/vectors)."""
    return Path(os.environ.get("JWTKIT_VECTORS") or REPO.parent / "shared" / "vectors")


def rfc7519_token() -> dict[str, Any]:
    """Return the RFC 7519 §3.1 example vector (token, key, claims)."""
    path = vectors_dir() / "rfc-examples" / "rfc7519_3.1_JWT_HS256.json"
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@dataclass
class Result:
    """What one ``jwtkit`` run produced."""

    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """Parse stdout as JSON."""
        return json.loads(self.stdout)


def run_cli(
    *args: str | os.PathLike[str],
    stdin: str | bytes | None = None,
    env: dict[str, str] | None = None,
) -> Result:
    """Run ``jwtkit`` in-process through ``main(argv, env)`` with captured streams.

    ``env`` entries are set in ``os.environ`` for the run (and restored afterwards), because
    the key store and the token service read their settings from the process environment.
    """
    raw = stdin.encode() if isinstance(stdin, str) else stdin or b""
    streams = Env(
        stdin=io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8"),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    saved = {name: os.environ.get(name) for name in env or {}}
    os.environ.update(env or {})
    try:
        code = main([str(a) for a in args], streams)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    out, err = streams.stdout, streams.stderr
    assert isinstance(out, io.StringIO) and isinstance(err, io.StringIO)
    return Result(code, out.getvalue(), err.getvalue())


def run_process(
    *args: str | os.PathLike[str],
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Result:
    """Run the installed ``jwtkit`` console script in a real subprocess."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [str(JWTKIT_BIN), *(str(a) for a in args)],
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=60,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)
