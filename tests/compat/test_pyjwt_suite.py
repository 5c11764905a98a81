"""PyJWT 2.15.1's own test suite passes on the façade, except the documented refusals.

Runs scripts/pyjwt_suite.py, which downloads PyJWT's sdist from PyPI, runs its tests with
``install()`` applied and compares the failures with the table in docs/pyjwt.md. Without a
reachable registry the test is skipped, with the reason.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIPPED = 77


@pytest.mark.slow
def test_pyjwt_suite_passes_except_the_documented_refusals() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "pyjwt_suite.py")],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=ROOT,
    )
    if done.returncode == SKIPPED:
        pytest.skip(done.stdout.strip() or "the package registry is unreachable")
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "passed" in done.stdout
