"""Portable, passphrase-encrypted backup files of a whole key ring.

The file is JSON::

    {"format": "jwtkit-key-backup", "version": 1,
     "kdf": {"alg": "scrypt", "salt": B64, "n": N, "r": R, "p": P},
     "nonce": B64, "ciphertext": B64}

``ciphertext`` is AES-256-GCM under scrypt(passphrase, salt) with the header (format, version,
kdf) as associated data; the plaintext lists every key with its state, times and private JWK
(None for revoked keys, whose material is destroyed). Nothing in it depends on a store id or
master key, so it restores into any backend. Files are written atomically with mode 0600.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from jwtkit._b64 import b64decode, b64encode
from jwtkit.errors import CorruptStoreError, KeyStoreError, MasterKeyError

from ._lifecycle import KeyRecord
from ._masterkey import ScryptParams

__all__ = ["BackupEntry", "read_backup", "write_backup", "write_private_file"]

_FORMAT: Final = "jwtkit-key-backup"
_VERSION: Final = 1
_MAX_SIZE: Final = 16 * 1024 * 1024
_MIN_PASSPHRASE: Final = 8

BackupEntry = tuple[KeyRecord, dict[str, Any] | None]


def _check_passphrase(passphrase: str | bytes) -> None:
    if not isinstance(passphrase, str | bytes):
        raise TypeError("the backup passphrase must be str or bytes")
    if len(passphrase) < _MIN_PASSPHRASE:
        raise ValueError(f"the backup passphrase must be at least {_MIN_PASSPHRASE} characters")


def _header_aad(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode()


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def write_backup(
    path: str | os.PathLike[str],
    passphrase: str | bytes,
    entries: list[BackupEntry],
    *,
    now: datetime,
    params: ScryptParams | None = None,
) -> None:
    """Encrypt ``entries`` under ``passphrase`` into ``path`` (atomic, mode 0600)."""
    _check_passphrase(passphrase)
    params = params or ScryptParams()
    salt = secrets.token_bytes(16)
    header: dict[str, Any] = {"format": _FORMAT, "version": _VERSION, "kdf": params.to_dict(salt)}
    body = {
        "created_at": _time(now),
        "keys": [{**rec.to_json(), "jwk": jwk} for rec, jwk in entries],
    }
    nonce = secrets.token_bytes(12)
    key = params.derive(passphrase, salt)
    ciphertext = AESGCM(key).encrypt(nonce, json.dumps(body).encode(), _header_aad(header))
    document = {
        **header,
        "nonce": b64encode(nonce).decode("ascii"),
        "ciphertext": b64encode(ciphertext).decode("ascii"),
    }
    write_private_file(Path(path), json.dumps(document, indent=1).encode() + b"\n")


def write_private_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically with mode 0600 (temp file, fsync, rename)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except OSError as exc:
        raise KeyStoreError(f"cannot write {str(path)!r}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise KeyStoreError(f"cannot write {str(path)!r}: {exc.strerror}") from None


def read_backup(path: str | os.PathLike[str], passphrase: str | bytes) -> list[BackupEntry]:
    """Decrypt and parse a backup file.

    Raises:
        KeyStoreError: the file cannot be read.
        CorruptStoreError: not a jwtkit backup, or damaged.
        MasterKeyError: wrong passphrase (or the ciphertext was altered).
    """
    _check_passphrase(passphrase)
    label = str(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(_MAX_SIZE + 1)
    except OSError as exc:
        raise KeyStoreError(f"cannot read the backup {label!r}: {exc.strerror}") from None
    if len(raw) > _MAX_SIZE:
        raise CorruptStoreError(f"{label!r} is too large to be a jwtkit backup")
    try:
        doc = json.loads(raw)
        if doc.get("format") != _FORMAT:
            raise ValueError("format")
        if doc.get("version") != _VERSION:
            raise CorruptStoreError(
                f"{label!r} is a backup format version {doc.get('version')!r}; this jwtkit "
                f"reads version {_VERSION}"
            )
        kdf = doc["kdf"]
        nonce = b64decode(doc["nonce"].encode("ascii"))
        ciphertext = b64decode(doc["ciphertext"].encode("ascii"))
        header = {"format": doc["format"], "version": doc["version"], "kdf": kdf}
    except CorruptStoreError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CorruptStoreError(f"{label!r} is not a readable jwtkit key backup") from exc
    try:
        # The parameters come from the file: they are bounded before scrypt runs (issue 12).
        salt, params = ScryptParams.from_dict(kdf)
    except ValueError as exc:
        raise CorruptStoreError(f"{label!r} has unacceptable KDF parameters: {exc}") from None
    key = params.derive(passphrase, salt)
    try:
        plaintext = AESGCM(key).decrypt(nonce, ciphertext, _header_aad(header))
    except (InvalidTag, ValueError):
        raise MasterKeyError(
            f"cannot decrypt the backup {label!r}: wrong passphrase or the file was modified"
        ) from None
    try:
        return [_entry(item) for item in json.loads(plaintext)["keys"]]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CorruptStoreError(f"{label!r} holds a damaged key list") from exc


def _entry(item: dict[str, Any]) -> BackupEntry:
    record = KeyRecord.from_json(item)
    jwk = item.get("jwk")
    if jwk is not None and not isinstance(jwk, dict):
        raise ValueError("jwk must be an object")
    return record, jwk
