"""Revocation (RFC 7009), introspection (RFC 7662) and the revocation list, over the service.

Like the rest of the service these are synchronous (store work); the routes run them in
the service's store threads. They describe and revoke what :class:`TokenService` issued.
"""

from __future__ import annotations

from typing import Any

from jwtkit._revocation import FAMILY_CLAIM
from jwtkit.server._accounts import ClientInfo
from jwtkit.server._revocations import username_of
from jwtkit.server._service import TokenService

__all__ = ["introspect", "revocation_list", "revoke"]


def revoke(svc: TokenService, token: str, client: ClientInfo, *, hint: str | None) -> None:
    """Revoke a refresh token (its whole family) or an access token (by ``jti``).

    Unknown, invalid or foreign tokens are ignored (RFC 7009 §2.2: the answer is 200
    either way, which also does not tell a client whether another client's token exists).
    """
    now = svc.clock()

    def revoke_refresh() -> bool:
        return svc.tokens.revoke(token, client_id=client.client_id, now=now)

    def revoke_access() -> bool:
        claims = svc.verify_access(token, now)
        if claims is None or claims.get("client_id") != client.client_id:
            return False
        jti, exp = claims.get("jti"), claims.get("exp")
        if not isinstance(jti, str) or not isinstance(exp, int | float):
            return False
        svc.tokens.deny(jti, float(exp))
        return True

    # RFC 7009 §2.1: the hint only orders the search.
    steps = (revoke_access, revoke_refresh)
    if hint != "access_token":
        steps = (revoke_refresh, revoke_access)
    for step in steps:
        if step():
            return


def introspect(svc: TokenService, token: str, client: ClientInfo) -> dict[str, Any]:
    """Return the RFC 7662 §2.2 answer; ``{"active": false}`` for anything not valid now.

    Access tokens are described to resource-server clients, and to the client they were
    issued to; anyone else learns nothing (RFC 7662 §4). A token is inactive at once
    when its jti, its family (session), its user or its client was revoked or disabled.
    """
    now = svc.clock()
    claims = svc.verify_access(token, now)
    if claims is not None:
        jti = claims.get("jti")
        if not isinstance(jti, str):
            return {"active": False}
        if not client.resource_server and claims.get("client_id") != client.client_id:
            return {"active": False}
        if svc.revocations.is_revoked(claims):
            return {"active": False}
        out = {"active": True, "token_type": "Bearer"}
        for name in ("scope", "client_id", "sub", "aud", "iss", "exp", "iat", "nbf", "jti"):
            if name in claims:
                out[name] = claims[name]
        if "roles" in claims:
            out["roles"] = claims["roles"]
        username = username_of(claims)
        if username is not None:
            out["username"] = username
        return out
    info = svc.tokens.inspect(token, now=now)
    # A refresh token is only described to the client it was issued to.
    if info is None or not info.active or info.client_id != client.client_id:
        return {"active": False}
    session = {
        "sub": info.username,
        "client_id": info.client_id,
        "iat": int(info.issued_at),
        FAMILY_CLAIM: info.family_id,
    }
    if svc.revocations.is_revoked(session):
        return {"active": False}
    out = {
        "active": True,
        "token_type": "refresh_token",
        "client_id": info.client_id,
        "username": info.username,
        "sub": info.username,
        "iss": svc.settings.base_url,
        "iat": int(info.issued_at),
        "exp": int(info.expires_at),
    }
    if info.scope:
        out["scope"] = " ".join(info.scope)
    return out


def revocation_list(svc: TokenService) -> tuple[bytes, str, float]:
    """Return the revocation list (JSON), its ETag and its age in seconds
    (``GET /revocations``)."""
    return svc.revocations.document(now=svc.clock())
