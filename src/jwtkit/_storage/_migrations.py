"""The schema of every jwtkit table, as numbered, forward-only migrations.

One schema, one version (the ``schema_version`` row of ``jwtkit_meta``), for the key tables
and the token service's tables alike. An empty database runs every migration from the first;
an older store runs the ones it lacks, all in one transaction under the schema lock, so a
crash leaves the old version or the new one. To change the schema, append one
``Migration(N + 1, ...)`` to :data:`MIGRATIONS`; never edit a released one. DDL uses
``{blob}`` and ``{timestamp}`` for the two column types the dialects spell differently.

History: 1 and 2 are the key tables as ``jwtkit.keys`` created them before issue 9; the token
service kept its own tables then, versioned apart in ``jwtkit_server_meta``. 3 brings those
under this version. 4 records the ring's signing algorithms (issue 13); 5 adds what
revocation needs (issue 11); 6 the clients' browser origins (issue 12); 7 the shared
failed-authentication counters (issue 10); 8 what OpenID Connect needs (issue 13); 9 its
second part: consents, resource indicators, post-logout redirect URIs (issue 14).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from jwtkit.errors import CorruptStoreError, SchemaVersionError

if TYPE_CHECKING:
    from ._database import Tx

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Migration", "migrate", "read_version"]


@dataclass(frozen=True)
class Migration:
    """One schema step: from ``version - 1`` to ``version``."""

    version: int
    summary: str
    apply: Callable[[Tx], None]


def _v1_key_ring(tx: Tx) -> None:
    tx.ddl("CREATE TABLE jwtkit_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
    tx.ddl(
        "CREATE TABLE jwtkit_keys ("
        " kid TEXT PRIMARY KEY, alg TEXT NOT NULL, state TEXT NOT NULL,"
        " created_at {timestamp} NOT NULL, activated_at {timestamp}, retired_at {timestamp},"
        " sealed {blob} NOT NULL)"
    )


def _v2_revocation_time_and_generation(tx: Tx) -> None:
    tx.ddl("ALTER TABLE jwtkit_keys ADD COLUMN revoked_at {timestamp}")
    tx.execute(
        "INSERT INTO jwtkit_meta (name, value) VALUES ('generation', '0')"
        " ON CONFLICT (name) DO NOTHING"
    )


# The service tables exactly as jwtkit.server created them (IF NOT EXISTS keeps theirs).
_SERVICE_TABLES: Final = (
    """CREATE TABLE IF NOT EXISTS jwtkit_users (
        username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, roles TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0, created_at DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS jwtkit_clients (
        client_id TEXT PRIMARY KEY, secret_hash TEXT, scopes TEXT NOT NULL,
        grants TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0,
        created_at DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS jwtkit_refresh_families (
        family_id TEXT PRIMARY KEY, client_id TEXT NOT NULL, username TEXT NOT NULL,
        scope TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL,
        revoked_at DOUBLE PRECISION, revoke_reason TEXT)""",
    """CREATE TABLE IF NOT EXISTS jwtkit_refresh_tokens (
        token_hash TEXT PRIMARY KEY, family_id TEXT NOT NULL, parent_hash TEXT,
        issued_at DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION NOT NULL,
        used_at DOUBLE PRECISION, replaced_by TEXT)""",
    """CREATE INDEX IF NOT EXISTS jwtkit_refresh_tokens_family
        ON jwtkit_refresh_tokens (family_id)""",
    """CREATE TABLE IF NOT EXISTS jwtkit_denylist (
        jti TEXT PRIMARY KEY, expires_at DOUBLE PRECISION NOT NULL)""",
)


def _v3_one_schema(tx: Tx) -> None:
    for statement in _SERVICE_TABLES:
        tx.ddl(statement)
    if "jwtkit_server_meta" in tx.dialect.tables(tx.execute):
        row = tx.one("SELECT value FROM jwtkit_server_meta WHERE name = 'schema_version'")
        if row is not None and str(row[0]).isdigit() and int(row[0]) > 1:
            raise SchemaVersionError(
                f"{tx.dialect.label}: the service tables have schema version {row[0]}; "
                "this jwtkit understands up to 1: upgrade jwtkit"
            )
        tx.execute("DROP TABLE jwtkit_server_meta")


def _v4_signing_algs(tx: Tx) -> None:
    """Record the ring's signing algorithms: one active key per algorithm from now on.

    A ring from before kept one lineage; its algorithm is the active key's (else the newest
    usable key's). Stores without keys get the row when their ring is initialized.
    """
    rows = tx.execute("SELECT alg, state FROM jwtkit_keys ORDER BY created_at, kid")
    active = [str(alg) for alg, state in rows if state == "active"]
    usable = [str(alg) for alg, state in rows if state in ("pending", "retired")]
    algs = list(dict.fromkeys(active)) or usable[-1:]
    if algs:
        tx.execute(
            "INSERT INTO jwtkit_meta (name, value) VALUES ('signing_algs', ?)"
            " ON CONFLICT (name) DO NOTHING",
            (json.dumps(algs),),
        )


_V5_STATEMENTS: Final = (
    # When the subject's tokens were last cut off (disable, enable, logout, password change).
    "ALTER TABLE jwtkit_users ADD COLUMN revoked_at DOUBLE PRECISION",
    "ALTER TABLE jwtkit_users ADD COLUMN name TEXT",
    "ALTER TABLE jwtkit_users ADD COLUMN email TEXT",
    "ALTER TABLE jwtkit_clients ADD COLUMN revoked_at DOUBLE PRECISION",
    "ALTER TABLE jwtkit_clients ADD COLUMN resource_server INTEGER NOT NULL DEFAULT 0",
    # The secret replaced by the last rotation, accepted until old_secret_until.
    "ALTER TABLE jwtkit_clients ADD COLUMN old_secret_hash TEXT",
    "ALTER TABLE jwtkit_clients ADD COLUMN old_secret_until DOUBLE PRECISION",
    # The latest exp of an access token issued under the family.
    "ALTER TABLE jwtkit_refresh_families ADD COLUMN access_until DOUBLE PRECISION",
    # The successor sealed under a key derived from this token, for the one grace retry.
    "ALTER TABLE jwtkit_refresh_tokens ADD COLUMN successor_sealed TEXT",
    "ALTER TABLE jwtkit_refresh_tokens ADD COLUMN retried_at DOUBLE PRECISION",
    "CREATE INDEX jwtkit_refresh_families_user ON jwtkit_refresh_families (username)",
    "CREATE INDEX jwtkit_refresh_families_client ON jwtkit_refresh_families (client_id)",
    "CREATE INDEX jwtkit_refresh_families_revoked ON jwtkit_refresh_families (access_until)"
    " WHERE revoked_at IS NOT NULL",
    "CREATE INDEX jwtkit_denylist_expiry ON jwtkit_denylist (expires_at)",
    "CREATE INDEX jwtkit_users_revoked ON jwtkit_users (revoked_at)",
    "CREATE INDEX jwtkit_clients_revoked ON jwtkit_clients (revoked_at)",
)


def _v5_revocation(tx: Tx) -> None:
    for statement in _V5_STATEMENTS:
        tx.ddl(statement)
    # Introspection details now need the resource-server flag; every confidential client
    # had them before, so the upgrade grants it to them and no running check breaks.
    tx.execute("UPDATE jwtkit_clients SET resource_server = 1 WHERE secret_hash IS NOT NULL")
    # A subject disabled before the upgrade is cut off from now on.
    now = time.time()
    for table in ("jwtkit_users", "jwtkit_clients"):
        tx.execute(f"UPDATE {table} SET revoked_at = ? WHERE disabled <> 0", (now,))  # noqa: S608


def _v6_client_origins(tx: Tx) -> None:
    # Issue 12: the browser origins (JSON list) allowed to use a client's refresh cookie.
    tx.ddl("ALTER TABLE jwtkit_clients ADD COLUMN origins TEXT NOT NULL DEFAULT '[]'")


def _v7_limit_counters(tx: Tx) -> None:
    # Failed-authentication counters shared by every instance (issue 10). Keys are salted
    # SHA-256 digests (fixed length whatever the username), never raw names or addresses.
    # Idempotent, like the others, so a store rewound to an older version migrates again.
    tx.ddl(
        "CREATE TABLE IF NOT EXISTS jwtkit_limits (limit_key TEXT PRIMARY KEY,"
        " hits INTEGER NOT NULL, until_at DOUBLE PRECISION NOT NULL,"
        " expires_at DOUBLE PRECISION NOT NULL)"
    )
    tx.ddl("CREATE INDEX IF NOT EXISTS jwtkit_limits_expiry ON jwtkit_limits (expires_at)")
    tx.execute(
        "INSERT INTO jwtkit_meta (name, value) VALUES ('limits_salt', ?)"
        " ON CONFLICT (name) DO NOTHING",
        (secrets.token_hex(32),),
    )


# Before issue 13 an empty grant list meant "every grant the client type allows".
_LEGACY_GRANTS: Final = {
    True: ["password", "refresh_token"],  # public clients
    False: ["password", "client_credentials", "refresh_token"],
}

_V8_STATEMENTS: Final = (
    # Exact-match redirect URIs (JSON list), a trusted app of the deployment, the client's
    # id_token_signed_response_alg (NULL: the default, RS256).
    "ALTER TABLE jwtkit_clients ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE jwtkit_clients ADD COLUMN first_party INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE jwtkit_clients ADD COLUMN id_token_alg TEXT",
    "ALTER TABLE jwtkit_users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0",
    # The browser session (OIDC sid) a family was issued under; issue 14 revokes by it.
    "ALTER TABLE jwtkit_refresh_families ADD COLUMN sid TEXT",
    "CREATE INDEX IF NOT EXISTS jwtkit_refresh_families_sid ON jwtkit_refresh_families (sid)",
    # Codes and sessions are stored as the SHA-256 of their secret only.
    "CREATE TABLE IF NOT EXISTS jwtkit_auth_codes ("
    " code_hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, username TEXT NOT NULL,"
    " redirect_uri TEXT NOT NULL, scope TEXT NOT NULL, nonce TEXT,"
    " code_challenge TEXT NOT NULL, sid TEXT NOT NULL, auth_time DOUBLE PRECISION NOT NULL,"
    " created_at DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION NOT NULL,"
    " used_at DOUBLE PRECISION, family_id TEXT, claims TEXT NOT NULL DEFAULT '{{}}')",
    "CREATE INDEX IF NOT EXISTS jwtkit_auth_codes_expiry ON jwtkit_auth_codes (expires_at)",
    "CREATE TABLE IF NOT EXISTS jwtkit_sessions ("
    " token_hash TEXT PRIMARY KEY, sid TEXT NOT NULL UNIQUE, username TEXT NOT NULL,"
    " auth_time DOUBLE PRECISION NOT NULL, created_at DOUBLE PRECISION NOT NULL,"
    " last_seen DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION NOT NULL)",
    "CREATE INDEX IF NOT EXISTS jwtkit_sessions_username ON jwtkit_sessions (username)",
)


def _v8_openid_connect(tx: Tx) -> None:
    """OpenID Connect (issue 13): client and user fields, codes, browser sessions.

    Each existing client's effective grants are written out, because an empty list no
    longer means "all of them" (new clients default to the code flow).
    """
    for statement in _V8_STATEMENTS:
        tx.ddl(statement)
    for client_id, secret_hash, grants in tx.execute(
        "SELECT client_id, secret_hash, grants FROM jwtkit_clients"
    ):
        if not json.loads(grants):
            tx.execute(
                "UPDATE jwtkit_clients SET grants = ? WHERE client_id = ?",
                (json.dumps(_LEGACY_GRANTS[secret_hash is None]), client_id),
            )


_V9_STATEMENTS: Final = (
    # RP-Initiated Logout 1.0: where a client may send the browser after logout (JSON list).
    "ALTER TABLE jwtkit_clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]'",
    # RFC 8707: the resources (access token audiences) a login session was granted.
    "ALTER TABLE jwtkit_refresh_families ADD COLUMN resources TEXT NOT NULL DEFAULT '[]'",
    # A user's consent to a client: the scopes and resources granted (space-separated, JSON).
    "CREATE TABLE IF NOT EXISTS jwtkit_consents ("
    " username TEXT NOT NULL, client_id TEXT NOT NULL, scope TEXT NOT NULL,"
    " resources TEXT NOT NULL, granted_at DOUBLE PRECISION NOT NULL,"
    " PRIMARY KEY (username, client_id))",
    # The registered resources: an absolute URI, its scopes with their descriptions (JSON).
    "CREATE TABLE IF NOT EXISTS jwtkit_resources ("
    " uri TEXT PRIMARY KEY, scopes TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL)",
)


def _v9_openid_connect_part_2(tx: Tx) -> None:
    """OpenID Connect part 2 (issue 14): post-logout redirect URIs, the families' resources,
    consents and registered resources. Existing clients and sessions get none of either."""
    for statement in _V9_STATEMENTS:
        tx.ddl(statement)


MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(1, "key ring: meta and key tables", _v1_key_ring),
    Migration(2, "keys: revoked_at and the generation counter", _v2_revocation_time_and_generation),
    Migration(3, "the token service's tables join the one schema version", _v3_one_schema),
    Migration(4, "keys: the signing algorithms, one active key each", _v4_signing_algs),
    Migration(5, "revocation: cut-off times, resource servers, secret overlap", _v5_revocation),
    Migration(6, "clients: registered browser origins", _v6_client_origins),
    Migration(7, "shared failed-authentication counters", _v7_limit_counters),
    Migration(8, "OpenID Connect: client and user fields, codes, sessions", _v8_openid_connect),
    Migration(9, "OpenID Connect: consents, resources, logout URIs", _v9_openid_connect_part_2),
)
SCHEMA_VERSION: Final = MIGRATIONS[-1].version
assert all(m.version == i for i, m in enumerate(MIGRATIONS, 1))  # noqa: S101 - table shape


def read_version(tx: Tx) -> int:
    """Return the schema version of the store (0: no jwtkit tables yet).

    Raises:
        SchemaVersionError: written by a newer jwtkit.
        CorruptStoreError: the version row is missing or damaged, or the meta table is gone.
    """
    tables = tx.dialect.tables(tx.execute)
    if "jwtkit_meta" not in tables:
        if "jwtkit_keys" in tables:
            raise CorruptStoreError(f"{tx.dialect.label}: a jwtkit table is missing (jwtkit_meta)")
        return 0
    row = tx.one("SELECT value FROM jwtkit_meta WHERE name = 'schema_version'")
    if row is None or not str(row[0]).isdigit():
        raise CorruptStoreError(f"{tx.dialect.label}: the schema version is missing or damaged")
    version = int(row[0])
    if version < 1:
        raise SchemaVersionError(f"{tx.dialect.label}: no upgrade path from schema version 0")
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{tx.dialect.label}: written by a newer jwtkit (schema version {version}; this "
            f"jwtkit understands up to {SCHEMA_VERSION}); upgrade jwtkit"
        )
    return version


def migrate(tx: Tx) -> None:
    """Apply the migrations the store lacks (the caller holds a write transaction)."""
    tx.dialect.lock_schema(tx.execute)
    version = read_version(tx)
    for step in MIGRATIONS[version:]:
        step.apply(tx)
        tx.execute(
            "INSERT INTO jwtkit_meta (name, value) VALUES ('schema_version', ?)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (str(step.version),),
        )
