"""Smoke run of the token-service benchmark (issue 18): ``benchmarks.service --quick``.

Every server the benchmark compares (the bare Starlette ceiling, the token service on
PostgreSQL and SQLite, the resource server) is started for real on loopback and every phase
runs about a second under wrk (or the asyncio client where wrk is absent); the test checks
that every phase completed requests without a single error and that the table, the JSON and
the chart were written. No speed is asserted.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_quick_service_run_measures_every_phase_without_errors(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.service", "--quick", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "service.json").read_text(encoding="utf-8"))
    assert "skipped" not in result, result.get("skipped")
    keys = {r["key"] for r in result["rows"]}
    expected = {"cc-sqlite", "refresh-sqlite", "introspect-sqlite", "jwks-sqlite"}
    expected |= {"rs-open", "rs-cached", "rs-uncached"}
    assert expected <= keys
    assert any(k.startswith("ceiling-") for k in keys)
    if not any("PostgreSQL" in n for n in result["notes"]):
        assert {"cc-postgresql", "refresh-postgresql"} <= keys
    for row in result["rows"]:
        assert row["requests"] > 0, row
        assert row["errors"] == 0, row
        assert row["p99_ms"] >= row["p50_ms"] > 0, row
    # Every service row is compared with a ceiling of the same worker count.
    assert all("ratio_ceiling" in r for r in result["rows"] if r["group"] == "service")
    assert "| client_credentials (SQLite) |" in (tmp_path / "service.md").read_text()
    if importlib.util.find_spec("matplotlib"):
        assert (tmp_path / "service.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
