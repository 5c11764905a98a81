"""The one storage layer: the only code in jwtkit that talks to a database driver.

Higher layers (``jwtkit.keys``, ``jwtkit.server``, ``jwtkit.cli``) open a :class:`Database`
from a store URL and use the small repository objects over it: :class:`KeyRows` (the key
ring), :class:`AccountRows` (users, clients), :class:`Families` (refresh tokens, denylist),
:class:`RevocationRows` (what is revoked, for introspection and the revocation list),
:class:`LimitRows` (failed-authentication counters; ``RedisLimits`` keeps them in Redis) and
:class:`Codes` / :class:`Sessions` (authorization codes, browser sessions),
:class:`ConsentRows` (users' consents to clients) and :class:`ResourceRows` (RFC 8707
resources).
URL parsing and redaction, file creation, connections, pooling, timeouts, error mapping, the
schema version and its migrations all live here (STYLE.md §10). Private: no API promise.
"""

from __future__ import annotations

from ._database import DEFAULT_POOL_SIZE, DEFAULT_TIMEOUT, Database, Tx
from ._migrations import MIGRATIONS, SCHEMA_VERSION, Migration
from ._url import StoreURL, parse_store_url, redact_url
from .accounts import AccountRows, ClientRow, UserRow
from .consents import ConsentRow, ConsentRows, ResourceRow, ResourceRows
from .families import Families, FamilyStart, Refused, Rotated, TokenRow
from .keyrows import KeyChange, KeyMeta, KeyRow, KeyRows
from .limits import Counter, LimitRows, LimitStore, limits_salt, open_limit_store
from .oidc import CodeGrant, CodeRow, Codes, SessionRow, Sessions
from .revocations import CutOff, RevocationRows, RevocationSnapshot, TokenRevocations

__all__ = [
    "DEFAULT_POOL_SIZE",
    "DEFAULT_TIMEOUT",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "AccountRows",
    "ClientRow",
    "CodeGrant",
    "CodeRow",
    "Codes",
    "ConsentRow",
    "ConsentRows",
    "Counter",
    "CutOff",
    "Database",
    "Families",
    "FamilyStart",
    "KeyChange",
    "KeyMeta",
    "KeyRow",
    "KeyRows",
    "LimitRows",
    "LimitStore",
    "Migration",
    "Refused",
    "ResourceRow",
    "ResourceRows",
    "RevocationRows",
    "RevocationSnapshot",
    "Rotated",
    "SessionRow",
    "Sessions",
    "StoreURL",
    "TokenRevocations",
    "TokenRow",
    "Tx",
    "UserRow",
    "limits_salt",
    "open_limit_store",
    "parse_store_url",
    "redact_url",
]
