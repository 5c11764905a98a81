"""Typed, validated settings of the token service, read once from the environment.

Every field has an environment variable ``JWTKIT_<FIELD NAME IN UPPER CASE>``; a bad value
fails with :class:`SettingsError` naming that variable (or the field, when built in code).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from jwtkit._storage import parse_store_url
from jwtkit.errors import KeyStoreError
from jwtkit.jwa import ASYMMETRIC_ALGORITHMS
from jwtkit.server._records import ID_TOKEN_ALGS

__all__ = ["Settings", "SettingsError"]

_ENV_PREFIX = "JWTKIT_"
_SIGNING_ALGS = ASYMMETRIC_ALGORITHMS
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_REDIS_SCHEMES = frozenset({"redis", "rediss", "unix"})


class SettingsError(ValueError):
    """A setting has an invalid value; ``key`` names the environment variable or field."""

    code = "invalid_setting"

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class Settings:
    """Configuration of one token-service instance.

    ``store`` holds both the keys (``jwtkit.keys``) and the service's own tables (users,
    clients, refresh tokens, denylist). ``audience`` defaults to the issuer. Lifetimes and
    windows are in seconds; ``refresh_family_lifetime`` ends a login session however often it
    is refreshed (``refresh_token_lifetime`` is the idle limit); ``revocation_list_cache`` is
    how long an instance reuses the revocation list it built. ``store_timeout`` bounds every
    store call of a request (waiting for a pooled connection, connecting, the statements);
    past it the request gets 503 ``temporarily_unavailable``. ``store_pool_size`` caps the
    connections of one instance; ``store_startup_timeout`` is how long start-up keeps retrying
    an unreachable store. The Argon2 cost parameters apply to newly hashed passwords and
    secrets; existing hashes keep verifying and are upgraded at the next successful login.
    ``id_token_lifetime`` (1 h) and ``authorization_code_lifetime`` (60 s) bound the ID tokens
    and codes; browser sessions last ``session_lifetime`` (8 h) at most and end after
    ``session_idle_timeout`` (1 h) unused. ``brand_*`` style the login page (name, title,
    a logo file, colours). ``signing_alg`` signs access tokens; ``id_token_signing_algs``
    (space-separated; RS256 must be among them, since OpenID Connect makes it the default of
    clients that do not choose) are the algorithms clients may choose for ID tokens. The key
    ring holds an active key for each. ``cors_cache_ttl`` is how long an instance reuses its
    answer to whether a browser origin is registered for a client (CORS).
    """

    store: str = "sqlite:///jwtkit.db"
    master_key: str | bytes | None = field(default=None, repr=False)
    issuer: str = "http://127.0.0.1:8000"
    audience: str | None = None
    access_token_lifetime: int = 900
    refresh_token_lifetime: int = 7 * 24 * 3600
    refresh_grace_seconds: int = 0
    refresh_family_lifetime: int = 30 * 24 * 3600
    revocation_list_cache: float = 1.0
    login_max_failures_per_user: int = 5
    login_max_failures_per_address: int = 20
    login_failure_window: int = 300
    maintain_interval: int = 60
    jwks_max_age: int = 300
    max_body_size: int = 64 * 1024
    cookie_name: str = "jwtkit_refresh"
    cookie_path: str = "/token"
    cookie_secure: bool = True
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536
    argon2_parallelism: int = 4
    forwarded_allow_ips: str | None = None
    signing_alg: str = "ES256"
    id_token_signing_algs: str = "RS256 ES256 EdDSA"  # noqa: S105 - algorithm names
    key_cache_ttl: int = 5
    key_rotation_period: int = 30 * 24 * 3600
    store_timeout: float = 2.0
    store_pool_size: int = 10
    store_startup_timeout: float = 30.0
    # Limits against guessing and load (issue 10; docs/server.md, "Limits").
    login_backoff_max: int = 900
    login_account_ceiling: int = 50
    login_account_period: int = 86400
    client_max_failures: int = 5
    client_max_failures_per_address: int = 20
    hash_workers: int = 0
    hash_queue: int = 16
    hash_priority: str = "idle"
    refusal_delay: float = 1.0
    header_timeout: float = 10.0
    body_timeout: float = 10.0
    max_connections: int = 1000
    redis_url: str | None = field(default=None, repr=False)
    redis_prefix: str = "jwtkit:"
    # OpenID Connect (issue 13; docs/oidc.md).
    id_token_lifetime: int = 3600
    authorization_code_lifetime: int = 60
    session_lifetime: int = 8 * 3600
    session_idle_timeout: int = 3600
    session_cookie_name: str = "jwtkit_session"
    brand_name: str = "jwtkit"
    brand_title: str = "Sign in"
    brand_logo: str | None = None
    brand_color: str = "#1a56db"
    brand_text_color: str = "#ffffff"
    brand_background: str = "#f4f6f8"
    # OpenID Connect part 2 (issue 14): how long an instance trusts its answer to "is this
    # browser origin registered?" (CORS).
    cors_cache_ttl: float = 5.0
    # Service performance (issue 18): worker processes (0: one per CPU on PostgreSQL, one on
    # SQLite), the access log, how long a stop waits for requests in flight, and how long an
    # instance reuses a client's record (a change made elsewhere shows within that time).
    workers: int = 0
    access_log: bool = True
    shutdown_timeout: float = 30.0
    client_cache_ttl: float = 5.0

    def __post_init__(self) -> None:
        """Check every field so that a bad configuration fails at start, not at first use."""
        _check_store(self.store, "store")
        _check_url(self.issuer, "issuer")
        if self.audience is not None and not self.audience.strip():
            raise SettingsError("audience", "must not be empty")
        minimums = {
            "access_token_lifetime": 1,
            "refresh_token_lifetime": 1,
            "refresh_grace_seconds": 0,
            "refresh_family_lifetime": 1,
            "login_max_failures_per_user": 1,
            "login_max_failures_per_address": 1,
            "login_failure_window": 1,
            "maintain_interval": 1,
            "jwks_max_age": 0,
            "max_body_size": 1024,
            "argon2_time_cost": 1,
            "argon2_memory_cost": 8,
            "argon2_parallelism": 1,
            "key_rotation_period": 60,
            "key_cache_ttl": 1,
            "store_pool_size": 1,
            "id_token_lifetime": 60,
            "authorization_code_lifetime": 1,
            "session_lifetime": 60,
            "session_idle_timeout": 60,
            "workers": 0,
        }
        _check_numbers(
            self,
            minimums,
            {
                "store_timeout": 0.05,
                "store_startup_timeout": 0.0,
                "revocation_list_cache": 0.0,
                "cors_cache_ttl": 0.0,
                "shutdown_timeout": 0.0,
                "client_cache_ttl": 0.0,
            },
        )
        if self.signing_alg not in _SIGNING_ALGS:
            raise SettingsError("signing_alg", "must be an asymmetric JWS algorithm, e.g. ES256")
        id_algs = self.id_token_algs
        if not id_algs or any(a not in ID_TOKEN_ALGS for a in id_algs) or "RS256" not in id_algs:
            # OpenID Connect Discovery 1.0 §3: RS256 MUST be among the ID token algorithms.
            raise SettingsError(
                "id_token_signing_algs",
                "must list RS*, PS*, ES* or EdDSA algorithms separated by spaces, including RS256",
            )
        if self.argon2_memory_cost < 8 * self.argon2_parallelism:
            raise SettingsError("argon2_memory_cost", "must be at least 8 * argon2_parallelism")
        for name in ("cookie_name", "session_cookie_name"):
            value = getattr(self, name)
            if not value or not all(c.isalnum() or c in "-_." for c in value):
                raise SettingsError(name, "must be a non-empty cookie token")
        _check_brand(self)
        if not self.cookie_path.startswith("/") or any(c in self.cookie_path for c in ";, \t"):
            raise SettingsError("cookie_path", "must be an absolute URL path")
        _check_limits(self)

    def worker_count(self) -> int:
        """Return how many worker processes serve: ``workers``, or by default one per CPU on
        PostgreSQL and one on SQLite.

        SQLite has one writer at a time for the whole file: several processes add no write
        throughput (refresh rotations, logins and limit counters queue on the file lock, and
        a write that waits longer than ``store_timeout`` becomes a 503), and the lock is only
        as good as the file system (not on network file systems). One process queues its
        writes in its own pool instead. ``workers`` may still be set on a local SQLite file.
        """
        if self.workers:
            return self.workers
        if parse_store_url(self.store).kind == "postgresql":
            return max(
                1,
                len(os.sched_getaffinity(0))
                if hasattr(os, "sched_getaffinity")
                else os.cpu_count() or 1,
            )
        return 1

    @property
    def id_token_algs(self) -> tuple[str, ...]:
        """Return the ID token algorithms clients may choose (RS256, always among them, is
        the default of clients that do not choose)."""
        text = self.id_token_signing_algs if isinstance(self.id_token_signing_algs, str) else ""
        return tuple(dict.fromkeys(text.replace(",", " ").split()))

    @property
    def signing_algs(self) -> tuple[str, ...]:
        """Return every algorithm the service signs with: access tokens first, then ID tokens.

        The key ring keeps one active key for each (``KeyManager`` ``signing_algs``).
        """
        return tuple(dict.fromkeys((self.signing_alg, *self.id_token_algs)))

    @property
    def token_audience(self) -> str:
        """Return the ``aud`` of issued access tokens (the audience, else the issuer)."""
        return self.audience if self.audience is not None else self.issuer

    @property
    def base_url(self) -> str:
        """Return the issuer without a trailing slash, the prefix of every endpoint URL."""
        return self.issuer.rstrip("/")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``JWTKIT_*`` variables (``os.environ`` unless ``env`` is given).

        Keyword ``overrides`` win over the environment (the CLI passes its options this way).

        Raises:
            SettingsError: a variable does not parse or is out of range; it is named.
        """
        source = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            var = _ENV_PREFIX + f.name.upper()
            raw = source.get(var)
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(var, f.default, raw)
        values.update(overrides)
        try:
            return cls(**values)
        except SettingsError as exc:
            # Name the environment variable when the value came from there.
            if exc.key in values and exc.key not in overrides:
                raise SettingsError(_ENV_PREFIX + exc.key.upper(), exc.problem) from None
            raise


def _check_numbers(s: Settings, integers: dict[str, int], seconds: dict[str, float]) -> None:
    """Check integer fields against their minimums and seconds fields against theirs."""
    for name, minimum in integers.items():
        value = getattr(s, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise SettingsError(name, f"must be an integer >= {minimum}")
    for name, low in seconds.items():
        value = getattr(s, name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= low:
            raise SettingsError(name, f"must be a number of seconds >= {low:g}")


def _check_limits(s: Settings) -> None:
    """Check the settings of the limits (issue 10)."""
    minimums = {
        "login_backoff_max": 1,
        "login_account_ceiling": 0,
        "login_account_period": 1,
        "client_max_failures": 1,
        "client_max_failures_per_address": 1,
        "hash_workers": 0,
        "hash_queue": 0,
        "max_connections": 1,
    }
    seconds = {"refusal_delay": 0.0, "header_timeout": 0.01, "body_timeout": 0.01}
    _check_numbers(s, minimums, seconds)
    if s.redis_url is not None and s.redis_url.split(":", 1)[0].lower() not in _REDIS_SCHEMES:
        raise SettingsError("redis_url", "must be a redis://, rediss:// or unix:// URL")
    if s.hash_priority not in ("idle", "low", "normal"):
        raise SettingsError("hash_priority", "must be idle, low or normal")
    if not s.redis_prefix or any(c.isspace() for c in s.redis_prefix):
        raise SettingsError("redis_prefix", "must be a non-empty key prefix without spaces")


def _parse(var: str, default: Any, raw: str) -> Any:
    """Convert one environment value to the type of the field's default."""
    if isinstance(default, bool):
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise SettingsError(var, "must be true or false")
    if isinstance(default, int):
        try:
            return int(raw.strip(), 10)
        except ValueError:
            raise SettingsError(var, "must be an integer") from None
    if isinstance(default, float):
        try:
            return float(raw.strip())
        except ValueError:
            raise SettingsError(var, "must be a number") from None
    return raw


def _check_brand(settings: Settings) -> None:
    """Brand colours go into a stylesheet: only #rgb / #rrggbb; texts are short and plain."""
    for name in ("brand_color", "brand_text_color", "brand_background"):
        value = getattr(settings, name)
        if (
            not isinstance(value, str)
            or len(value) not in (4, 7)
            or value[0] != "#"
            or not all(c in "0123456789abcdefABCDEF" for c in value[1:])
        ):
            raise SettingsError(name, "must be a hex colour such as #1a56db")
    for name in ("brand_name", "brand_title"):
        value = getattr(settings, name)
        if not isinstance(value, str) or not 0 < len(value) <= 100:
            raise SettingsError(name, "must be 1 to 100 characters")
    logo = settings.brand_logo
    if logo is not None and (
        not os.path.isfile(logo) or os.path.splitext(logo)[1].lower() not in _LOGO_TYPES
    ):
        raise SettingsError("brand_logo", "must be an existing .png, .svg, .jpg or .webp file")


_LOGO_TYPES = frozenset({".png", ".svg", ".jpg", ".jpeg", ".webp"})


def _check_store(url: str, key: str) -> None:
    """Accept only the store URLs jwtkit understands (the storage layer's one parser)."""
    try:
        parse_store_url(url)
    except (KeyStoreError, TypeError):
        raise SettingsError(
            key, "must be a sqlite:///PATH, postgresql:// or memory:// URL"
        ) from None


def _check_url(url: str, key: str) -> None:
    """Require an absolute http(s) URL without query or fragment (RFC 8414 §2 issuer)."""
    parts = urlsplit(url) if isinstance(url, str) else None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.netloc
        or parts.query
        or parts.fragment
    ):
        raise SettingsError(key, "must be an http(s) URL without query or fragment")
