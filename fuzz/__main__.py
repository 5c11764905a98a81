"""Run the fuzz targets: ``python -m fuzz --minutes 20`` (see fuzz/README.md).

Makes fresh keys and seed corpora, runs each target in its own atheris/libFuzzer process
(``--jobs`` at a time), restarts a target after a finding while its budget lasts, writes each
finding as a reproducer under ``--findings``, and records executions, exec/s and max RSS per
target in ``--out`` (fuzz.json and fuzz.md). Exit status: 0 no findings, 1 findings, 2 a
target could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DICTIONARY = Path(__file__).with_name("jose.dict")
MAX_FINDINGS_PER_TARGET = 5
_ARTIFACT = re.compile(r"Test unit written to (\S+)")
_STAT = re.compile(r"stat::(\w+):\s+(\d+)")
_STATUS = re.compile(r"^#(\d+)\s", re.M)
_PYTHON_ERROR = re.compile(r"=== Uncaught Python exception: ===\n(.*?)(?:\n==\d+==|\Z)", re.S)


@dataclass
class Run:
    """What we know about one target so far (over restarts after findings)."""

    name: str
    seconds_budget: float
    runs_budget: int | None
    executions: int = 0
    seconds: float = 0.0
    max_rss_mb: float = 0.0
    starts: int = 0
    seeds: int = 0
    corpus_files: int = 0
    findings: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None

    def left(self) -> tuple[float, int | None]:
        runs = None if self.runs_budget is None else self.runs_budget - self.executions
        return self.seconds_budget - self.seconds, runs

    def wants_more(self) -> bool:
        seconds, runs = self.left()
        return (
            self.error is None
            and 0 < len(self.findings) < MAX_FINDINGS_PER_TARGET
            and seconds > 1
            and (runs is None or runs > 0)
        )


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    from fuzz._targets import NAMES

    p = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__)
    p.add_argument("--minutes", type=float, default=20.0, help="wall-clock budget of the run")
    p.add_argument("--seconds", type=float, help="seconds per target (instead of a share)")
    p.add_argument("--runs", type=int, help="stop a target after this many executions")
    p.add_argument("--targets", default=",".join(NAMES), help="comma-separated target names")
    p.add_argument("--jobs", type=int, default=2, help="targets fuzzed at once (default 2)")
    p.add_argument("--timeout", type=int, default=10, help="seconds one input may take")
    p.add_argument("--rss-limit-mb", type=int, default=2048, help="memory one process may use")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    p.add_argument("--findings", type=Path, default=ROOT / "fuzz" / "findings")
    p.add_argument("--corpus", type=Path, help="keep keys and corpora here between runs")
    p.add_argument("--merge", action="store_true", help="keep other targets' rows already in --out")
    p.add_argument("--reproduce", nargs="+", type=Path, metavar="FILE", help="run inputs again")
    p.add_argument("--list", action="store_true", help="list the targets and exit")
    args = p.parse_args(argv)
    args.targets = [name.strip() for name in args.targets.split(",") if name.strip()]
    unknown = sorted(set(args.targets) - set(NAMES))
    if unknown:
        p.error(f"unknown targets: {', '.join(unknown)} (known: {', '.join(NAMES)})")
    return args


def _prepare(args: argparse.Namespace, work: Path) -> Path:
    """Write keys (kept if the corpus directory already has some) and every target's seeds."""
    from fuzz._seeds import Material, seeds

    keys = work / "keys.json"
    material = Material.load(keys) if keys.exists() else Material.generate()
    material.save(keys)
    for name in args.targets:
        folder = work / "corpus" / name
        folder.mkdir(parents=True, exist_ok=True)
        for index, data in enumerate(seeds(name, material)):
            (folder / f"seed-{index:03d}").write_bytes(data)
    return keys


def _start(run: Run, args: argparse.Namespace, work: Path, keys: Path) -> subprocess.Popen[bytes]:
    seconds, runs = run.left()
    artifacts = args.findings / run.name
    artifacts.mkdir(parents=True, exist_ok=True)
    flags = [
        f"-max_total_time={max(1, int(seconds))}",
        f"-timeout={args.timeout}",
        f"-rss_limit_mb={args.rss_limit_mb}",
        f"-dict={DICTIONARY}",
        f"-artifact_prefix={artifacts}/",
        "-print_final_stats=1",
    ]
    if runs is not None:
        flags.append(f"-runs={runs}")
    command = [
        sys.executable,
        "-m",
        "fuzz._worker",
        run.name,
        str(keys),
        str(work / "corpus" / run.name),
    ]
    log = open(work / f"{run.name}.{run.starts}.log", "wb")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))),
    }
    run.starts += 1
    process = subprocess.Popen(
        [*command, *flags],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    return process


def _finish(run: Run, work: Path, keys: Path, started: float, status: int) -> None:
    """Account for one worker that ended: its stats, and a reproducer per finding."""
    run.seconds += time.monotonic() - started
    text = _log_tail(work / f"{run.name}.{run.starts - 1}.log")
    stats = {name: int(value) for name, value in _STAT.findall(text)}
    executed = stats.get("number_of_executed_units")
    if executed is None:
        counts = _STATUS.findall(text)
        executed = int(counts[-1]) if counts else 0
    run.executions += executed
    artifacts = _ARTIFACT.findall(text)
    for artifact in artifacts:
        path = Path(artifact)
        errors = _PYTHON_ERROR.findall(text)
        summary = errors[-1].strip() if errors else _tail(text)
        run.findings.append(
            {
                "kind": path.name.split("-", 1)[0],
                "artifact": str(path),
                "reproducer": str(_write_reproducer(run.name, path, summary, keys)),
                "summary": summary.splitlines()[-1] if summary else "",
            }
        )
    if not artifacts and status != 0 and executed == 0:
        run.error = f"exit status {status}: {_tail(text)}"


def _log_tail(path: Path, size: int = 1 << 20) -> str:
    """The end of a worker's log, where libFuzzer writes its stats, the artifact and the
    Python traceback. Never the whole file: a chatty target's log can be huge, and a parent
    that once held gigabytes passes that peak on (as ru_maxrss) to every child it forks."""
    with open(path, "rb") as f:
        f.seek(max(0, path.stat().st_size - size))
        return f.read().decode("utf-8", "replace")


def _tail(text: str, lines: int = 6) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _write_reproducer(name: str, artifact: Path, summary: str, keys: Path) -> Path:
    """Write ``<artifact>.py``: it runs the input through its target again, uninstrumented."""
    shutil.copyfile(keys, artifact.parent / "keys.json")
    script = artifact.with_name(artifact.name + ".py")
    comment = "\n".join(f"# {line}" for line in summary.splitlines())
    script.write_text(
        f'"""Reproducer of a fuzzing finding in target {name!r} ({artifact.name}).\n\n'
        "Run it from the repository root: python <this file>. Then make it a regression test.\n"
        f'"""\n\n{comment}\n\nimport sys\nfrom pathlib import Path\n\n'
        "sys.path.insert(0, '.')\n\nfrom fuzz.__main__ import reproduce  # noqa: E402\n\n"
        f"DATA = {artifact.read_bytes()!r}\n\n"
        f"reproduce({name!r}, DATA, Path(__file__).with_name('keys.json'))\n"
    )
    return script


def reproduce(name: str, data: bytes, keys: Path) -> None:
    """Run one input through target ``name`` without atheris; its exception propagates."""
    from fuzz._seeds import Material
    from fuzz._targets import make_target

    make_target(name, Material.load(keys)).run(data)
    print(f"{name}: no finding with this input ({len(data)} bytes)")


def _peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident set (VmHWM), or None where /proc does not tell.

    Not getrusage: on Linux a child's ru_maxrss (and so libFuzzer's own rss figure) also
    counts the parent's resident set at the fork, and this parent holds keys and jwtkit.
    """
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _schedule(runs: list[Run], args: argparse.Namespace, work: Path, keys: Path) -> None:
    """Run the targets, ``--jobs`` at a time, restarting one after a finding."""
    queue = list(runs)
    active: dict[int, tuple[Run, subprocess.Popen[bytes], float]] = {}
    while queue or active:
        while queue and len(active) < max(1, args.jobs):
            run = queue.pop(0)
            process = _start(run, args, work, keys)
            active[process.pid] = (run, process, time.monotonic())
            print(f"[fuzz] {run.name}: started (pid {process.pid})", flush=True)
        pid, status, usage = os.wait4(-1, os.WNOHANG)
        if pid == 0:  # all still running: sample their memory
            for pid, (run, _, _) in active.items():
                run.max_rss_mb = max(run.max_rss_mb, _peak_rss_mb(pid) or 0.0)
            time.sleep(0.2)
            continue
        if pid not in active:
            continue
        run, process, started = active.pop(pid)
        process.returncode = os.waitstatus_to_exitcode(status)
        if run.max_rss_mb == 0:  # no /proc: the rusage figure, an overestimate
            run.max_rss_mb = usage.ru_maxrss / 1024
        _finish(run, work, keys, started, process.returncode)
        print(
            f"[fuzz] {run.name}: {run.executions} executions, {len(run.findings)} findings",
            flush=True,
        )
        if run.wants_more():
            queue.insert(0, run)


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for package in ("jwtkit", "cryptography", "atheris"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "not installed"
    return out


def _report(
    runs: list[Run], args: argparse.Namespace, work: Path, argv: Sequence[str]
) -> dict[str, Any]:
    command = "python -m fuzz " + " ".join(argv)
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows: list[dict[str, Any]] = []
    for run in runs:
        corpus = work / "corpus" / run.name
        rows.append(
            {
                "target": run.name,
                "command": command,
                "date": date,
                "executions": run.executions,
                "seconds": round(run.seconds, 1),
                "exec_per_sec": round(run.executions / run.seconds) if run.seconds else 0,
                "max_rss_mb": round(run.max_rss_mb, 1),
                "seeds": run.seeds,
                "corpus_files": len(list(corpus.iterdir())) if corpus.exists() else 0,
                "findings": run.findings,
                "error": run.error,
            }
        )
    if args.merge and (args.out / "fuzz.json").exists():
        # Keep the rows of the targets this run left out, from the report already there.
        from fuzz._targets import NAMES

        ran = {row["target"] for row in rows}
        old = json.loads((args.out / "fuzz.json").read_text())["targets"]
        rows += [row for row in old if row["target"] not in ran]
        rows.sort(key=lambda row: NAMES.index(row["target"]))
    return {
        "command": command,
        "date": date,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
        "versions": _versions(),
        "targets": rows,
        "findings": sum(len(row["findings"]) for row in rows),
    }


def _write(report: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "fuzz.json").write_text(json.dumps(report, indent=2) + "\n")
    commands = list(dict.fromkeys(row["command"] for row in report["targets"]))
    lines = [
        "# Fuzzing results",
        "",
        f"{report['machine']}. Versions: "
        + ", ".join(f"{k} {v}" for k, v in report["versions"].items())
        + ". Max RSS is the worker's VmHWM.",
        "",
        "| target | executions | seconds | exec/s | max RSS (MB) | seeds | corpus | findings "
        "| run |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in report["targets"]:
        findings = len(row["findings"]) if row["error"] is None else f"error: {row['error'][:60]}"
        lines.append(
            f"| {row['target']} | {row['executions']:,} | {row['seconds']:,} | "
            f"{row['exec_per_sec']:,} | {row['max_rss_mb']} | {row['seeds']} | "
            f"{row['corpus_files']} | {findings} | {commands.index(row['command']) + 1} |"
        )
    lines.append("")
    for index, command in enumerate(commands, 1):
        dates = sorted({row["date"] for row in report["targets"] if row["command"] == command})
        lines.append(f"{index}. `{command}`, {', '.join(dates)}")
    (out / "fuzz.md").write_text("\n".join(lines) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m fuzz``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parse(argv)
    if args.list:
        print("\n".join(args.targets))
        return 0
    if args.reproduce:
        for path in args.reproduce:
            keys = path.with_name("keys.json")
            reproduce(path.parent.name, path.read_bytes(), keys)
        return 0
    try:
        import atheris  # noqa: F401
    except ImportError:
        print("atheris is not installed: pip install -e '.[fuzz]'", file=sys.stderr)
        return 2
    work = args.corpus or Path(tempfile.mkdtemp(prefix="jwtkit-fuzz-"))
    work.mkdir(parents=True, exist_ok=True)
    keys = _prepare(args, work)
    jobs = max(1, min(args.jobs, len(args.targets)))
    share = args.seconds or args.minutes * 60 * jobs / len(args.targets)
    runs = [Run(name, share, args.runs) for name in args.targets]
    for run in runs:
        run.seeds = len(list((work / "corpus" / run.name).glob("seed-*")))
    _schedule(runs, args, work, keys)
    report = _report(runs, args, work, argv)
    _write(report, args.out)
    print((args.out / "fuzz.md").read_text())
    if args.corpus is None:
        shutil.rmtree(work, ignore_errors=True)
    if any(run.error for run in runs):
        return 2
    return 1 if report["findings"] else 0


if __name__ == "__main__":
    sys.exit(main())
