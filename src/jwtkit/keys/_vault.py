"""The master key side of a KeyManager: attach to a store, seal and open key material.

:func:`attach` initializes a new store (store id, KDF salt, check value) or checks the master
key against an existing one, and upgrades older schemas. A :class:`Vault` seals new private
keys, opens stored ones (caching the parsed keys by ciphertext, so a cache refresh does not
re-parse unchanged keys) and builds the :class:`KeyView` that signers and verifiers use.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
import threading
import uuid
from datetime import datetime

from jwtkit import Key, KeySet
from jwtkit.errors import (
    CorruptStoreError,
    InvalidKeyError,
    KeyStoreError,
    MasterKeyError,
    UnsupportedAlgorithmError,
)

from . import _lifecycle as lc
from ._cache import KeyView
from ._integrity import RingAuth
from ._lifecycle import KeyRecord, RotationPolicy
from ._masterkey import MasterKey, MasterKeySpec, ScryptParams, make_check
from ._rows import SCHEMA_VERSION, Change, KeyStore, StoredKey, StoreMeta

__all__ = ["Vault", "attach", "parse_private"]

log = logging.getLogger("jwtkit.keys")


class Vault:
    """The master key of one store plus a cache of decrypted keys (by kid and ciphertext)."""

    def __init__(self, master: MasterKey, store_id: str) -> None:
        self.master = master
        self.store_id = store_id
        self._materials: dict[str, tuple[bytes, Key, Key]] = {}
        self._lock = threading.Lock()

    def seal(self, key: Key) -> bytes:
        """Encrypt ``key``'s private JWK for this store."""
        plaintext = json.dumps(key.to_jwk(private=True), sort_keys=True).encode()
        return self.master.seal(plaintext, store_id=self.store_id, kid=key.kid or "")

    def open(self, stored: StoredKey) -> bytes:
        """Decrypt a stored key's private JWK (JSON bytes)."""
        return self.master.open(stored.sealed, store_id=self.store_id, kid=stored.record.kid)

    def material(self, stored: StoredKey) -> tuple[Key, Key]:
        """Return the (private, public) keys of a stored key, parsed once per ciphertext."""
        kid = stored.record.kid
        with self._lock:
            cached = self._materials.get(kid)
        if cached is not None and cached[0] == stored.sealed:
            return cached[1], cached[2]
        plaintext = self.open(stored)
        key = parse_private(plaintext.decode(), kid, trusted=True)
        pair = (key, key.public())
        with self._lock:
            self._materials[kid] = (stored.sealed, *pair)
        return pair

    def fresh_factory(self, policy: RotationPolicy, sealed: dict[str, bytes]) -> lc.Fresh:
        """Return a factory of new pending keys that records each one's ciphertext."""

        def fresh(now: datetime, alg: str) -> KeyRecord:
            # The policy's key_size applies to RSA keys of the policy's own algorithm; other
            # RSA lineages (RS256 for ID tokens) get the default size.
            size = policy.key_size if alg == policy.alg else None
            try:
                key = Key.generate(alg, size=size)
            except (UnsupportedAlgorithmError, InvalidKeyError) as exc:
                raise KeyStoreError(f"cannot generate a {alg} key: {exc}") from exc
            key = key.with_kid(key.thumbprint())
            kid = key.kid or ""
            sealed[kid] = self.seal(key)
            with self._lock:
                self._materials[kid] = (sealed[kid], key, key.public())
            return KeyRecord(kid=kid, alg=alg, state=lc.PENDING, created_at=now)

        return fresh

    def build_view(
        self,
        meta: StoreMeta,
        keys: list[StoredKey],
        policy: RotationPolicy,
        prev: KeyView | None,
    ) -> KeyView:
        """Make the signing/verifying snapshot of ``keys``.

        The KeySet of ``prev`` is reused when the usable public keys are the same objects,
        because ``Verifier`` caches prepared keys by KeySet identity.
        """
        records = sorted((k.record for k in keys), key=lambda r: (r.created_at, r.kid))
        lc.validate(records)
        by_kid = {k.record.kid: k for k in keys}
        usable = lc.usable(records, policy, lc.normalize_now(None))
        pairs = {r.kid: self.material(by_kid[r.kid]) for r in usable}
        publics = [pairs[r.kid][1] for r in usable]
        if prev is not None and _same_keys(prev.keyset, publics):
            keyset = prev.keyset
        else:
            keyset = KeySet(publics)
        actives = {r.alg: pairs[r.kid][0] for r in usable if r.state == lc.ACTIVE}
        with self._lock:
            for kid in list(self._materials):
                if kid not in by_kid:
                    del self._materials[kid]
        return KeyView(meta.generation, tuple(records), actives, keyset, meta.signing_algs)


def _same_keys(keyset: KeySet, keys: list[Key]) -> bool:
    current = list(keyset)
    return len(current) == len(keys) and all(a is b for a, b in zip(current, keys, strict=True))


def parse_private(text: str, kid: str, *, trusted: bool = False) -> Key:
    """Parse a stored or backed-up private JWK and check it belongs to ``kid``.

    ``trusted``: the JWK was just decrypted from this store's authenticated envelope, so the
    slow RSA consistency check is skipped (a backup file is parsed with every check).

    Raises:
        CorruptStoreError: not a usable private key, or one with another kid.
    """
    try:
        key = Key._from_trusted_jwk(text) if trusted else Key.from_jwk(text)
    except (InvalidKeyError, UnsupportedAlgorithmError, ValueError) as exc:
        raise CorruptStoreError(f"key {kid!r} holds unusable key material") from exc
    if key.kid != kid or not key.has_private:
        raise CorruptStoreError(f"key {kid!r} holds key material for another key")
    return key


def attach(
    store: KeyStore, spec: MasterKeySpec, algs: tuple[str, ...] = ()
) -> tuple[MasterKey, StoreMeta]:
    """Initialize or check the store against the master key; migrate older schemas.

    A new ring records ``algs`` as its signing algorithms. An existing ring's master key is
    checked before anything is written, so a wrong key leaves an older store as it was. From
    here on the store verifies the ring's MAC on every read and change; a ring from before the
    MAC (version 1 check value) is authenticated as it is, now (issue 12).

    Raises:
        MasterKeyError: the master key does not open this store.
        SchemaVersionError: the store is newer than this jwtkit.
        CorruptStoreError: the ring fails its MAC.
    """
    version = store.schema_version()
    meta = store.load_meta() if version >= 1 else None
    if meta is None:
        if version < SCHEMA_VERSION:
            store.migrate()
            version = SCHEMA_VERSION
        salt, params = secrets.token_bytes(16), ScryptParams()
        store_id = uuid.uuid4().hex
        master = _derive(spec, salt, params)
        new = StoreMeta(
            store_id=store_id,
            kdf_salt=salt,
            kdf=params,
            check=make_check(master, store_id=store_id),
            signing_algs=algs,
        )
        # A new ring is authenticated from its first row on: generation 0, no keys.
        mac = RingAuth(master, store.label).tag(new.ring([]))
        meta = store.initialize(dataclasses.replace(new, mac=mac))
        if meta.kdf_salt != salt or meta.kdf != params:
            # Another process initialized the store first, with its own salt.
            master = _derive(spec, meta.kdf_salt, meta.kdf)
    else:
        master = _derive(spec, meta.kdf_salt, meta.kdf)
    if not master.check(meta.check, store_id=meta.store_id):
        raise MasterKeyError(
            f"{store.label}: the master key does not match this key store (wrong key or "
            "passphrase, or the store was rewrapped with a new one)"
        )
    if version < SCHEMA_VERSION:
        store.migrate()
    store.auth = RingAuth(master, store.label)
    if store.auth.is_legacy(meta.check, meta.store_id):
        _authenticate_legacy(store, master)
    meta, _ = store.read()
    return master, meta


def _authenticate_legacy(store: KeyStore, master: MasterKey) -> None:
    """Give a ring from before issue 12 its MAC and a version 2 check value, atomically."""

    def update(meta: StoreMeta, keys: list[StoredKey]) -> Change | None:
        if store.auth is None or not store.auth.is_legacy(meta.check, meta.store_id):
            return None  # another process migrated it meanwhile
        return Change(keys, check=make_check(master, store_id=meta.store_id))

    meta, _ = store.update(update, legacy=True)
    log.info(
        "jwtkit.keys: key ring in %s authenticated (generation %d)", store.label, meta.generation
    )


def _derive(spec: MasterKeySpec, salt: bytes, params: ScryptParams) -> MasterKey:
    if spec.key is not None:
        return spec.key
    return MasterKey(params.derive(spec.passphrase or b"", salt))
