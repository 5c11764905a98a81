"""Consent: whether a user must allow a client what it asks, and the words for each scope.

Clients not marked first-party (``jwtkit client add|set --first-party``) get a consent page
before their first code: it lists the requested scopes in words, and the RFC 8707 resources
the tokens will be for. An allowed request is remembered per user and client (what was
allowed adds up); a later request within what was allowed gets its code at once, a wider one
asks again. ``prompt=consent`` always asks; ``prompt=none`` when consent is missing answers
``consent_required`` (OpenID Connect Core §3.1.2.6). Denying is not remembered: the next
request asks again. ``jwtkit user consents USER`` lists and withdraws the choices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from jwtkit._storage import ConsentRows
from jwtkit.server._authorize import AuthorizationRequest

if TYPE_CHECKING:
    from jwtkit.server._service import TokenService

__all__ = ["BUILTIN_SCOPES", "Consent", "ScopeLine"]

# The words of the scopes every OpenID provider knows (OpenID Connect Core §5.4, §11).
BUILTIN_SCOPES: Final = {
    "openid": "Know who you are: your user ID on this service",
    "profile": "See your name and username",
    "email": "See your email address and whether it is verified",
    "offline_access": "Stay connected: keep access while you are not using it",
    "roles": "See the roles you have on this service",
}


@dataclass(frozen=True)
class ScopeLine:
    """One line of the consent page: the scope and its words (None: only its name)."""

    scope: str
    text: str | None


class Consent:
    """The consent rules over one :class:`TokenService` (its store and its resources)."""

    def __init__(self, svc: TokenService) -> None:
        self.svc = svc
        self.rows = ConsentRows(svc.db)

    def needed(self, req: AuthorizationRequest, username: str) -> bool:
        """Say whether ``username`` must see the consent page for ``req``."""
        if req.client.first_party:
            return False
        if "consent" in req.prompt:
            return True
        given = self.rows.get(username, req.client.client_id)
        if given is None:
            return True
        covered = set(req.scope) <= set(given.scope)
        return not (covered and set(req.resources) <= set(given.resources))

    def remember(self, req: AuthorizationRequest, username: str) -> None:
        """Record that ``username`` allowed ``req``'s scopes and resources to its client."""
        self.rows.grant(
            username, req.client.client_id, req.scope, req.resources, now=self.svc.clock()
        )

    def lines(self, req: AuthorizationRequest) -> list[ScopeLine]:
        """Return the consent page's lines for the requested scopes, in request order.

        Built-in words first; then the description registered with a resource of the
        request (``jwtkit resource add ... --describe``), else with any resource.
        """
        registered = self.svc.resources.all()
        ours = [r for r in registered if r.uri in req.resources]
        others = [r for r in registered if r.uri not in req.resources]
        out: list[ScopeLine] = []
        for scope in req.scope:
            text = BUILTIN_SCOPES.get(scope)
            for info in (*ours, *others):
                if text is None:
                    text = info.descriptions.get(scope)
            out.append(ScopeLine(scope, text))
        return out
