"""Run PyJWT's own test suite against jwtkit.compat.pyjwt (issue 16).

    python scripts/pyjwt_suite.py            # download, run, compare with docs/pyjwt.md
    python scripts/pyjwt_suite.py --table    # also print the failure table for the docs

Downloads PyJWT's sdist from PyPI with pip, unpacks only its ``tests/`` and ``pyproject.toml``
(for PyJWT's own pytest settings) into a temporary folder, and runs them with
``jwtkit.compat.pyjwt.install()`` applied before pytest starts, so every ``import jwt`` in the
suite gets the façade (PyJWT's own ``jwt`` package is never unpacked). The temporary folder is
deleted afterwards; nothing fetched is kept.

It passes (exit 0) when at least 95% of the collected tests pass and the failing tests are
exactly those listed in docs/pyjwt.md, each with one of the deliberate refusals as its reason.
Exit 77 means the registry is unreachable: the run is skipped and the reason printed.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

VERSION = "2.15.1"
MIN_PASS_RATE = 0.95
SKIPPED = 77
ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "pyjwt.md"
START, END = "<!-- pyjwt-suite:start -->", "<!-- pyjwt-suite:end -->"
# The deliberate refusals of issue 16, as they are named in docs/pyjwt.md.
REASONS = {
    "none": "`none` is never accepted",
    "hmac-key-text": "PEM/SSH/JWK text is never an HMAC secret",
    "ecdsa-fixed-length": "ECDSA signatures must be fixed-length",
    "strict-encoding": "strict base64url and JSON",
    "alg-bound-to-key": "an algorithm not allowed by the key is rejected",
    "b64-false": "RFC 7797 `b64: false` is refused",
    "rsa-2048": "RSA keys under 2048 bits are refused",
}
# install() runs before pytest starts: pytest imports the warning classes named in PyJWT's
# filterwarnings setting (jwt.warnings.InsecureKeyLengthWarning) before any conftest.
LAUNCHER = (
    "import sys, jwtkit.compat.pyjwt; jwtkit.compat.pyjwt.install(); "
    "import pytest; sys.exit(pytest.main(sys.argv[1:]))"
)


def _registry_reachable() -> str | None:
    """None when PyPI answers, else why not."""
    try:
        with urllib.request.urlopen("https://pypi.org/simple/pyjwt/", timeout=15) as response:
            response.read(1)
    except OSError as exc:
        return f"PyPI is unreachable ({exc})"
    return None


def _download(target: Path) -> Path:
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--retries", "2",
        "--timeout", "30",
        "--no-binary", ":all:", f"pyjwt=={VERSION}", "-d", str(target),
    ]  # fmt: skip
    result = subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
        command, capture_output=True, text=True, timeout=300, check=False
    )
    archives = sorted(target.glob("*.tar.gz"))
    if result.returncode != 0 or not archives:
        reason = _registry_reachable()
        if reason is not None:
            print(f"skipped: {reason}")
            raise SystemExit(SKIPPED)
        raise SystemExit(f"pip download failed:\n{result.stdout}{result.stderr}")
    return archives[0]


def _unpack(archive: Path, target: Path) -> Path:
    """Extract only tests/ and pyproject.toml (never PyJWT's own jwt package)."""
    prefix = f"pyjwt-{VERSION}/"
    with tarfile.open(archive) as tar:
        members = [
            m
            for m in tar.getmembers()
            if m.name.startswith((prefix + "tests/", prefix + "pyproject.toml"))
            and (m.isfile() or m.isdir())
            and ".." not in Path(m.name).parts
        ]
        try:
            tar.extractall(target, members=members, filter="data")
        except TypeError:  # Python before 3.11.4 has no extraction filters
            tar.extractall(target, members=members)  # noqa: S202 - members checked above
    return target / prefix.rstrip("/")


def _run(suite: Path, report: Path) -> str:
    command = [
        sys.executable, "-c", LAUNCHER, "-q", "-p", "no:cacheprovider", "--rootdir", str(suite),
        "-c", str(suite / "pyproject.toml"), f"--junitxml={report}", str(suite / "tests"),
    ]  # fmt: skip
    result = subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
        command, capture_output=True, text=True, timeout=600, check=False, cwd=suite
    )
    return result.stdout + result.stderr


def _outcomes(report: Path) -> tuple[list[str], list[str], list[str]]:
    """Passed, failed (failures and errors) and skipped test ids from a JUnit report."""
    passed: list[str] = []
    failed: list[str] = []
    skipped: list[str] = []
    for case in ET.parse(report).getroot().iter("testcase"):  # noqa: S314 - our own file
        # classname is "tests.test_x.TestClass" or "tests.test_x": rebuild the pytest node id.
        parts = case.get("classname", "").split(".")
        split = next((i for i, p in enumerate(parts) if p[:1].isupper()), len(parts))
        node = "/".join(parts[:split]) + ".py::" + "::".join([*parts[split:], case.get("name", "")])
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(node)
        elif case.find("skipped") is not None:
            skipped.append(node)
        else:
            passed.append(node)
    return passed, failed, skipped


def documented() -> dict[str, str]:
    """Test id -> reason key, from the table between the markers in docs/pyjwt.md."""
    text = DOC.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{DOC} has no {START} ... {END} table")
    table = text.split(START, 1)[1].split(END, 1)[0]
    rows = re.findall(r"^\|\s*`([^`]+)`\s*\|\s*([a-z0-9-]+)\s*\|", table, flags=re.MULTILINE)
    return dict(rows)


def main(argv: list[str] | None = None) -> int:
    """Run the suite; return 0, 1 (below target or undocumented change) or 77 (skipped)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", action="store_true", help="print the failures as a table")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="pyjwt-suite-"))
    try:
        suite = _unpack(_download(work / "download"), work / "src")
        output = _run(suite, work / "report.xml")
        if not (work / "report.xml").exists():
            print(output)
            return 1
        passed, failed, skipped = _outcomes(work / "report.xml")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    total = len(passed) + len(failed) + len(skipped)
    rate = len(passed) / total if total else 0.0
    print(
        f"PyJWT {VERSION} suite on jwtkit.compat.pyjwt: {len(passed)} passed, "
        f"{len(failed)} failed, {len(skipped)} skipped of {total} ({rate:.1%} passed)"
    )
    known = documented()
    ok = rate >= MIN_PASS_RATE and total > 0
    for node in sorted(set(failed) - set(known)):
        print(f"  failing but not in docs/pyjwt.md: {node}")
        ok = False
    for node in sorted(set(known) - set(failed)):
        print(f"  in docs/pyjwt.md but not failing (update the table): {node}")
        ok = False
    for node, reason in sorted(known.items()):
        if reason not in REASONS:
            print(f"  unknown reason {reason!r} for {node}: use one of {sorted(REASONS)}")
            ok = False
    if args.table or not ok:
        for node in sorted(failed):
            print(f"| `{node}` | {known.get(node, '?')} |")
    if rate < MIN_PASS_RATE:
        print(f"  pass rate {rate:.1%} is below {MIN_PASS_RATE:.0%}")
        if not ok:
            print(output[-4000:])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
