"""Tokens every verifier must reject, so "same validation work" is proven, not assumed.

Before a verify cell is timed, the runner feeds it each token below (all signed with the
case's real key by the floor, except where the point is a bad signature or no signature) and
records which ones the library wrongly accepts. A library that skips a check is listed in
the report next to its time, since skipping work makes it look faster.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

from benchmarks import floor
from benchmarks._common import KID, Case, Material, full_claims

__all__ = ["CHECKS", "bad_tokens", "missed_checks"]

CHECKS = ("signature", "alg_none", "other_alg", "exp", "missing_exp", "iss", "aud")

# An algorithm the same key can also sign with, to prove the allow-list is enforced.
_OTHER_ALG = {
    "HS256": "HS512",
    "HS384": "HS256",
    "HS512": "HS256",
    "RS256": "PS256",
    "RS512": "RS256",
    "PS256": "RS256",
    "PS384": "RS256",
}


def _b64(data: bytes) -> str:
    return floor._b64e(data)


def bad_tokens(material: Material, now: int | None = None) -> dict[str, str]:
    """Return one token per check in ``CHECKS`` (``other_alg`` only where the key allows)."""
    now = int(time.time()) if now is None else now
    header = {"alg": material.alg, "typ": "JWT", "kid": KID}

    def signed(**overrides: Any) -> str:
        return floor.sign_token(material, full_claims(now, **overrides), header)

    good = signed()
    other = signed(sub="someone-else")
    tokens = {
        "signature": good.rpartition(".")[0] + "." + other.rpartition(".")[2],
        "alg_none": _b64(b'{"alg":"none","typ":"JWT"}') + "." + good.split(".")[1] + ".",
        "exp": signed(exp=now - 120, iat=now - 3720),
        "missing_exp": signed(exp=None),
        "iss": signed(iss="https://attacker.example"),
        "aud": signed(aud="api://someone-else"),
    }
    other_alg = _OTHER_ALG.get(material.alg)
    if other_alg is not None:
        swapped = dataclasses.replace(material, case=Case(material.case.label, other_alg, "-"))
        tokens["other_alg"] = floor.sign_token(
            swapped, full_claims(now), {**header, "alg": other_alg}
        )
    return tokens


def missed_checks(verify: Callable[[str], object], tokens: dict[str, str]) -> list[str]:
    """Return the names of the bad tokens that ``verify`` accepted (should be empty)."""
    missed = []
    for name, token in tokens.items():
        try:
            verify(token)
        except Exception:  # noqa: S112  (any rejection counts, whatever its type)
            continue
        missed.append(name)
    return missed
