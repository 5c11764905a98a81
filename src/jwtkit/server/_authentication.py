"""Client and user authentication of the token service, with its limits (issue 10).

Every check of a client secret or a user password goes through :class:`Authenticator`: the
token endpoint's client authentication and password grant, and the login page (STYLE.md §11),
so the same limits, the same early refusal and the same equal work hold for all of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from jwtkit.server._accounts import Accounts, ClientInfo, UserInfo
from jwtkit.server._errors import OAuthError, invalid_client, too_many_requests
from jwtkit.server._forms import ClientCredentials
from jwtkit.server._ratelimit import Limiter, TooManyAttemptsError

__all__ = ["Authenticator"]

logger = logging.getLogger("jwtkit.server")


class Authenticator:
    """Check client secrets and user passwords under the limiter's policies."""

    def __init__(self, accounts: Accounts, limiter: Limiter, clock: Callable[[], float]) -> None:
        self.accounts = accounts
        self.limiter = limiter
        self.clock = clock

    def needs_hashing(
        self,
        creds: ClientCredentials | None,
        form: Mapping[str, str] | None = None,
        *,
        address: str | None = None,
    ) -> bool:
        """Say whether serving the request may run Argon2 (then it goes to the hashing threads).

        Only password grants and secrets not verified before do: a remembered valid secret,
        a public client and a request without a secret never wait behind hashing. Runs on
        the event loop, without store access.

        Raises:
            OAuthError: the 429 the request would get, when the store refused the same
                (name, address) or address a moment ago and that refusal still holds.
        """
        now = self.clock()
        hashing = False
        if creds is not None and creds.secret is not None:
            if not self.accounts.maybe_remembered(creds.client_id, creds.secret):
                hashing = True
                if wait := self.limiter.refused("client", creds.client_id, address, now=now):
                    raise _client_limited(wait)
        if form is not None and form.get("grant_type") == "password":
            hashing = True
            username = form.get("username")
            if username is not None and (
                wait := self.limiter.refused("user", username, address, now=now)
            ):
                raise _login_limited(wait)
        return hashing

    def authenticate(
        self, creds: ClientCredentials | None, *, address: str | None = None
    ) -> ClientInfo:
        """Return the authenticated client.

        Failed secret checks are limited per (client id, address) and per address
        (:mod:`jwtkit.server._ratelimit`); a remembered valid secret is never limited, so an
        attacker cannot lock a machine client out.

        Raises:
            OAuthError: invalid_client (401) for missing, unknown, disabled or wrong
                credentials; 429 with ``Retry-After`` while the limit holds.
        """
        if creds is None:
            raise invalid_client(basic=False)
        attempt = None

        def limit() -> None:
            nonlocal attempt
            try:
                attempt = self.limiter.acquire("client", creds.client_id, address, now=self.clock())
            except TooManyAttemptsError as exc:
                raise _client_limited(exc.retry_after) from None

        client = self.accounts.authenticate_client(
            creds.client_id, creds.secret, before_check=limit
        )
        if client is None:
            raise invalid_client(basic=creds.basic)
        if attempt is not None:
            self.limiter.succeeded(attempt, now=self.clock())
        return client

    def login(
        self, username: str, password: str, *, address: str | None, client_id: str | None = None
    ) -> UserInfo:
        """Check a user's password: the one login call of the password grant and the login
        page (STYLE.md §11), so the same limits and equal work hold for both.

        It hashes: call it in ``TokenService.hashing``
        (``await svc.hashing.run(svc.authn.login, ...)``).

        Raises:
            OAuthError: 400 invalid_grant for a wrong username or password or a disabled
                user (one message for all); 429 invalid_grant with ``Retry-After`` while the
                limit holds, without checking the password.
        """
        try:
            attempt = self.limiter.acquire("user", username, address, now=self.clock())
        except TooManyAttemptsError as exc:
            raise _login_limited(exc.retry_after) from None
        user = self.accounts.authenticate_user(username, password)
        if user is None:
            # Neither the username (users mistype passwords into it) nor the password.
            logger.info("failed password login via client %s from %s", client_id, address)
            raise OAuthError("invalid_grant", "invalid username or password")
        self.limiter.succeeded(attempt, now=self.clock())
        return user


def _client_limited(retry_after: int) -> OAuthError:
    return too_many_requests(
        "invalid_client", "too many failed client authentications; retry later", retry_after
    )


def _login_limited(retry_after: int) -> OAuthError:
    return too_many_requests("invalid_grant", "too many failed logins; retry later", retry_after)
