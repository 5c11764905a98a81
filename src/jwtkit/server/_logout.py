"""RP-Initiated Logout 1.0: the ``end_session_endpoint`` request, validated, and its rules.

The request (GET query or POST form) may carry ``id_token_hint``, ``client_id``,
``post_logout_redirect_uri`` and ``state`` (``logout_hint`` and ``ui_locales`` are accepted and
ignored). A ``post_logout_redirect_uri`` must be registered for the client exactly
(``jwtkit client add|set --post-logout-redirect-uri``), and the client must be named by
``client_id`` or by the hint; otherwise an error page, never a redirect (§3).

The session ends at once only when the request proves it comes from an application of this
very session: an ID token this service signed (expired ones too, §2, within a session
lifetime) whose ``sid`` is the browser's session, or a browser without any session (nothing
to lose). Otherwise the user confirms on a page first, so that a link or an image cannot log
people out. Ending a session deletes it and revokes every refresh family issued under its
``sid``, with their access tokens (``Sessions.end``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from jwtkit._storage import SessionRow
from jwtkit.server._records import ClientInfo

__all__ = ["LogoutError", "LogoutRequest", "parse_logout"]

_PARAMS = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state", "logout_hint")
_MAX_VALUE = 8192


class LogoutError(Exception):
    """A logout request that cannot be trusted to redirect: shown on an error page."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class LogoutRequest:
    """A validated logout request. ``hint`` holds the claims of a valid ``id_token_hint``;
    ``redirect_uri`` the registered ``post_logout_redirect_uri``; ``query`` the request, to
    carry it through the confirmation form (validated again when it comes back)."""

    client: ClientInfo | None
    redirect_uri: str | None
    state: str | None
    hint: Mapping[str, Any] | None = field(repr=False)
    query: str = field(repr=False)

    @property
    def hint_sid(self) -> str | None:
        """Return the browser session the hint's ID token was issued under."""
        sid = self.hint.get("sid") if self.hint is not None else None
        return sid if isinstance(sid, str) else None

    def ends_at_once(self, session: SessionRow | None) -> bool:
        """Say whether logout needs no confirmation: the hint names the browser's own
        session, or the browser has none (§2: a link alone must not log anyone out)."""
        if session is None:
            return True
        return self.hint_sid is not None and self.hint_sid == session.sid

    def sids(self, session: SessionRow | None) -> list[str]:
        """Return the sessions that logging out ends: the browser's and the hint's."""
        found = [session.sid] if session is not None else []
        if self.hint_sid is not None and self.hint_sid not in found:
            found.append(self.hint_sid)
        return found


def parse_logout(
    params: Mapping[str, str],
    lookup: Callable[[str], ClientInfo | None],
    verify_hint: Callable[[str], Mapping[str, Any] | None],
) -> LogoutRequest:
    """Validate a logout request's parameters (repeats were refused by the caller).

    ``verify_hint(id_token)`` returns the claims of an ID token this service signed, or None
    (an invalid hint counts as none: the user is asked).

    Raises:
        LogoutError: an unknown or disabled client, a client_id that is not the hint's, or a
            post_logout_redirect_uri that is not registered for the client.
    """
    if any(len(params.get(name, "")) > _MAX_VALUE for name in _PARAMS):
        raise LogoutError("The sign-out request is too long.")
    raw_hint = params.get("id_token_hint")
    hint = verify_hint(raw_hint) if raw_hint else None
    client_id = params.get("client_id")
    hinted = _hint_client(hint)
    if client_id is not None and hinted is not None and client_id != hinted:
        raise LogoutError("The sign-out request names two different applications.")
    client_id = client_id or hinted
    client = lookup(client_id) if client_id is not None else None
    if client_id is not None and (client is None or client.disabled):
        raise LogoutError("The application that sent you here is not registered.")
    redirect_uri = params.get("post_logout_redirect_uri")
    if redirect_uri is not None:
        if client is None:
            raise LogoutError(
                "The sign-out request names no application (client_id or id_token_hint)."
            )
        # Exact string comparison, as for redirect URIs (§3).
        if redirect_uri not in client.post_logout_redirect_uris:
            raise LogoutError("The application's post_logout_redirect_uri is not registered.")
    kept = {name: params[name] for name in _PARAMS if name in params}
    return LogoutRequest(client, redirect_uri, params.get("state"), hint, urlencode(kept))


def _hint_client(hint: Mapping[str, Any] | None) -> str | None:
    """Return the client an ID token was issued to (``azp``, else a single ``aud``)."""
    if hint is None:
        return None
    azp, aud = hint.get("azp"), hint.get("aud")
    if isinstance(azp, str):
        return azp
    if isinstance(aud, str):
        return aud
    if isinstance(aud, list) and len(aud) == 1 and isinstance(aud[0], str):
        return aud[0]
    return None
