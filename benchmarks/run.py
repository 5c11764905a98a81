"""Run the whole benchmark: ``python -m benchmarks.run`` (``--quick`` for a smoke run).

Every (library, case, operation) cell and every security-rule pair is calibrated, checked
(each verifier must reject the bad tokens of ``benchmarks.checks``; each signer's token must
verify with the floor and carry the same claims), then sampled round-robin in one process,
in a freshly shuffled order per round. Start-up times follow (the token service has its own
benchmark, ``python -m benchmarks.service``).
Results go to ``benchmarks/results/`` (or ``--out``): results.md, results.json, chart.png,
and profile.md (where ``Verifier.verify`` spends its time, see ``benchmarks.hotpath``).
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import subprocess
import sys
import time
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # Run as a script: make ``benchmarks`` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import report
from benchmarks._common import (
    CASES,
    HEADLINE,
    KID,
    QUICK_CASES,
    Unsupported,
    full_claims,
    make_materials,
)
from benchmarks.checks import bad_tokens, missed_checks
from benchmarks.peers import LIBRARIES, PYJWT_BASELINE, Library, version_of
from benchmarks.rules import rule_pairs
from benchmarks.timing import Timed, calibrate, run_interleaved, summarize

__all__ = ["main"]

DEFAULT_OUT = Path(__file__).resolve().parent / "results"


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few short rounds, 4 cases")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 41, quick 3)")
    parser.add_argument("--batch-ms", type=float, help="target ms per sample (default 3)")
    parser.add_argument("--cases", help="comma-separated case labels, e.g. HS256,ES256")
    parser.add_argument("--libraries", help="comma-separated library names")
    parser.add_argument("--skip", default="", help="parts to skip: rules,startup,profile")
    parser.add_argument("--startup-runs", type=int, help="runs per start-up command (15)")
    return parser.parse_args(argv)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _nproc() -> str:
    try:
        return subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return str(os.cpu_count())


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _prepare_cells(
    libraries: Sequence[Library], cases: Sequence[Any], materials: dict[str, Any]
) -> tuple[list[Timed], dict[tuple[str, ...], dict[str, Any]], list[dict[str, Any]]]:
    """Prepare, check and wrap every cell; return timed cells, their facts, unsupported."""
    timed: list[Timed] = []
    facts: dict[tuple[str, ...], dict[str, Any]] = {}
    unsupported: list[dict[str, Any]] = []
    floor_lib = next(lib for lib in LIBRARIES if lib.name == "floor")
    for case in cases:
        material = materials[case.label]
        reference = floor_lib.prepare(material)
        assert reference.verify is not None
        assert reference.sign is not None
        token = reference.sign(full_claims())
        bad = bad_tokens(material)
        want = set(full_claims())
        for lib in libraries:
            try:
                ops = lib.prepare(material)
            except Unsupported as exc:
                unsupported.append({"library": lib.name, "case": case.label, "reason": str(exc)})
                continue
            if ops.verify is not None:
                verify = ops.verify
                if lib.validates and verify(token).get("sub") != "user-1234":
                    raise RuntimeError(f"{lib.name} {case.label}: verify returned wrong claims")
                key = (lib.name, case.label, "verify")
                missed = missed_checks(verify, bad) if lib.validates else None
                facts[key] = {"missed_checks": missed, "note": ops.note}
                timed.append(Timed(key, functools.partial(verify, token)))
            if ops.sign is not None:
                sign, claims = ops.sign, ops.sign_claims
                produced = reference.verify(sign(claims)) if lib.validates else want
                note = ops.note
                if set(produced) != want:
                    note = f"claims differ: {sorted(set(produced) ^ want)}"
                key = (lib.name, case.label, "sign")
                facts[key] = {"missed_checks": None, "note": note}
                timed.append(Timed(key, functools.partial(sign, claims)))
    return timed, facts, unsupported


def _rule_cells(materials: dict[str, Any]) -> tuple[list[Timed], list[dict[str, Any]]]:
    from benchmarks import floor

    material = materials.get("ES256") or next(iter(materials.values()))
    header = {"alg": material.alg, "typ": "JWT", "kid": KID}
    token = floor.sign_token(material, full_claims(), header)
    timed: list[Timed] = []
    skipped: list[dict[str, Any]] = []
    for pair in rule_pairs(token):
        if pair.checked is None or pair.unchecked is None:
            skipped.append({"name": pair.name, "skipped": pair.skipped})
            continue
        timed.append(Timed(("rule", pair.name, "checked"), pair.checked))
        timed.append(Timed(("rule", pair.name, "unchecked"), pair.unchecked))
    return timed, skipped


def _cell_rows(
    timed: Sequence[Timed], facts: dict[tuple[str, ...], dict[str, Any]], order: Sequence[str]
) -> list[dict[str, Any]]:
    stats = {t.key: (summarize(t.samples), t) for t in timed if t.key[0] != "rule"}
    cpu = {t.key: summarize(t.cpu_samples).median for t in timed if t.key[0] != "rule"}
    rows = []
    for key, (stat, t) in stats.items():
        lib, case, op = key
        floor_stat = stats.get(("floor", case, op))
        pyjwt_stat = stats.get((PYJWT_BASELINE.get(lib, "PyJWT"), case, op))
        floor_cpu = cpu.get(("floor", case, op))
        rows.append(
            {
                "library": lib,
                "case": case,
                "alg": next(c.alg for c in CASES if c.label == case),
                "op": op,
                "median_us": stat.median,
                "q1_us": stat.q1,
                "q3_us": stat.q3,
                "min_us": stat.low,
                "max_us": stat.high,
                "noise_pct": stat.noise,
                "loops": t.loops,
                "samples_us": [round(s / 1000, 4) for s in t.samples],
                "ratio_floor": stat.median / floor_stat[0].median if floor_stat else None,
                "ratio_pyjwt": stat.median / pyjwt_stat[0].median if pyjwt_stat else None,
                "cpu_median_us": cpu[key],
                "cpu_ratio_floor": cpu[key] / floor_cpu if floor_cpu else None,
                "cpu_samples_us": [round(s / 1000, 4) for s in t.cpu_samples],
                **facts[key],
            }
        )
    case_rank = {c.label: i for i, c in enumerate(CASES)}
    lib_rank = {name: i for i, name in enumerate(order)}
    rows.sort(
        key=lambda r: (case_rank[r["case"]], r["op"] != "verify", lib_rank.get(r["library"], 99))
    )
    return rows


def _rule_rows(timed: Sequence[Timed], skipped: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_name: dict[str, dict[str, Any]] = {}
    for t in timed:
        if t.key[0] != "rule":
            continue
        stat = summarize(t.samples)
        row = by_name.setdefault(t.key[1], {"name": t.key[1], "noise_pct": 0.0})
        row[f"{t.key[2]}_us"] = stat.median
        row[f"{t.key[2]}_cpu_us"] = summarize(t.cpu_samples).median
        row["noise_pct"] = max(row["noise_pct"], stat.noise)
    return [*by_name.values(), *skipped]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and write the results; return the process exit status."""
    args = _parse(argv)
    warnings.simplefilter("ignore")  # Peers' deprecation warnings must not flood the output.
    quick = args.quick
    rounds = args.rounds or (3 if quick else 41)
    batch_ms = args.batch_ms or (0.3 if quick else 3.0)
    wanted = args.cases.split(",") if args.cases else (QUICK_CASES if quick else None)
    cases = [c for c in CASES if wanted is None or c.label in wanted]
    libraries = [
        lib for lib in LIBRARIES if not args.libraries or lib.name in args.libraries.split(",")
    ]
    if not any(lib.name == "floor" for lib in libraries):
        libraries.insert(0, next(lib for lib in LIBRARIES if lib.name == "floor"))
    skip = set(filter(None, args.skip.split(",")))
    started, load_before = time.monotonic(), _load()
    _log(f"keys for {len(cases)} cases ...")
    materials = make_materials(tuple(cases))
    timed, facts, unsupported = _prepare_cells(libraries, cases, materials)
    rule_skipped: list[dict[str, Any]] = []
    if "rules" not in skip:
        rule_timed, rule_skipped = _rule_cells(materials)
        timed += rule_timed
    _log(f"calibrating {len(timed)} cells ...")
    for cell in timed:
        cell.loops = calibrate(cell.fn, batch_ms * 1e6)
    _log(f"{rounds} interleaved rounds ...")
    run_interleaved(timed, rounds, progress=lambda i, n: _log(f"  round {i}/{n}"))
    result: dict[str, Any] = {
        "cells": _cell_rows(timed, facts, [lib.name for lib in LIBRARIES]),
        "unsupported": unsupported,
        "rules": _rule_rows(timed, rule_skipped) if "rules" not in skip else [],
    }
    if "startup" not in skip:
        from benchmarks.startup import measure_startup

        _log("start-up times ...")
        result["startup"] = measure_startup(args.startup_runs or (2 if quick else 15))
    if "profile" not in skip:
        from benchmarks.hotpath import profile_cases

        _log("profiling Verifier.verify ...")
        labels = [c.label for c in cases if c.label in HEADLINE] or [cases[0].label]
        text = (
            profile_cases(labels[:1], batch_ms=0.3, repeats=3) if quick else profile_cases(labels)
        )
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "profile.md").write_text(text, encoding="utf-8")
    result["meta"] = _meta(args, argv, rounds, batch_ms, load_before, started, libraries)
    result["goals"] = report.evaluate_goals(result)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    written = ["results.md", "results.json"]
    try:
        report.write_chart(result, out / "chart.png")
        written.append("chart.png")
    except ImportError:
        result["meta"]["notes"].append("chart.png not written: matplotlib is not installed.")
        _log("matplotlib is not installed: no chart (pip install -e '.[bench]')")
    report.write_json(result, out / "results.json")
    report.write_markdown(result, out / "results.md")
    _log(f"wrote {', '.join(written)} to {out} in {time.monotonic() - started:.0f} s")
    return 0


def _meta(
    args: argparse.Namespace,
    argv: Sequence[str] | None,
    rounds: int,
    batch_ms: float,
    load_before: str,
    started: float,
    libraries: Sequence[Library],
) -> dict[str, Any]:
    from cryptography.hazmat.backends.openssl.backend import backend

    dists = ["cryptography", "jwtkit", "PyJWT", "joserfc", "jwcrypto", "python-jose", "Authlib"]
    shown = " ".join(sys.argv[1:] if argv is None else argv)
    return {
        "command": f"python -m benchmarks.run {shown}".strip(),
        "quick": args.quick,
        "rounds": rounds,
        "batch_ms": batch_ms,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(terse=True),
        "openssl": backend.openssl_version_text(),
        "cpu": _cpu_model(),
        "nproc": _nproc(),
        "load_before": load_before,
        "load_after": _load(),
        "versions": {d: version_of(d) for d in dists},
        "peers": [lib.name for lib in libraries if lib.peer],
        "finished": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": round(time.monotonic() - started, 1),
        "notes": _notes(),
    }


def _notes() -> list[str]:
    return [
        "floor: split, base64 (stdlib), json, the primitive, alg/exp/iss/aud compares; keys "
        "and padding objects prepared once; header serialized per token (benchmarks/floor.py).",
        "primitive only: the cryptography call on a fixed input; not a library, no checks.",
        "jwtkit's Signer adds iss/aud/iat/exp itself (jti off); every other signer is given "
        "the same complete claim set, so every token carries the same claims.",
        "PyJWT (PEM per call) passes PEM text on every call (RS256, ES256): a usage pattern, "
        "not a peer; it is excluded from the 'faster than every peer' goals.",
        "PyJWT façade is jwtkit.compat.pyjwt making the PyJWT column's calls; its x PyJWT "
        "divides by PyJWT, and the façade's PEM-per-call row by PyJWT (PEM per call).",
        "Every verifier is given the same floor-signed token, allow-list [alg], issuer, "
        "audience and a required exp; python-jose has no PS*/EdDSA/ES256K, only jwtkit, the "
        "floor and jwcrypto do ML-DSA.",
        "The machine is shared: compare ratios within one run, not absolute times across runs.",
    ]


if __name__ == "__main__":
    sys.exit(main())
