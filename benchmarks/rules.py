"""Micro-benchmarks of jwtkit's security rules against the same step without the rule.

Issue 6 asks that canonical base64url, duplicate-member detection, ``crit``, and the size and
depth limits not be what costs the time. Each pair below runs jwtkit's private helper and the
cheapest unchecked code doing the same job on the same bytes (taken from a real ES256 token),
so the difference is the price of the rule. The helpers are imported lazily: a missing or
renamed one is reported as skipped, never fatal.
"""

from __future__ import annotations

import binascii
import functools
import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["RulePair", "rule_pairs"]


@dataclass(frozen=True, slots=True)
class RulePair:
    """One rule: what it is, the checked call, the unchecked call (or a skip reason)."""

    name: str
    checked: Callable[[], object] | None
    unchecked: Callable[[], object] | None
    skipped: str = ""


_URL_TO_STD = bytes.maketrans(b"-_", b"+/")


def _unchecked_b64(data: bytes) -> bytes:
    # The same translate + binascii work without the canonical-form and alphabet checks.
    return binascii.a2b_base64(data.translate(_URL_TO_STD) + b"=" * (-len(data) % 4))


def _attr(module: str, name: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def _pair(name: str, checked: Any, unchecked: Callable[[], object], missing: str) -> RulePair:
    if checked is None:
        return RulePair(name, None, None, skipped=f"{missing} not found in jwtkit")
    return RulePair(name, checked, unchecked)


def rule_pairs(token: str) -> list[RulePair]:
    """Build the rule pairs for ``token`` (a valid compact JWS with an object payload)."""
    raw = token.encode("ascii")
    head_seg, payload_seg, sig_seg = raw.split(b".")
    payload = _unchecked_b64(payload_seg)
    header = json.loads(_unchecked_b64(head_seg))
    text = payload.decode("utf-8")
    pairs: list[RulePair] = []

    b64decode = _attr("jwtkit._b64", "b64decode")
    for what, seg in (("payload", payload_seg), ("signature", sig_seg)):
        pairs.append(
            _pair(
                f"canonical base64url, {what} ({len(seg)} chars)",
                b64decode and functools.partial(b64decode, seg),
                functools.partial(_unchecked_b64, seg),
                "jwtkit._b64.b64decode",
            )
        )

    decoder = _attr("jwtkit._json", "_decode")
    pairs.append(
        _pair(
            "duplicate members (object_pairs_hook), claims",
            decoder and (lambda: decoder(text)),
            lambda: json.loads(text),
            "jwtkit._json._decode",
        )
    )
    loads_object = _attr("jwtkit._json", "loads_object")
    pairs.append(
        _pair(
            "all JSON rules (UTF-8, duplicates, literals, depth, object), claims",
            loads_object and (lambda: loads_object(payload)),
            lambda: json.loads(payload),
            "jwtkit._json.loads_object",
        )
    )
    pairs.append(
        _pair(
            "depth limit pre-check (bracket count), claims",
            loads_object and (lambda: text.count("{") + text.count("[") > 32),
            lambda: None,
            "jwtkit._json.loads_object",
        )
    )

    check_header = _attr("jwtkit._pipeline", "check_header")
    allowed_fn = _attr("jwtkit._rules", "allowed_algorithms")
    if check_header is not None and allowed_fn is not None:
        allowed = allowed_fn([header["alg"]])
        pairs.append(
            RulePair(
                "header rules (crit, b64, kid type, alg allow-list)",
                lambda: check_header(header, allowed, None),
                lambda: allowed.get(header.get("alg")),
            )
        )
    else:
        missing = "jwtkit._pipeline.check_header not found"
        pairs.append(RulePair("header rules", None, None, missing))

    split = _attr("jwtkit._pipeline", "split")
    pairs.append(
        _pair(
            "size limit, type and segment checks (split)",
            split and (lambda: split(token, 256 * 1024)),
            lambda: token.encode("ascii").rpartition(b".")[0].partition(b"."),
            "jwtkit._pipeline.split",
        )
    )
    return pairs
