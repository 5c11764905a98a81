"""Smoke test of the benchmark harness: ``benchmarks.run --quick`` end to end (issue 6).

It runs the real harness in a subprocess (so the peers' warnings and the harness' GC
switching stay out of this process) into a temporary directory and checks that the table,
the raw JSON and the chart were written with a row for every library and case measured, that
every verifier, jwtkit's included, rejected every bad token. No time is asserted (the token
service's smoke run is tests/bench/test_service_smoke.py).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QUICK_CASES = ("HS256", "RS256", "ES256", "EdDSA")
# Peers are benchmark-only dependencies (the bench extra): a missing one must be reported as
# "not installed" by the harness, never crash it.
PEERS = {"PyJWT": "jwt", "joserfc": "joserfc", "jwcrypto": "jwcrypto", "Authlib": "authlib"}
INSTALLED = {name for name, module in PEERS.items() if importlib.util.find_spec(module)}
LIBRARIES = ("floor", "jwtkit", "jwtkit encode/decode", "PyJWT façade", *sorted(INSTALLED))


def test_quick_run_writes_table_json_and_chart(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "benchmarks.run", "--quick", "--out", str(tmp_path)]
    done = subprocess.run(
        [*command, "--startup-runs", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]

    result = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    cells = {(c["library"], c["case"], c["op"]): c for c in result["cells"]}
    table = (tmp_path / "results.md").read_text(encoding="utf-8")
    for case in QUICK_CASES:
        for library in LIBRARIES:
            for op in ("sign", "verify"):
                cell = cells[(library, case, op)]
                assert cell["median_us"] > 0
                assert len(cell["samples_us"]) == result["meta"]["rounds"]
                assert f"| {case} | {op} | {library} |" in table
        if case != "EdDSA" and importlib.util.find_spec("jose"):
            assert ("python-jose", case, "verify") in cells
        # Every verifier must have rejected every bad token (expired, wrong iss/aud, alg none...).
        for library in LIBRARIES:
            assert cells[(library, case, "verify")]["missed_checks"] == []
    assert ("python-jose", "EdDSA", "verify") not in cells
    assert any(u["library"] == "python-jose" for u in result["unsupported"])
    for name in set(PEERS) - INSTALLED:
        assert any(
            u["library"] == name and "not installed" in u["reason"] for u in result["unsupported"]
        )

    assert {g["goal"].split(" x ")[0] for g in result["goals"]} >= {"Verifier.verify HS256"}
    assert "## Cost of the security rules" in table
    assert "## Start-up" in table
    assert result["meta"]["versions"]["cryptography"] != "missing"
    if importlib.util.find_spec("matplotlib"):
        assert (tmp_path / "chart.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    else:
        assert "matplotlib is not installed" in table
    assert "| **Verifier.verify** |" in (tmp_path / "profile.md").read_text(encoding="utf-8")
