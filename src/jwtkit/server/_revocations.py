"""The service's revocation state: checked by introspection, published as a list.

Introspection asks the store about one token at each call, so a revocation is honoured there
the moment it is committed. Resource servers that verify locally poll the revocation list
(``GET /revocations``) instead; both apply the same rule (``jwtkit._revocation``).
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Mapping
from typing import Any

from jwtkit._revocation import CLIENT_PREFIX, FAMILY_CLAIM, Revocations, client_subject
from jwtkit._storage import CutOff, Database, RevocationRows

__all__ = ["RevocationState", "username_of"]


def username_of(claims: Mapping[str, Any]) -> str | None:
    """Return the username a token was issued to, or None for a client's own token."""
    sub = claims.get("sub")
    if not isinstance(sub, str) or sub.startswith(CLIENT_PREFIX):
        return None
    return sub


class RevocationState:
    """Revocations read from one store; ``horizon`` is the longest access-token lifetime."""

    def __init__(self, db: Database, *, horizon: float, list_cache: float = 0.0) -> None:
        self._rows = RevocationRows(db)
        self._horizon = float(horizon)
        self._list_cache = float(list_cache)
        self._cached: tuple[float, bytes, str] | None = None
        self._lock = threading.Lock()

    def is_revoked(self, claims: Mapping[str, Any]) -> bool:
        """Say whether the store revokes a verified token now (one read transaction)."""
        client = claims.get("client_id")
        fid = claims.get(FAMILY_CLAIM)
        jti = claims.get("jti")
        found = self._rows.lookup(
            jti=jti if isinstance(jti, str) else None,
            family_id=fid if isinstance(fid, str) else None,
            username=username_of(claims),
            client_id=client if isinstance(client, str) else None,
        )
        subjects = {}
        if found.user is not None:
            subjects[found.user.name] = self._entry(found.user, live=True)
        if found.client is not None:
            subjects[client_subject(found.client.name)] = self._entry(found.client, live=True)
        revocations = Revocations(
            {jti: found.jti_until} if isinstance(jti, str) and found.jti_until else {},
            {fid: found.family_until}
            if isinstance(fid, str) and found.family_until is not None
            else {},
            subjects,
        )
        return revocations.revoked(claims)

    def current(self, *, now: float) -> Revocations:
        """Return every revocation that still matters at ``now``."""
        snap = self._rows.snapshot(now=now, horizon=self._horizon)
        subjects = {c.name: self._entry(c, live=False) for c in snap.users}
        subjects.update({client_subject(c.name): self._entry(c, live=False) for c in snap.clients})
        return Revocations(dict(snap.jtis), dict(snap.families), subjects)

    def document(self, *, now: float) -> tuple[bytes, str, float]:
        """Return the revocation list's JSON body, its strong ETag and its age (seconds).

        The body depends only on the store's state and the time rounded to entries
        expiring, so every instance on one store serves the same bytes and ETag. With a
        ``list_cache`` of N seconds an instance builds it at most once per N seconds (one
        build at a time), however many resource servers poll.
        """
        cached = self._cached
        if cached is not None and 0 <= now - cached[0] < self._list_cache:
            return cached[1], cached[2], now - cached[0]
        with self._lock:
            cached = self._cached
            if cached is not None and 0 <= now - cached[0] < self._list_cache:
                return cached[1], cached[2], now - cached[0]
            body, etag = self._build(now)
            self._cached = (now, body, etag)
            return body, etag, 0.0

    def _build(self, now: float) -> tuple[bytes, str]:
        body = json.dumps(
            self.current(now=now).to_json(), sort_keys=True, separators=(",", ":")
        ).encode()
        return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'

    def _entry(self, cut: CutOff, *, live: bool) -> tuple[float, float]:
        """Return (before, until) for a cut-off subject.

        Tokens issued (``iat``, whole seconds) before the second of the cut-off are revoked;
        the family claim covers the ones issued within that second before it. A disabled
        subject loses every token: in a live lookup outright, in the list until every
        token issued before it was disabled has expired (none are issued while disabled).
        """
        until = math.ceil(cut.revoked_at + self._horizon)
        if cut.disabled:
            return (math.inf if live else float(until), float(until))
        return (float(math.floor(cut.revoked_at)), float(until))
