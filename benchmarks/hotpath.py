"""Where ``Verifier.verify`` spends its time beyond the primitive, per algorithm.

Two views for whoever tunes the core: a stage breakdown (each step of jwtkit's verify
pipeline timed on its own with the same token, against the primitive alone and the floor),
and the top functions of a cProfile run of ``Verifier.verify``. cProfile adds a fixed cost
per Python call, so it exaggerates call-heavy code: read its order, trust the stage table
for sizes. Run ``python -m benchmarks.hotpath`` (or as part of ``benchmarks.run``); writes
``profile.md`` beside the other results. Stages use jwtkit internals and are skipped, with a
note, if those are renamed.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # Run as a script: make ``benchmarks`` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import floor
from benchmarks._common import CASES, HEADLINE, KID, Material, full_claims, make_materials
from benchmarks.peers import jwtkit_objects
from benchmarks.timing import Timed, calibrate, run_interleaved, summarize

__all__ = ["main", "profile_cases"]


def _stages(material: Material, token: str) -> list[tuple[str, Callable[[], object]]]:
    """The verify pipeline split into its steps, each callable on its own."""
    from jwtkit import Key
    from jwtkit._b64 import b64decode
    from jwtkit._claims import check as check_claims_of
    from jwtkit._json import loads_object
    from jwtkit._pipeline import Resolver, check_header, decode_json, split
    from jwtkit._rules import VerifyRules

    public = (
        Key.from_secret(material.private, alg=material.alg, kid=KID)
        if material.is_hmac
        else Key.from_pem(material.public_pem, alg=material.alg, kid=KID)
    )
    rules = VerifyRules(
        algorithms=[material.alg], issuer=full_claims()["iss"], audience=full_claims()["aud"]
    )
    allowed = rules.allowed
    resolver = Resolver(public)
    signing_input, head, body, sig = split(token, 256 * 1024)
    header = decode_json(head, "header", 32)
    algorithm = check_header(header, allowed, None)
    resolved: Any = resolver.resolve(header.get("kid"), algorithm)
    # Early cores returned the verify functions; later ones (key set, functions).
    verify_fn = (resolved[1] if len(resolved) == 2 and not callable(resolved[0]) else resolved)[0]
    signature = b64decode(sig)
    payload = b64decode(body)
    claims = loads_object(payload)
    now = time.time()
    stages: list[tuple[str, Callable[[], object]]] = [
        ("split + size/type checks", lambda: split(token, 256 * 1024)),
        ("header: base64url + strict JSON", lambda: decode_json(head, "header", 32)),
        ("header rules + allow-list", lambda: check_header(header, allowed, None)),
        ("key resolution (cached)", lambda: resolver.resolve(header.get("kid"), algorithm)),
        ("signature base64url", lambda: b64decode(sig)),
        ("primitive (jwtkit's prepared verify)", lambda: verify_fn(signing_input, signature)),
        ("payload base64url", lambda: b64decode(body)),
        ("claims: strict JSON", lambda: loads_object(payload)),
        ("claims checks (exp/iss/aud/...)", lambda: check_claims_of(claims, rules, now)),
    ]
    return stages


def _cprofile_top(fn: Callable[[], object], calls: int, top: int = 10) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        fn()
    profiler.disable()
    buf = io.StringIO()
    stats = pstats.Stats(profiler, stream=buf)
    stats.sort_stats("tottime").print_stats(top)
    lines = [ln for ln in buf.getvalue().splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")), 0)
    return "\n".join(lines[start:])


def _profile_case(material: Material, batch_ns: float, repeats: int) -> list[str]:
    """The stage table and cProfile listing of one case."""
    case = material.case
    token = floor.sign_token(material, full_claims(), {"alg": case.alg, "typ": "JWT", "kid": KID})
    ours = jwtkit_objects(material).verify
    base = floor.make_ops(material).verify
    prim = floor.make_primitive_ops(material).verify
    assert ours is not None and base is not None and prim is not None
    try:
        stages = _stages(material, token)
        skipped = ""
    except (ImportError, AttributeError, TypeError, ValueError) as exc:
        stages, skipped = [], f"Stage breakdown skipped: jwtkit internals changed ({exc})."
    named: list[tuple[str, Callable[[], object]]] = [
        ("verify", lambda: ours(token)),
        ("floor", lambda: base(token)),
        ("primitive", lambda: prim(token)),
        *stages,
    ]
    # Interleave all steps of this case, as the main run does, so drift hits them equally.
    cells = [Timed((name,), fn, calibrate(fn, batch_ns)) for name, fn in named]
    run_interleaved(cells, repeats)
    us = {cell.key[0]: summarize(cell.samples).low for cell in cells}
    total, floor_us, prim_us = us["verify"], us["floor"], us["primitive"]
    out = ["", f"## {case.label}", "", "| step | µs | share of verify |", "|---|---:|---:|"]
    out.append(f"| **Verifier.verify** | {total:.2f} | 100% |")
    out.append(f"| floor verify | {floor_us:.2f} | {100 * floor_us / total:.0f}% |")
    out.append(f"| primitive only | {prim_us:.2f} | {100 * prim_us / total:.0f}% |")
    if skipped:
        out.append(f"\n{skipped}")
    for name, _ in stages:
        out.append(f"| {name} | {us[name]:.2f} | {100 * us[name] / total:.0f}% |")
    if stages:
        summed = sum(us[name] for name, _ in stages)
        out.append(f"| sum of steps | {summed:.2f} | {100 * summed / total:.0f}% |")
        out.append(
            f"| beyond the primitive (verify - primitive) | {total - prim_us:.2f} | "
            f"{100 * (total - prim_us) / total:.0f}% |"
        )
    calls = max(50, min(5000, int(200_000 / max(total, 1.0))))
    return [
        *out,
        "",
        f"cProfile, {calls} calls of Verifier.verify, top functions by own time:",
        "",
        "```",
        _cprofile_top(lambda: ours(token), calls),
        "```",
    ]


def profile_cases(labels: Sequence[str], *, batch_ms: float = 2.0, repeats: int = 15) -> str:
    """Return the Markdown report for the cases named in ``labels``."""
    cases = tuple(c for c in CASES if c.label in labels)
    materials = make_materials(cases)
    out = [
        "# Where Verifier.verify spends its time",
        "",
        f"Fastest of {repeats} interleaved batches of about {batch_ms} ms per step, in µs (on a "
        "shared machine the minimum is the least disturbed estimate of a step's own cost). "
        "`primitive only` is the cryptography call as the floor makes it; `sum of steps` "
        "should be close to `Verifier.verify`; the rest is call overhead between the steps.",
    ]
    batch_ns = batch_ms * 1e6
    for case in cases:
        out += _profile_case(materials[case.label], batch_ns, repeats)
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Profile the headline cases (or ``--cases``) and write ``profile.md``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.hotpath", description=__doc__)
    parser.add_argument("--cases", default=",".join(HEADLINE), help="comma-separated labels")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args(argv)
    text = profile_cases(args.cases.split(","))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "profile.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
