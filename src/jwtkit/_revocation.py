"""What jwtkit's token service has revoked, and the one rule that applies it to claims.

Shared by the service (introspection, the revocation list it serves) and the resource-server
check in ``jwtkit.client`` that polls that list, so both sides decide alike. Three kinds of
entries, each kept until the time after which no token it revokes can still be valid:

- ``jti``: access tokens revoked one by one (RFC 7009), until their ``exp``;
- ``families``: refresh families (login sessions) revoked by logout, reuse detection, a
  password change or a disabled account; every access token issued under a family carries its
  id in the private claim ``jwtkit_fid``;
- ``subjects``: users (by ``sub``) and clients (as ``client:<client_id>``, matching both the
  ``client_id`` claim and the ``sub`` of client-credentials tokens) whose tokens issued before
  ``before`` are revoked. A disabled subject has ``before == until``: all of its tokens.

Private: the wire format is documented in docs/server.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = ["CLIENT_PREFIX", "FAMILY_CLAIM", "Revocations", "client_subject"]

FAMILY_CLAIM: Final = "jwtkit_fid"
CLIENT_PREFIX: Final = "client:"
_KINDS: Final = ("jti", "families", "subjects")


def client_subject(client_id: str) -> str:
    """Return the subject of a client: ``client:<id>`` (usernames never contain ``:``)."""
    return CLIENT_PREFIX + client_id


def _empty() -> dict[str, Any]:
    return {}


@dataclass(frozen=True, slots=True)
class Revocations:
    """An immutable set of revocations; :meth:`revoked` is a few dict lookups per token."""

    jti: Mapping[str, float] = field(default_factory=_empty)
    families: Mapping[str, float] = field(default_factory=_empty)
    # subject -> (before, until): tokens with iat < before are revoked.
    subjects: Mapping[str, tuple[float, float]] = field(default_factory=_empty)

    def revoked(self, claims: Mapping[str, Any]) -> bool:
        """Say whether verified ``claims`` belong to a revoked token.

        Checked: the ``jti``, the family (``jwtkit_fid``), and the cut-offs of the ``sub``
        and of the client (``client_id``). A token without a numeric ``iat`` counts as
        issued before any cut-off.
        """
        jti = claims.get("jti")
        if type(jti) is str and jti in self.jti:
            return True
        fid = claims.get(FAMILY_CLAIM)
        if type(fid) is str and fid in self.families:
            return True
        subjects = self.subjects
        if not subjects:
            return False
        iat = claims.get("iat")
        issued = iat if type(iat) is int or type(iat) is float else -math.inf
        sub = claims.get("sub")
        if type(sub) is str:
            entry = subjects.get(sub)
            if entry is not None and not issued >= entry[0]:
                return True
        client = claims.get("client_id")
        if type(client) is str:
            entry = subjects.get(CLIENT_PREFIX + client)
            if entry is not None and not issued >= entry[0]:
                return True
        return False

    def __len__(self) -> int:
        return len(self.jti) + len(self.families) + len(self.subjects)

    def to_json(self) -> dict[str, Any]:
        """Return the wire form: ``{"jti": {id: until}, "families": {id: until},
        "subjects": {sub: {"before": t, "until": t}}}`` with whole seconds, sorted."""

        ceil = math.ceil
        return {
            "jti": {k: ceil(v) for k, v in sorted(self.jti.items())},
            "families": {k: ceil(v) for k, v in sorted(self.families.items())},
            "subjects": {
                k: {"before": math.floor(b), "until": ceil(u)}
                for k, (b, u) in sorted(self.subjects.items())
            },
        }

    @classmethod
    def from_json(cls, data: object) -> Revocations:
        """Parse the wire form (strictly: unknown shapes are refused, not skipped).

        Raises:
            ValueError: ``data`` is not a revocation list.
        """
        if not isinstance(data, dict) or not set(_KINDS) <= set(data):
            raise ValueError("not a revocation list: jti, families and subjects are required")
        jti = _times(data["jti"], "jti")
        families = _times(data["families"], "families")
        raw = data["subjects"]
        if not isinstance(raw, dict):
            raise ValueError("subjects must be an object")
        subjects: dict[str, tuple[float, float]] = {}
        for name, entry in raw.items():
            if not isinstance(entry, dict):
                raise ValueError("each subject must be an object with before and until")
            times = _times({k: entry.get(k) for k in ("before", "until")}, "subjects")
            subjects[name] = (times["before"], times["until"])
        return cls(jti, families, subjects)


def _times(value: object, what: str) -> dict[str, float]:
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be an object")
    out: dict[str, float] = {}
    for key, when in value.items():
        if (
            not isinstance(key, str)
            or isinstance(when, bool)
            or not isinstance(when, int | float)
            or not math.isfinite(when)
        ):
            raise ValueError(f"{what}: every entry must map an id to a time")
        out[key] = float(when)
    return out
