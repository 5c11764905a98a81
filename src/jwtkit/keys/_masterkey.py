"""Master keys and envelope encryption for stored private keys.

Each private key (its private JWK as JSON) is encrypted with AES-256-GCM under its own random
32-byte data key; the data key is encrypted with AES-256-GCM under the master key. Both layers
bind the store id and the key's ``kid`` as associated data, so a ciphertext cannot be moved to
another record or another store. Rewrapping to a new master key re-encrypts only the data keys.

Sealed blob layout (version 1)::

    0x01 | nonce_dek (12) | wrapped_dek (32 + 16 tag) | nonce_key (12) | ciphertext + tag

A check value (a constant encrypted under the master key, store id as associated data) lets a
wrong master key fail with MasterKeyError before anything else is read.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from jwtkit._b64 import b64decode, b64encode
from jwtkit.errors import CorruptStoreError, MasterKeyError

__all__ = [
    "ENV_MASTER_KEY",
    "ENV_MASTER_KEY_FILE",
    "MasterKey",
    "ScryptParams",
    "generate_master_key",
    "make_check",
    "parse_master_key",
    "read_master_key_file",
    "resolve_master_key",
]

ENV_MASTER_KEY: Final = "JWTKIT_MASTER_KEY"
ENV_MASTER_KEY_FILE: Final = "JWTKIT_MASTER_KEY_FILE"
_SEAL_VERSION: Final = 1
_NONCE: Final = 12
_WRAPPED: Final = 32 + 16
_HEADER: Final = 1 + _NONCE + _WRAPPED + _NONCE
# Version 1: a store from before issue 12; version 2: the key ring carries its MAC.
_CHECK_PLAINTEXTS: Final = {b"jwtkit master key check v1": 1, b"jwtkit master key check v2": 2}
_CHECK_PLAINTEXT: Final = b"jwtkit master key check v2"
_RING_MAC_INFO: Final = b"jwtkit key ring mac v1"
# scrypt bounds (ScryptParams): 128*n*r bytes of memory at most 64 MiB, n*r*p at most 2^20.
_SCRYPT_MAX_NR: Final = 2**19
_SCRYPT_MAX_NRP: Final = 2**20
_SCRYPT_SALT: Final = (8, 64)
_STANDARD_TO_URL: Final = str.maketrans("+/", "-_")


def generate_master_key() -> str:
    """Return a new random 32-byte master key as base64url text (for JWTKIT_MASTER_KEY).

    Example::

        import jwtkit.keys
        print(jwtkit.keys.generate_master_key())  # store it like a password
    """
    return b64encode(secrets.token_bytes(32)).decode("ascii")


@dataclass(frozen=True)
class ScryptParams:
    """scrypt cost parameters, stored beside the salt so they can be raised later.

    The parameters are read from files and store rows that an attacker may have written, so
    they are bounded before any work (issue 12: ``n=2^20, r=8`` made a restore take 1 GiB and
    3.8 s; ``r=-1`` raised an uncaught ``OverflowError``). The bounds allow four times the
    default work and twice its memory.
    """

    n: int = 2**15
    r: int = 8
    p: int = 1

    def __post_init__(self) -> None:
        for name in ("n", "r", "p"):
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise ValueError(f"scrypt {name} must be a positive integer")
        if self.n < 2 or self.n & (self.n - 1):
            raise ValueError("scrypt n must be a power of two")
        if self.n * self.r > _SCRYPT_MAX_NR:
            raise ValueError(f"scrypt memory 128*n*r exceeds {128 * _SCRYPT_MAX_NR >> 20} MiB")
        if self.n * self.r * self.p > _SCRYPT_MAX_NRP:
            raise ValueError(f"scrypt work n*r*p exceeds 2^{_SCRYPT_MAX_NRP.bit_length() - 1}")

    def derive(self, passphrase: str | bytes, salt: bytes) -> bytes:
        """Derive 32 key bytes from ``passphrase`` and ``salt``."""
        secret = passphrase.encode() if isinstance(passphrase, str) else passphrase
        if not secret:
            raise ValueError("the passphrase must not be empty")
        return Scrypt(salt=salt, length=32, n=self.n, r=self.r, p=self.p).derive(secret)

    def to_dict(self, salt: bytes) -> dict[str, Any]:
        """Return the one JSON form of these parameters with ``salt`` (stores and backups)."""
        return {
            "alg": "scrypt",
            "salt": b64encode(salt).decode("ascii"),
            "n": self.n,
            "r": self.r,
            "p": self.p,
        }

    def to_json(self, salt: bytes) -> str:
        """Return :meth:`to_dict` as canonical JSON text."""
        return json.dumps(self.to_dict(salt), sort_keys=True)

    @classmethod
    def from_dict(cls, value: Any) -> tuple[bytes, ScryptParams]:
        """Parse :meth:`to_dict`'s form; returns (salt, params).

        Raises:
            ValueError: not that form.
        """
        try:
            if value.get("alg") != "scrypt":
                raise ValueError("not scrypt")
            salt = b64decode(value["salt"].encode("ascii"))
            n, r, p = value["n"], value["r"], value["p"]
        except (AttributeError, KeyError, TypeError) as exc:
            raise ValueError("malformed KDF parameters") from exc
        if not _SCRYPT_SALT[0] <= len(salt) <= _SCRYPT_SALT[1]:
            raise ValueError(f"the scrypt salt must be {_SCRYPT_SALT[0]}-{_SCRYPT_SALT[1]} bytes")
        return salt, cls(n=n, r=r, p=p)

    @classmethod
    def from_json(cls, text: str) -> tuple[bytes, ScryptParams]:
        """Parse :meth:`to_json`'s text; returns (salt, params)."""
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError("malformed KDF parameters") from exc
        return cls.from_dict(value)


class MasterKey:
    """A 32-byte AES-256 key that wraps data keys; its repr never shows the bytes."""

    __slots__ = ("_aead", "_ring_key")

    def __init__(self, raw: bytes) -> None:
        if len(raw) != 32:
            raise MasterKeyError("the master key must be exactly 32 bytes")
        self._aead = AESGCM(raw)
        # A separate key for the ring's MAC (issue 12), never the AES key itself.
        self._ring_key = HKDF(hashes.SHA256(), 32, salt=None, info=_RING_MAC_INFO).derive(raw)

    def __repr__(self) -> str:
        return "MasterKey(<hidden>)"

    def seal(self, plaintext: bytes, *, store_id: str, kid: str) -> bytes:
        """Encrypt ``plaintext`` under a fresh data key; return the sealed blob."""
        dek = AESGCM.generate_key(bit_length=256)
        n1, n2 = os.urandom(_NONCE), os.urandom(_NONCE)
        wrapped = self._aead.encrypt(n1, dek, _aad(b"dek", store_id, kid))
        body = AESGCM(dek).encrypt(n2, plaintext, _aad(b"key", store_id, kid))
        return bytes([_SEAL_VERSION]) + n1 + wrapped + n2 + body

    def open(self, sealed: bytes, *, store_id: str, kid: str) -> bytes:
        """Decrypt a sealed blob made by :meth:`seal` for the same store id and kid.

        Raises:
            CorruptStoreError: the blob is malformed, was altered or moved to another record.
        """
        n1, wrapped, n2, body = _split(sealed, kid)
        try:
            dek = self._aead.decrypt(n1, wrapped, _aad(b"dek", store_id, kid))
            return AESGCM(dek).decrypt(n2, body, _aad(b"key", store_id, kid))
        except InvalidTag:
            raise CorruptStoreError(
                f"key {kid!r} cannot be decrypted: altered, moved from another record, "
                "or sealed under a different master key"
            ) from None

    def rewrap(self, sealed: bytes, new: MasterKey, *, store_id: str, kid: str) -> bytes:
        """Re-encrypt the data key inside ``sealed`` under ``new``; the body is unchanged."""
        n1, wrapped, n2, body = _split(sealed, kid)
        try:
            dek = self._aead.decrypt(n1, wrapped, _aad(b"dek", store_id, kid))
        except InvalidTag:
            raise CorruptStoreError(f"key {kid!r} cannot be decrypted for rewrapping") from None
        n1 = os.urandom(_NONCE)
        return (
            bytes([_SEAL_VERSION])
            + n1
            + new._aead.encrypt(n1, dek, _aad(b"dek", store_id, kid))
            + n2
            + body
        )

    def check(self, check_value: bytes, *, store_id: str) -> bool:
        """Return True when ``check_value`` was made by :func:`make_check` with this key."""
        return self.check_version(check_value, store_id=store_id) is not None

    def check_version(self, check_value: bytes, *, store_id: str) -> int | None:
        """Return the version of a check value made with this key (2: the ring has a MAC),
        or None when it was not made with this key."""
        if len(check_value) <= _NONCE:
            return None
        try:
            got = self._aead.decrypt(
                check_value[:_NONCE], check_value[_NONCE:], _aad(b"check", store_id, "")
            )
        except InvalidTag:
            return None
        return _CHECK_PLAINTEXTS.get(got)

    def ring_mac(self, data: bytes) -> bytes:
        """Return HMAC-SHA256 of ``data`` under the key derived for the ring's MAC."""
        return hmac.new(self._ring_key, data, hashlib.sha256).digest()


def make_check(key: MasterKey, *, store_id: str) -> bytes:
    """Return a fresh check value for ``key`` (an AEAD-encrypted constant)."""
    nonce = os.urandom(_NONCE)
    return nonce + key._aead.encrypt(nonce, _CHECK_PLAINTEXT, _aad(b"check", store_id, ""))


def _aad(purpose: bytes, store_id: str, kid: str) -> bytes:
    return b"jwtkit/" + purpose + b"/v1\x00" + store_id.encode() + b"\x00" + kid.encode()


def _split(sealed: bytes, kid: str) -> tuple[bytes, bytes, bytes, bytes]:
    if len(sealed) <= _HEADER + 16 or sealed[0] != _SEAL_VERSION:
        raise CorruptStoreError(f"key {kid!r} has a malformed or truncated ciphertext")
    n1 = sealed[1 : 1 + _NONCE]
    wrapped = sealed[1 + _NONCE : 1 + _NONCE + _WRAPPED]
    n2 = sealed[1 + _NONCE + _WRAPPED : _HEADER]
    return n1, wrapped, n2, sealed[_HEADER:]


def parse_master_key(value: bytes | str, *, source: str = "master key") -> MasterKey:
    """Accept 32 raw bytes or their base64url text (bytes holding that text work too; padded
    or standard-alphabet base64 too).

    Raises:
        MasterKeyError: anything else; the message names ``source``, never the value.
    """
    if isinstance(value, bytes) and len(value) == 32:
        return MasterKey(value)
    try:
        text = value.decode("ascii") if isinstance(value, bytes) else value
        # People paste keys made by other tools: surrounding white space, "=" padding and the
        # standard alphabet's "+" and "/" are accepted; anything else must be canonical.
        text = text.strip().rstrip("=").translate(_STANDARD_TO_URL)
        raw = b64decode(text.encode("ascii"))
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise MasterKeyError(
            f"the {source} must be 32 random bytes or their base64url text "
            "(make one with jwtkit.keys.generate_master_key())"
        )
    return MasterKey(raw)


@dataclass(frozen=True)
class MasterKeySpec:
    """Where the master key comes from, resolved before the store is opened.

    Exactly one of ``key`` or ``passphrase`` is set; a passphrase needs the store's salt.
    """

    key: MasterKey | None = None
    passphrase: str | bytes | None = None

    def __repr__(self) -> str:
        return "MasterKeySpec(<hidden>)"


def resolve_master_key(
    master_key: bytes | str | None,
    master_key_file: str | os.PathLike[str] | None,
    passphrase: str | bytes | None,
    *,
    required: bool,
) -> MasterKeySpec | None:
    """Pick the master key from the arguments, else ``JWTKIT_MASTER_KEY(_FILE)``.

    Raises:
        MasterKeyError: none found while ``required``, more than one given, or malformed.
    """
    given = [x for x in (master_key, master_key_file, passphrase) if x is not None]
    if len(given) > 1:
        raise MasterKeyError("give only one of master_key, master_key_file or master_passphrase")
    if master_key is not None:
        return MasterKeySpec(key=parse_master_key(master_key))
    if master_key_file is not None:
        return MasterKeySpec(key=_read_key_file(Path(master_key_file), "master_key_file"))
    if passphrase is not None:
        if not passphrase:
            raise MasterKeyError("the master passphrase must not be empty")
        return MasterKeySpec(passphrase=passphrase)
    env = os.environ.get(ENV_MASTER_KEY)
    if env:
        return MasterKeySpec(key=parse_master_key(env, source=f"{ENV_MASTER_KEY} variable"))
    env_file = os.environ.get(ENV_MASTER_KEY_FILE)
    if env_file:
        return MasterKeySpec(key=_read_key_file(Path(env_file), ENV_MASTER_KEY_FILE))
    if required:
        raise MasterKeyError(
            f"no master key: pass master_key= or master_key_file=, or set {ENV_MASTER_KEY}"
        )
    return None


def read_master_key_file(path: str | os.PathLike[str], *, source: str = "master key file") -> bytes:
    """Return the master key held in ``path``: 32 raw bytes, or base64url text (stripped).

    This is the one reader of master key files (the key manager and the CLI use it).

    Raises:
        MasterKeyError: the file cannot be read or does not hold a master key.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise MasterKeyError(f"cannot read the {source} {str(path)!r}: {exc.strerror}") from None
    if len(data) != 32:
        data = data.strip()
    parse_master_key(data, source=f"{source} {str(path)!r}")
    return data


def _read_key_file(path: Path, source: str) -> MasterKey:
    return parse_master_key(read_master_key_file(path, source=source))
