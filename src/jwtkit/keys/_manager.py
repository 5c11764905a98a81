"""KeyManager: the public face of jwtkit.keys (lifecycle + store + envelope encryption).

Past 400 lines because ``KeyManager`` is the package's one public class and its docstrings are
the API reference; the logic lives in ``_lifecycle``, ``_rows``, ``_cache`` and ``_masterkey``.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Final

from jwtkit import Key, Signer, Verifier
from jwtkit._rules import DEFAULT_REQUIRE, Names, Seconds
from jwtkit._storage import DEFAULT_TIMEOUT, Database
from jwtkit.errors import (
    CorruptStoreError,
    InvalidKeyError,
    KeyStateError,
    KeyStoreError,
    MasterKeyError,
)
from jwtkit.jwt import VerifyRules

from . import _lifecycle as lc
from ._backup import read_backup, write_backup
from ._cache import KeyCache, KeyView, ManagerKeySource, ManagerSigningSource
from ._lifecycle import KeyRecord, RotationPolicy
from ._masterkey import MasterKey, MasterKeySpec, make_check, resolve_master_key
from ._rows import Change, KeyStore, StoredKey, StoreMeta
from ._vault import Vault, attach, parse_private

__all__ = ["KeyManager"]

log = logging.getLogger("jwtkit.keys")

Now = datetime | int | float | None
Step = Callable[[list[KeyRecord], lc.Fresh, tuple[str, ...]], list[KeyRecord]]
_DEFAULT_REFRESH: Final = 5.0


class KeyManager:
    """Signing keys kept encrypted in a store, rotated on a schedule, published as a JWKS.

    Open one with :meth:`open`. Every state change runs the pure lifecycle functions inside
    one store transaction, so several processes (or token-service instances on PostgreSQL)
    can share one ring. Signers and verifiers made here read keys from an in-process cache
    refreshed every ``refresh_interval`` seconds (and at once after this manager's own
    changes), so they follow rotations without a database round trip per token.

    Example::

        with KeyManager.open("sqlite:///keys.db", master_key=key) as km:
            signer = km.signer(issuer="https://id.example", audience="api")
            token = signer.sign({"sub": "alice"})
    """

    def __init__(
        self,
        store: KeyStore,
        master: MasterKey,
        meta: StoreMeta,
        policy: RotationPolicy,
        refresh_interval: float,
        *,
        required: tuple[str, ...] = (),
        default_alg: str | None = None,
    ) -> None:
        """Use :meth:`open`; this wires an already opened and checked store."""
        self._store = store
        self._vault = Vault(master, meta.store_id)
        self._policy = policy
        self._required = required
        self._default_alg = default_alg
        self._cache = KeyCache(self._load, refresh_interval)
        self._signing_sources: dict[str, ManagerSigningSource] = {}
        self._jwks_json: tuple[object, bytes] | None = None
        self._key_source = ManagerKeySource(self._cache)

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        url: str | Database,
        master_key: bytes | str | None = None,
        *,
        master_key_file: str | os.PathLike[str] | None = None,
        master_passphrase: str | bytes | None = None,
        policy: RotationPolicy | None = None,
        refresh_interval: float = _DEFAULT_REFRESH,
        timeout: float = DEFAULT_TIMEOUT,
        signing_algs: Collection[str] | None = None,
    ) -> KeyManager:
        """Open (creating if needed) the key store at ``url``.

        The ring keeps one active key (and a pending successor) per signing algorithm: the
        algorithms the store records, plus ``signing_algs`` and the given ``policy``'s
        ``alg``, which the manager adds to the store at its first change (a new store starts
        with them, or with the default policy's ES256).

        ``url`` is ``memory://``, ``sqlite:///relative.db`` / ``sqlite:////abs/path.db``, or
        a libpq ``postgresql://`` URL (or a store the caller already opened, which the
        manager then does not close: the token service shares one). ``timeout`` bounds each
        store call; running out of it raises ``StoreUnavailableError``. The master key is
        ``master_key`` (32 bytes or their
        base64url text), the contents of ``master_key_file``, a ``master_passphrase``
        (stretched with scrypt and the store's salt), or else ``JWTKIT_MASTER_KEY`` /
        ``JWTKIT_MASTER_KEY_FILE``. ``memory://`` needs none. Older schema versions are
        upgraded in place; nothing is written when opening fails. ``refresh_interval`` is how
        long signers and verifiers trust their cached keys (at most the policy's leeway).

        Raises:
            MasterKeyError: missing, malformed or wrong master key.
            SchemaVersionError: the store was written by a newer jwtkit.
            CorruptStoreError: the store is damaged or not a jwtkit store.
            StoreUnavailableError: the store did not answer within ``timeout``.
            KeyStoreError: the store cannot be reached or created.
            ValueError: ``refresh_interval`` is negative or longer than the policy's leeway.
        """
        required = _check_algs(signing_algs)
        default_alg = None
        if policy is not None:
            if not isinstance(policy, RotationPolicy):
                raise TypeError("policy must be a RotationPolicy")
            default_alg = policy.alg
            required = tuple(dict.fromkeys((policy.alg, *required)))
        policy = RotationPolicy() if policy is None else policy
        if not 0 <= refresh_interval <= policy.leeway.total_seconds():
            # Another instance may sign with a just-retired key until its cache refreshes;
            # the leeway after max_token_lifetime is what keeps those tokens verifiable.
            raise ValueError(
                "refresh_interval must be between 0 and the policy's leeway "
                f"({policy.leeway.total_seconds():g}s)"
            )
        if isinstance(url, Database):
            memory = url.label.startswith("memory:")
        elif isinstance(url, str):
            memory = url.startswith("memory:")
        else:
            raise TypeError("the store URL must be a str")
        spec = resolve_master_key(
            master_key, master_key_file, master_passphrase, required=not memory
        )
        if spec is None:
            spec = MasterKeySpec(key=MasterKey(secrets.token_bytes(32)))
        if isinstance(url, Database):
            store = KeyStore(url, owns=False)
        else:
            store = KeyStore(Database.open(url, timeout=timeout, migrate=False), owns=True)
        try:
            master, meta = attach(store, spec, required or (policy.alg,))
            return cls(
                store,
                master,
                meta,
                policy,
                refresh_interval,
                required=required,
                default_alg=default_alg,
            )
        except BaseException:
            store.close()
            raise

    # -- reading -------------------------------------------------------------------------------

    @property
    def policy(self) -> RotationPolicy:
        """The rotation policy this manager applies."""
        return self._policy

    def records(self) -> list[KeyRecord]:
        """Return every key's record (oldest first), read from the store now.

        Raises:
            KeyStoreError: the store cannot be read.
        """
        _, keys = self._store.read()
        return sorted((k.record for k in keys), key=lambda r: (r.created_at, r.kid))

    @property
    def signing_algs(self) -> tuple[str, ...]:
        """The signing algorithms, each with one active key: the store's plus this manager's."""
        return self._effective(self._cache.current().signing_algs)

    def _effective(self, stored: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*stored, *self._required))) or (self._policy.alg,)

    def _alg(self, alg: str | None) -> str:
        """Return ``alg``, else the policy's algorithm, else the store's first one."""
        if alg is None:
            return self._default_alg or self.signing_algs[0]
        if alg not in self.signing_algs:
            raise KeyStateError(
                f"{alg} is not a signing algorithm of this store "
                f"({', '.join(self.signing_algs)}); open it with signing_algs= including it"
            )
        return alg

    def active_key(self, alg: str | None = None, *, now: Now = None) -> KeyRecord:
        """Return the record of the key that signs ``alg`` now (from the cache).

        ``alg`` defaults to the policy's algorithm (else the store's first). On an empty
        store, or when a signing algorithm has no key yet, this creates an active key and a
        pending successor for every signing algorithm.

        Raises:
            KeyStateError: ``alg`` is not one of :attr:`signing_algs`.
        """
        alg = self._alg(alg)
        view = self._cache.current()
        algs = self._effective(view.signing_algs)
        if view.signing_algs != algs or any(a not in view.actives for a in algs):
            when = lc.normalize_now(now)
            view = self._transition(lambda ring, fresh, algs: lc.ensure(ring, when, fresh, algs))
        active = _active(view, alg)
        if active is None:  # pragma: no cover - ensure() always leaves an active key.
            raise KeyStateError(f"the key store has no active {alg} key")
        return active

    def fresh(self) -> bool:
        """Say whether the keys were loaded within ``refresh_interval`` (and the last load
        worked): signing and verifying then need no store access, so an event loop may do
        them without waiting for the database."""
        return self._cache.fresh()

    def jwks(self) -> dict[str, Any]:
        """Return the JWK Set (RFC 7517 §5) of public keys verifiers must trust now.

        It holds pending, active and not yet expired retired keys, never revoked ones, and
        never private members. Served from the cache like the verifier; a due cache reload
        runs in the background, so this never waits for the store once keys are loaded.
        """
        return self._jwks_of(self._cache.current(wait=False))

    def jwks_json(self) -> bytes:
        """Return :meth:`jwks` as canonical JSON bytes (sorted keys, no spaces).

        Built once per loaded key ring and reused until the ring changes, so serving the
        JWKS costs no key conversion or encoding per request (issue 18).
        """
        view = self._cache.current(wait=False)
        memo = self._jwks_json
        if memo is not None and memo[0] is view:
            return memo[1]
        body = json.dumps(self._jwks_of(view), sort_keys=True, separators=(",", ":")).encode()
        self._jwks_json = (view, body)
        return body

    @staticmethod
    def _jwks_of(view: KeyView) -> dict[str, Any]:
        document = view.keyset.to_jwks()
        for jwk in document["keys"]:
            jwk.setdefault("use", "sig")
        return document

    def signer(
        self,
        *,
        issuer: str | None = None,
        audience: str | Collection[str] | None = None,
        lifetime: Seconds | None = None,
        not_before: bool = False,
        jti: bool = True,
        typ: str | None = "JWT",
        headers: Mapping[str, Any] | None = None,
        alg: str | None = None,
    ) -> Signer:
        """Return a ``Signer`` that always signs with the current active key of ``alg``.

        ``alg`` defaults to the policy's algorithm (else the store's first). ``lifetime``
        defaults to the policy's ``max_token_lifetime`` and may not exceed it: retired keys
        are deleted after that window, and a longer-lived token would outlive its key.
        Creates the first keys on an empty store.

        Raises:
            ValueError: ``lifetime`` exceeds ``policy.max_token_lifetime``.
            KeyStateError: ``alg`` is not one of :attr:`signing_algs`.
        """
        limit = self._policy.max_token_lifetime.total_seconds()
        if lifetime is None:
            lifetime = int(limit)
        seconds = lifetime.total_seconds() if isinstance(lifetime, timedelta) else lifetime
        if seconds > limit:
            raise ValueError(
                f"lifetime {seconds:g}s exceeds the rotation policy's max_token_lifetime "
                f"({limit:g}s); raise RotationPolicy.max_token_lifetime"
            )
        alg = self.active_key(alg).alg
        source = self._signing_sources.setdefault(alg, ManagerSigningSource(self._cache, alg))
        return Signer(
            source,
            issuer=issuer,
            audience=audience,
            lifetime=lifetime,
            not_before=not_before,
            jti=jti,
            typ=typ,
            headers=headers,
        )

    def verifier(
        self,
        *,
        algorithms: Collection[str] | None = None,
        issuer: Names | None = None,
        audience: Names | None = None,
        subject: str | None = None,
        leeway: Seconds = 0,
        require: Collection[str] = DEFAULT_REQUIRE,
        max_age: Seconds | None = None,
        typ: str | None = None,
    ) -> Verifier:
        """Return a ``Verifier`` that accepts every key that may verify now.

        ``algorithms`` defaults to the signing algorithms plus the algorithms of the keys in
        the ring now; pass it explicitly when you plan to add a signing algorithm.
        """
        if algorithms is None:
            view = self._cache.current()
            algorithms = sorted(
                {*self._effective(view.signing_algs)}
                | {r.alg for r in view.records if r.state != lc.REVOKED}
            )
        rules = VerifyRules(
            algorithms=algorithms,
            issuer=issuer,
            audience=audience,
            subject=subject,
            leeway=leeway,
            require=require,
            max_age=max_age,
            typ=typ,
        )
        return Verifier.from_rules(self._key_source, rules)

    def refresh(self) -> None:
        """Reload the key cache from the store now (signers and verifiers see it at once).

        Raises:
            KeyStoreError: the store cannot be read.
        """
        self._cache.refresh()

    # -- changing ------------------------------------------------------------------------------

    def rotate(self, *, now: Now = None, force: bool = False, alg: str | None = None) -> KeyRecord:
        """For every signing algorithm (or only ``alg``): promote the oldest pending key,
        retire the active one, pre-publish a new pending key.

        Returns the new active key's record (of ``alg``, else of the default algorithm).
        Tokens signed by an old key keep verifying until ``retired_at + max_token_lifetime +
        leeway``. Each pending key must have been published for the policy's
        ``publication_delay``, so that verifiers caching the JWKS already know it;
        ``force=True`` rotates anyway (tokens signed by a new key are then refused by
        verifiers whose cached JWKS predates it, until they fetch it again).

        Raises:
            KeyStateError: a pending key is younger than ``publication_delay`` (not forced),
                or ``alg`` is not a signing algorithm.
        """
        when = lc.normalize_now(now)
        delay = None if force else self._policy.publication_delay
        chosen = self._alg(alg)

        def step(ring: list[KeyRecord], fresh: lc.Fresh, algs: tuple[str, ...]) -> list[KeyRecord]:
            return lc.rotate(
                ring, self._policy, when, fresh, publication_delay=delay, algs=algs, only=alg
            )

        view = self._transition(step)
        active = _active(view, chosen)
        if active is None:  # pragma: no cover - rotate() always leaves an active key.
            raise KeyStateError("rotation left no active key")
        return active

    def revoke(self, kid: str, *, now: Now = None) -> KeyRecord:
        """Revoke ``kid``: it stops verifying and leaves the JWKS at once in this process, and
        in every other process sharing the store within its ``refresh_interval``. Its private
        key is destroyed.

        Revoking the active key is an emergency rotation: the oldest pending key becomes
        active at once, whatever the publication delay (verifiers that cached the JWKS before
        that key was published refuse its tokens until they fetch the JWKS again).

        Raises:
            KeyStateError: no key has this kid.
        """
        when = lc.normalize_now(now)
        view = self._transition(lambda ring, fresh, algs: lc.revoke(ring, kid, when, fresh, algs))
        return next(r for r in view.records if r.kid == kid)

    def maintain(self, *, now: Now = None) -> list[KeyRecord]:
        """Advance the lifecycle by the clock; safe to call often, from several processes.

        Rotates when the active key is older than the rotation period and the pending key
        has been published for the publication delay; deletes retired keys whose tokens have
        all expired. Returns the records afterwards.
        """
        when = lc.normalize_now(now)
        view = self._transition(
            lambda ring, fresh, algs: lc.maintain(ring, self._policy, when, fresh, algs)
        )
        return list(view.records)

    def set_signing_algs(self, algs: Collection[str], *, now: Now = None) -> tuple[str, ...]:
        """Make ``algs`` the store's signing algorithms, each with an active key at once.

        A new algorithm's first key signs at once (nothing was signed with that algorithm
        before, so no verifier can hold a JWKS that lacks it for a token it expects); the
        active and pending keys of an algorithm left out are retired. Returns the algorithms.

        Raises:
            ValueError: ``algs`` is empty, names a non-signing algorithm, or leaves out an
                algorithm this manager was opened with.
        """
        wanted = _check_algs(algs)
        if not wanted:
            raise ValueError("give at least one signing algorithm")
        missing = [a for a in self._required if a not in wanted]
        if missing:
            raise ValueError(f"this manager signs with {', '.join(missing)}; keep it")
        when = lc.normalize_now(now)

        def step(ring: list[KeyRecord], fresh: lc.Fresh, algs: tuple[str, ...]) -> list[KeyRecord]:
            ring = lc.retire_others(ring, wanted, when)
            return lc.ensure(ring, when, fresh, wanted)

        self._transition(step, algs=wanted)
        return wanted

    def add_key(self, key: Key, *, now: Now = None) -> KeyRecord:
        """Add an existing private key to the ring as a pending key; returns its record.

        Use it to bring a key you already publish under jwtkit's management, or to choose
        the ``kid`` yourself: the key's own ``kid`` is kept, else its RFC 7638 thumbprint is
        used. The key needs an asymmetric ``alg``; it becomes active through a later
        ``rotate()`` or ``maintain()`` (the oldest pending key is promoted first).

        Raises:
            InvalidKeyError: a public key, or no asymmetric signing ``alg`` bound to it.
            KeyStateError: a key with this kid is already in the ring.
        """
        if not isinstance(key, Key):
            raise TypeError("add_key takes a jwtkit.Key")
        if not key.has_private or key.kty == "oct":
            raise InvalidKeyError("add_key needs an asymmetric private key")
        if key.alg is None or key.alg not in lc.SIGNING_ALGS:
            raise InvalidKeyError("add_key needs a key bound to an asymmetric signing alg")
        key = key.with_kid(key.kid or key.thumbprint())
        when = lc.normalize_now(now)
        kid, alg = key.kid or "", key.alg or ""
        record = KeyRecord(kid=kid, alg=alg, state=lc.PENDING, created_at=when)
        view = self._transition(lambda ring, fresh, algs: lc.add(ring, record, algs), extra=key)
        return next(r for r in view.records if r.kid == kid)

    def rewrap(
        self,
        new_master_key: bytes | str | None = None,
        *,
        new_passphrase: str | bytes | None = None,
    ) -> None:
        """Re-encrypt every key's data key under a new master key, in one transaction.

        Give ``new_master_key`` (32 bytes or base64url text) or ``new_passphrase``. Other
        processes holding the old master key get MasterKeyError until reopened.

        Raises:
            MasterKeyError: neither or both given, or the new key is malformed.
        """
        if (new_master_key is None) == (new_passphrase is None):
            raise MasterKeyError("give exactly one of new_master_key or new_passphrase")
        spec = resolve_master_key(new_master_key, None, new_passphrase, required=True)
        if spec is None:  # pragma: no cover - required=True never returns None.
            raise MasterKeyError("no new master key given")
        salt = None
        if spec.key is not None:
            new = spec.key
        else:
            salt = secrets.token_bytes(16)
            current, _ = self._store.read()
            new = MasterKey(current.kdf.derive(spec.passphrase or b"", salt))
        # The ring's MAC is keyed from the master key: the rewrap re-authenticates it.
        auth = self._store.auth.rekeyed(new) if self._store.auth is not None else None

        def update(meta: StoreMeta, keys: list[StoredKey]) -> Change:
            rows = [
                StoredKey(
                    k.record,
                    self._vault.master.rewrap(
                        k.sealed, new, store_id=meta.store_id, kid=k.record.kid
                    )
                    if k.sealed
                    else k.sealed,
                )
                for k in keys
            ]
            return Change(rows, check=make_check(new, store_id=meta.store_id), kdf_salt=salt)

        meta, keys = self._store.update(update, auth=auth)
        self._vault.master = new
        self._store.auth = auth
        self._install(meta, keys)

    # -- backups -------------------------------------------------------------------------------

    def export_backup(
        self, path: str | os.PathLike[str], passphrase: str | bytes, *, now: Now = None
    ) -> None:
        """Write every key (state, times, private JWK) to ``path``, encrypted under
        ``passphrase`` with scrypt + AES-256-GCM; atomic, mode 0600.

        Raises:
            ValueError: the passphrase is shorter than 8 characters.
            KeyStoreError: the store cannot be read or the file cannot be written.
        """
        _, keys = self._store.read()
        entries = [(k.record, json.loads(self._vault.open(k)) if k.sealed else None) for k in keys]
        write_backup(path, passphrase, entries, now=lc.normalize_now(now))

    @classmethod
    def import_backup(
        cls,
        path: str | os.PathLike[str],
        passphrase: str | bytes,
        *,
        into: str,
        master_key: bytes | str | None = None,
        master_key_file: str | os.PathLike[str] | None = None,
        master_passphrase: str | bytes | None = None,
        policy: RotationPolicy | None = None,
        refresh_interval: float = _DEFAULT_REFRESH,
    ) -> KeyManager:
        """Restore a backup made by :meth:`export_backup` into the empty store at ``into``.

        Keys keep their kids, states and times; they are re-encrypted under the target's
        master key. Returns the opened manager.

        Raises:
            MasterKeyError: wrong backup passphrase (or target master key problems).
            CorruptStoreError: the file is not a valid jwtkit backup.
            KeyStoreError: the target store already holds keys.
        """
        entries = read_backup(path, passphrase)
        lc.validate(rec for rec, _ in entries)
        materials: dict[str, Key] = {}
        for rec, jwk in entries:
            if jwk is None:
                if rec.state != lc.REVOKED:
                    raise CorruptStoreError(f"backup key {rec.kid!r} has no key material")
                continue
            key = parse_private(json.dumps(jwk), rec.kid)
            materials[rec.kid] = key
        manager = cls.open(
            into,
            master_key,
            master_key_file=master_key_file,
            master_passphrase=master_passphrase,
            policy=policy,
            refresh_interval=refresh_interval,
        )
        try:
            manager._restore(entries, materials)
        except BaseException:
            manager.close()
            raise
        return manager

    def _restore(
        self, entries: list[tuple[KeyRecord, dict[str, Any] | None]], materials: dict[str, Key]
    ) -> None:
        def update(meta: StoreMeta, keys: list[StoredKey]) -> Change:
            if keys:
                raise KeyStoreError(
                    f"the target store already holds {len(keys)} keys; restore into an empty store"
                )
            rows = []
            for rec, _ in entries:
                key = None if rec.state == lc.REVOKED else materials.get(rec.kid)
                sealed = b"" if key is None else self._vault.seal(key)
                rows.append(StoredKey(rec, sealed))
            return Change(rows)

        meta, keys = self._store.update(update)
        self._install(meta, keys)

    # -- lifetime ------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the store connection; signers and verifiers made here stop refreshing."""
        self._store.close()

    def __enter__(self) -> KeyManager:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"KeyManager({self._store.label!r}, signing_algs={self.signing_algs!r})"

    # -- internals -----------------------------------------------------------------------------

    def _transition(
        self, step: Step, extra: Key | None = None, algs: tuple[str, ...] | None = None
    ) -> KeyView:
        changes: list[tuple[str, str, str]] = []
        destroyed: list[str] = []

        def update(meta: StoreMeta, keys: list[StoredKey]) -> Change | None:
            changes.clear()
            destroyed.clear()
            sealed = {k.record.kid: k.sealed for k in keys}
            if extra is not None and extra.kid not in sealed:
                sealed[extra.kid or ""] = self._vault.seal(extra)
            before = [k.record for k in keys]
            wanted = self._effective(meta.signing_algs) if algs is None else algs
            after = step(before, self._vault.fresh_factory(self._policy, sealed), wanted)
            if after == before and wanted == meta.signing_algs:
                return None
            changes.extend(_diff(before, after))
            kept = {r.kid for r in after if r.state != lc.REVOKED}
            destroyed.extend(k.record.kid for k in keys if k.sealed and k.record.kid not in kept)
            if wanted != meta.signing_algs:
                old_algs = ",".join(meta.signing_algs) or "none"
                changes.append(("signing algorithms", old_algs, ",".join(wanted)))
            return Change(
                [StoredKey(r, b"" if r.state == lc.REVOKED else sealed[r.kid]) for r in after],
                signing_algs=wanted if wanted != meta.signing_algs else None,
            )

        meta, keys = self._store.update(update)
        for kid, old, new in changes:
            # An audit trail of the lifecycle: kids are public, nothing secret is logged.
            log.info("jwtkit.keys: key %s %s -> %s in %s", kid, old, new, self._store.label)
        if destroyed:
            self._wipe(destroyed)
        return self._install(meta, keys)

    def _wipe(self, kids: list[str]) -> None:
        """Leave no copy of destroyed private keys in SQLite's WAL (issue 12).

        ``secure_delete`` zeroed them in the database file; the checkpoint moves every page
        out of the WAL and truncates it. The change is committed already: a checkpoint that
        cannot finish now (another connection is reading) is logged, and SQLite's automatic
        checkpoints overwrite the WAL later.
        """
        try:
            done = self._store.db.checkpoint()
        except KeyStoreError as exc:
            done = False
            log.warning("jwtkit.keys: checkpoint after destroying keys failed: %s", exc)
        if not done:
            log.warning(
                "jwtkit.keys: the destroyed keys %s may remain in %s's WAL until its next "
                "checkpoint (another connection was reading)",
                ", ".join(kids),
                self._store.label,
            )

    def _load(self, prev: KeyView | None) -> KeyView:
        meta, keys = self._store.read()
        return self._vault.build_view(meta, keys, self._policy, prev)

    def _install(self, meta: StoreMeta, keys: list[StoredKey]) -> KeyView:
        view = self._vault.build_view(meta, keys, self._policy, self._cache.peek())
        self._cache.install(view)
        return view


def _diff(before: list[KeyRecord], after: list[KeyRecord]) -> list[tuple[str, str, str]]:
    old = {r.kid: r.state for r in before}
    new = {r.kid: r.state for r in after}
    out: list[tuple[str, str, str]] = [
        (kid, old.get(kid, "new"), state) for kid, state in new.items() if old.get(kid) != state
    ]
    out += [(kid, state, "removed") for kid, state in old.items() if kid not in new]
    return out


def _active(view: KeyView, alg: str) -> KeyRecord | None:
    return next((r for r in view.records if r.state == lc.ACTIVE and r.alg == alg), None)


def _check_algs(algs: Collection[str] | None) -> tuple[str, ...]:
    """Validate a collection of signing algorithms; return them in order, without repeats."""
    if algs is None:
        return ()
    if isinstance(algs, str):
        raise TypeError("signing_algs must be a collection of algorithm names, not a str")
    for alg in algs:
        if alg not in lc.SIGNING_ALGS:
            raise ValueError(f"{alg!r} is not an asymmetric signing algorithm")
    return tuple(dict.fromkeys(algs))
