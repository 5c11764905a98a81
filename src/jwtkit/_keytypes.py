"""Key types as data: one record per JWK ``kty`` (RFC 7517, 7518 §6, 8037, 9864), in a table.

Each record knows, for its key type, how to make a key (``generate``), wrap a ``cryptography``
key object (``wrap``), load one from JWK members (``load``) and write its public and private
JWK members back out. Every record returns a ``KeyParts``, which ``jwk.Key`` wraps; nothing
outside this table branches on ``kty``, so adding a key type means adding one record.

The records check the members they read: exact sizes, points on the curve, private halves
that match the public ones. What is refused whatever the encoding (weak RSA moduli, secrets
that look like public keys) is in ``jwtkit._keypolicy``.

About 400 lines: five records, each complete for its type, read best side by side.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, ClassVar, NamedTuple

from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, mldsa

from jwtkit._b64 import b64decode, b64encode
from jwtkit._keypolicy import RSA_GENERATE_BITS, check_rsa_bits, check_rsa_modulus, check_secret
from jwtkit.errors import InvalidKeyError
from jwtkit.jwa import Algorithm

__all__ = ["KEY_TYPES", "KeyParts", "KeyType", "wrap"]


class KeyParts(NamedTuple):
    """What a ``Key`` is made of: its type, curve (or parameter set), material and size in
    bits, and the algorithm to bind it to when its form names one (``None``: unbound)."""

    kty: str
    crv: str | None
    secret: bytes | None
    private: Any
    public: Any
    size: int
    alg: str | None = None


def _b64int(value: int, size: int | None = None) -> str:
    length = size if size is not None else max(1, (value.bit_length() + 7) // 8)
    return b64encode(value.to_bytes(length, "big")).decode("ascii")


def _member(jwk: Mapping[str, Any], name: str, size: int | None = None) -> bytes:
    """Return the base64url-decoded member ``name``, checking its exact size when given."""
    value = jwk.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidKeyError(f"JWK member {name!r} is missing or not a non-empty string")
    try:
        raw = b64decode(value.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise InvalidKeyError(f"JWK member {name!r} is not canonical base64url") from None
    if size is not None and len(raw) != size:
        raise InvalidKeyError(f"JWK member {name!r} must be {size} bytes, not {len(raw)}")
    return raw


def _int_member(jwk: Mapping[str, Any], name: str) -> int:
    return int.from_bytes(_member(jwk, name), "big")


class KeyType:
    """The record of one ``kty``; the base refuses what a type does not support."""

    kty: str = ""
    #: The RFC 7638 required members, in lexicographic order.
    thumbprint_members: tuple[str, ...] = ()

    def generate(self, alg: Algorithm, size: int | None) -> KeyParts:
        """A fresh key for ``alg`` (``size`` in bits where the type takes one).

        Raises:
            InvalidKeyError: ``size`` is out of range or does not apply.
        """
        raise NotImplementedError

    def wrap(self, obj: object) -> KeyParts | None:
        """The parts of a ``cryptography`` key object of this type, or ``None`` if it is not.

        Raises:
            InvalidKeyError: it is of this type but not a key jwtkit accepts.
        """
        return None

    def load(self, jwk: Mapping[str, Any], *, trusted: bool) -> KeyParts:
        """The key in the members of ``jwk`` (``trusted``: written and sealed by jwtkit).

        Raises:
            InvalidKeyError: a member is missing, malformed or inconsistent, or the key weak.
        """
        raise NotImplementedError

    def public_members(self, crv: str | None, public: Any, secret: bytes | None) -> dict[str, str]:
        """The JWK members that identify the key (RFC 7638 required members and values)."""
        raise NotImplementedError

    def private_members(self, crv: str | None, private: Any) -> dict[str, str]:
        """The JWK members of the private half."""
        raise NotImplementedError

    def signing_alg(self, crv: str | None) -> str | None:
        """The algorithm to sign with when a key of this type is bound to none."""
        return None


class _Oct(KeyType):
    kty = "oct"
    thumbprint_members = ("k", "kty")

    def generate(self, alg: Algorithm, size: int | None) -> KeyParts:
        nbytes = alg.min_size if size is None else (size + 7) // 8
        if nbytes < alg.min_size:
            raise InvalidKeyError(f"{alg.name} needs at least {alg.min_size * 8} bits")
        return KeyParts("oct", None, os.urandom(nbytes), None, None, nbytes * 8, alg.name)

    def load(self, jwk: Mapping[str, Any], *, trusted: bool) -> KeyParts:
        secret = _member(jwk, "k")
        check_secret(secret)
        return KeyParts("oct", None, secret, None, None, len(secret) * 8)

    def public_members(self, crv: str | None, public: Any, secret: bytes | None) -> dict[str, str]:
        assert secret is not None  # noqa: S101  (an oct key always has its secret)
        return {"kty": "oct", "k": b64encode(secret).decode("ascii")}

    def private_members(self, crv: str | None, private: Any) -> dict[str, str]:
        return {}  # the secret is already among the public members


class _RSA(KeyType):
    # cryptography's rsa module costs ~2 ms to import (it loads random): every use imports it
    # here, so a CLI start-up with another kind of key never pays for it (issue 17).
    kty = "RSA"
    thumbprint_members = ("e", "kty", "n")

    def generate(self, alg: Algorithm, size: int | None) -> KeyParts:
        from cryptography.hazmat.primitives.asymmetric import rsa

        bits = 2048 if size is None else size
        low, high = RSA_GENERATE_BITS
        if not low <= bits <= high:
            raise InvalidKeyError(f"RSA key size must be {low} to {high} bits, not {bits}")
        parts = self.wrap(rsa.generate_private_key(65537, bits))
        assert parts is not None  # noqa: S101
        return parts._replace(alg=alg.name)

    def wrap(self, obj: object) -> KeyParts | None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        if isinstance(obj, rsa.RSAPrivateKey):
            check_rsa_modulus(obj.public_key().public_numbers().n)
            return KeyParts("RSA", None, None, obj, obj.public_key(), obj.key_size)
        if isinstance(obj, rsa.RSAPublicKey):
            check_rsa_modulus(obj.public_numbers().n)
            return KeyParts("RSA", None, None, None, obj, obj.key_size)
        return None

    def load(self, jwk: Mapping[str, Any], *, trusted: bool) -> KeyParts:
        from cryptography.hazmat.primitives.asymmetric import rsa

        n = _int_member(jwk, "n")
        check_rsa_bits(n.bit_length())  # before any arithmetic on a hostile size
        e = self._below(jwk, "e", n)
        if "oth" in jwk:
            raise InvalidKeyError("RSA keys with more than two primes are not supported")
        try:
            public_numbers = rsa.RSAPublicNumbers(e, n)
            if "d" not in jwk:
                obj: Any = public_numbers.public_key()
            else:
                obj = self._private(jwk, public_numbers, trusted=trusted)
        except ValueError as exc:
            if isinstance(exc, InvalidKeyError):
                raise
            raise InvalidKeyError("inconsistent or invalid RSA key") from exc
        parts = self.wrap(obj)
        assert parts is not None  # noqa: S101
        return parts

    def _private(self, jwk: Mapping[str, Any], public_numbers: Any, *, trusted: bool) -> Any:
        from cryptography.hazmat.primitives.asymmetric import rsa

        n, e = public_numbers.n, public_numbers.e
        d = self._below(jwk, "d", n)
        if "p" in jwk or "q" in jwk:
            p, q = self._below(jwk, "p", n), self._below(jwk, "q", n)
        else:
            from jwtkit import _rsa  # rare, and not on the start-up path of the CLI

            p, q = _rsa.recover_primes(n, e, d)
        crt = {
            "dp": rsa.rsa_crt_dmp1(d, p),
            "dq": rsa.rsa_crt_dmq1(d, q),
            "qi": rsa.rsa_crt_iqmp(p, q),
        }
        for name, expected in crt.items():
            if name in jwk and self._below(jwk, name, n) != expected:
                raise InvalidKeyError(f"RSA JWK member {name!r} does not match the key")
        # OpenSSL's consistency check costs ~50 ms per 2048-bit key; a key jwtkit sealed
        # itself is proven by the store's AES-GCM envelope, so pyca lets it be skipped.
        return rsa.RSAPrivateNumbers(
            p, q, d, crt["dp"], crt["dq"], crt["qi"], public_numbers
        ).private_key(unsafe_skip_rsa_key_validation=trusted)

    @staticmethod
    def _below(jwk: Mapping[str, Any], name: str, n: int) -> int:
        """An RSA JWK integer member other than ``n``; each is smaller than ``n`` in a valid
        key, and the bound keeps hostile sizes out of the arithmetic that follows."""
        value = _int_member(jwk, name)
        if value >= n:
            raise InvalidKeyError(f"RSA JWK member {name!r} is not smaller than the modulus")
        return value

    def public_members(self, crv: str | None, public: Any, secret: bytes | None) -> dict[str, str]:
        numbers = public.public_numbers()
        return {"kty": "RSA", "n": _b64int(numbers.n), "e": _b64int(numbers.e)}

    def private_members(self, crv: str | None, private: Any) -> dict[str, str]:
        numbers = private.private_numbers()
        return {
            name: _b64int(getattr(numbers, attr))
            for name, attr in (
                ("d", "d"), ("p", "p"), ("q", "q"),
                ("dp", "dmp1"), ("dq", "dmq1"), ("qi", "iqmp"),
            )
        }  # fmt: skip


class _EC(KeyType):
    kty = "EC"
    thumbprint_members = ("crv", "kty", "x", "y")
    # JWK curve name -> (cryptography curve class, coordinate size in bytes, default alg)
    curves: ClassVar[dict[str, tuple[type[ec.EllipticCurve], int, str]]] = {
        "P-256": (ec.SECP256R1, 32, "ES256"),
        "P-384": (ec.SECP384R1, 48, "ES384"),
        "P-521": (ec.SECP521R1, 66, "ES512"),
        "secp256k1": (ec.SECP256K1, 32, "ES256K"),
    }
    by_openssl_name: ClassVar[dict[str, str]] = {
        "secp256r1": "P-256",
        "secp384r1": "P-384",
        "secp521r1": "P-521",
        "secp256k1": "secp256k1",
    }

    def generate(self, alg: Algorithm, size: int | None) -> KeyParts:
        if size is not None:
            raise InvalidKeyError(f"size does not apply to {alg.name} keys")
        parts = self.wrap(ec.generate_private_key(self.curves[alg.crv or ""][0]()))
        assert parts is not None  # noqa: S101
        return parts._replace(alg=alg.name)

    def wrap(self, obj: object) -> KeyParts | None:
        if not isinstance(obj, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
            return None
        crv = self.by_openssl_name.get(obj.curve.name)
        if crv is None:
            raise InvalidKeyError(f"unsupported elliptic curve {obj.curve.name}")
        if isinstance(obj, ec.EllipticCurvePrivateKey):
            return KeyParts(
                "EC", crv, None, obj, obj.public_key(), obj.key_size, self.curves[crv][2]
            )
        return KeyParts("EC", crv, None, None, obj, obj.key_size, self.curves[crv][2])

    def load(self, jwk: Mapping[str, Any], *, trusted: bool) -> KeyParts:
        crv = jwk.get("crv")
        if not isinstance(crv, str) or crv not in self.curves:
            raise InvalidKeyError(f"unsupported EC curve {crv!r}")
        curve_cls, size, _ = self.curves[crv]
        x = int.from_bytes(_member(jwk, "x", size), "big")
        y = int.from_bytes(_member(jwk, "y", size), "big")
        try:
            public = ec.EllipticCurvePublicNumbers(x, y, curve_cls()).public_key()
            if "d" not in jwk:
                return KeyParts("EC", crv, None, None, public, public.key_size)
            d = int.from_bytes(_member(jwk, "d", size), "big")
            private = ec.derive_private_key(d, curve_cls())
        except ValueError as exc:
            raise InvalidKeyError("invalid EC key (point not on the curve?)") from exc
        if private.public_key().public_numbers() != public.public_numbers():
            raise InvalidKeyError("EC JWK private member 'd' does not match 'x'/'y'")
        return KeyParts("EC", crv, None, private, private.public_key(), private.key_size)

    def public_members(self, crv: str | None, public: Any, secret: bytes | None) -> dict[str, str]:
        numbers = public.public_numbers()
        size = self.curves[crv or ""][1]
        return {
            "kty": "EC",
            "crv": crv or "",
            "x": _b64int(numbers.x, size),
            "y": _b64int(numbers.y, size),
        }

    def private_members(self, crv: str | None, private: Any) -> dict[str, str]:
        size = self.curves[crv or ""][1]
        return {"d": _b64int(private.private_numbers().private_value, size)}

    def signing_alg(self, crv: str | None) -> str | None:
        return self.curves[crv][2] if crv in self.curves else None


class _Raw(KeyType):
    """Key types whose keys are raw byte strings: OKP (RFC 8037) and AKP (ML-DSA, RFC 9864)."""

    # curve or parameter set -> (private class, public class, public key size in bytes)
    table: ClassVar[dict[str, tuple[Any, Any, int]]]
    name_member = ""  # the member naming the curve or parameter set
    public_member = ""
    private_member = ""
    what = ""

    def generate(self, alg: Algorithm, size: int | None) -> KeyParts:
        if size is not None:
            raise InvalidKeyError(f"size does not apply to {alg.name} keys")
        parts = self.wrap(self.table[alg.crv or "Ed25519"][0].generate())
        assert parts is not None  # noqa: S101
        return parts._replace(alg=alg.name)

    def wrap(self, obj: object) -> KeyParts | None:
        for crv, (private_cls, public_cls, pub_size) in self.table.items():
            if isinstance(obj, private_cls):
                return KeyParts(
                    self.kty, crv, None, obj, obj.public_key(), pub_size * 8, self._bound(crv)
                )
            if isinstance(obj, public_cls):
                return KeyParts(self.kty, crv, None, None, obj, pub_size * 8, self._bound(crv))
        return None

    def _bound(self, crv: str) -> str | None:
        return None

    def _from_private(self, private_cls: Any, raw: bytes) -> Any:
        raise NotImplementedError

    def _private_size(self, pub_size: int) -> int:
        return pub_size

    def load(self, jwk: Mapping[str, Any], *, trusted: bool) -> KeyParts:
        crv = jwk.get(self.name_member)
        if not isinstance(crv, str) or crv not in self.table:
            raise InvalidKeyError(f"unsupported {self.kty} {self.what} {crv!r}")
        private_cls, public_cls, pub_size = self.table[crv]
        pub = _member(jwk, self.public_member, pub_size)
        try:
            public = public_cls.from_public_bytes(pub)
            private = None
            if self.private_member in jwk:
                raw = _member(jwk, self.private_member, self._private_size(pub_size))
                private = self._from_private(private_cls, raw)
        except ValueError as exc:
            raise InvalidKeyError(f"invalid {self.kty} key") from exc
        if private is not None and private.public_key().public_bytes_raw() != pub:
            # Public data: a plain comparison leaks nothing (the private half is not compared).
            raise InvalidKeyError(f"{self.kty} JWK private member does not match the public key")
        return KeyParts(self.kty, crv, None, private, public, pub_size * 8)

    def public_members(self, crv: str | None, public: Any, secret: bytes | None) -> dict[str, str]:
        raw = b64encode(public.public_bytes_raw()).decode("ascii")
        return {"kty": self.kty, self.name_member: crv or "", self.public_member: raw}

    def private_members(self, crv: str | None, private: Any) -> dict[str, str]:
        return {self.private_member: b64encode(private.private_bytes_raw()).decode("ascii")}


class _OKP(_Raw):
    kty = "OKP"
    thumbprint_members = ("crv", "kty", "x")
    table: ClassVar[dict[str, tuple[Any, Any, int]]] = {
        "Ed25519": (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey, 32),
        "Ed448": (ed448.Ed448PrivateKey, ed448.Ed448PublicKey, 57),
    }
    name_member, public_member, private_member, what = "crv", "x", "d", "curve"

    def _from_private(self, private_cls: Any, raw: bytes) -> Any:
        return private_cls.from_private_bytes(raw)

    def signing_alg(self, crv: str | None) -> str | None:
        return "EdDSA"


class _AKP(_Raw):
    kty = "AKP"
    thumbprint_members = ("alg", "kty", "pub")
    # The ML-DSA parameter set is also the key's algorithm name.
    table: ClassVar[dict[str, tuple[Any, Any, int]]] = {
        "ML-DSA-44": (mldsa.MLDSA44PrivateKey, mldsa.MLDSA44PublicKey, 1312),
        "ML-DSA-65": (mldsa.MLDSA65PrivateKey, mldsa.MLDSA65PublicKey, 1952),
        "ML-DSA-87": (mldsa.MLDSA87PrivateKey, mldsa.MLDSA87PublicKey, 2592),
    }
    name_member, public_member, private_member, what = "alg", "pub", "priv", "algorithm"

    def _bound(self, crv: str) -> str | None:
        return crv

    def _private_size(self, pub_size: int) -> int:
        return 32  # the private member is the 32-byte seed (RFC 9864 §2)

    def _from_private(self, private_cls: Any, raw: bytes) -> Any:
        return private_cls.from_seed_bytes(raw)


KEY_TYPES: dict[str, KeyType] = {t.kty: t for t in (_Oct(), _RSA(), _EC(), _OKP(), _AKP())}
# The order ``wrap`` tries: RSA last, so that wrapping another key never imports its module.
_WRAP_ORDER = tuple(KEY_TYPES[kty] for kty in ("EC", "OKP", "AKP", "RSA"))


def wrap(obj: object) -> KeyParts:
    """The parts of a ``cryptography`` key object of any supported type.

    Raises:
        InvalidKeyError: not a key type (or curve) jwtkit supports, or a weak key.
    """
    for key_type in _WRAP_ORDER:
        parts = key_type.wrap(obj)
        if parts is not None:
            return parts
    raise InvalidKeyError(f"unsupported key type {type(obj).__name__}")
