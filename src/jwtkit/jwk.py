"""Keys and key sets: ``Key`` and ``KeySet`` (RFC 7517), thumbprints (RFC 7638).

A ``Key`` is an immutable, typed object: its key type, curve and (optionally) algorithm are
fixed when it is made, never guessed from text at verification time. That is what makes the
algorithm-confusion attack impossible: an RSA or EC public key can never be used as an HMAC
secret, because an HMAC key can only be made from a secret, and bytes that look like a public
key are refused as secrets. Secret and private material never appears in ``repr`` or ``str``.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, mldsa

from jwtkit import _backend
from jwtkit._b64 import b64decode, b64encode
from jwtkit._json import JSONError, dumps, loads_object
from jwtkit._pkcs8 import DEFAULT_MAX_KDF_ITERATIONS
from jwtkit._text import short
from jwtkit.errors import InvalidKeyError, KeyNotFoundError, SecurityWarning
from jwtkit.jwa import ALGORITHMS, Algorithm, get_algorithm

__all__ = ["DEFAULT_MAX_KDF_ITERATIONS", "Key", "KeySet"]

# curve name -> (cryptography curve class, coordinate size in bytes, default alg)
_EC: dict[str, tuple[type[ec.EllipticCurve], int, str]] = {
    "P-256": (ec.SECP256R1, 32, "ES256"),
    "P-384": (ec.SECP384R1, 48, "ES384"),
    "P-521": (ec.SECP521R1, 66, "ES512"),
    "secp256k1": (ec.SECP256K1, 32, "ES256K"),
}
_EC_BY_OPENSSL_NAME = {
    "secp256r1": "P-256",
    "secp384r1": "P-384",
    "secp521r1": "P-521",
    "secp256k1": "secp256k1",
}
# curve -> (private class, public class, raw public key size)
_OKP: dict[str, tuple[Any, Any, int]] = {
    "Ed25519": (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey, 32),
    "Ed448": (ed448.Ed448PrivateKey, ed448.Ed448PublicKey, 57),
}
# ML-DSA parameter set (also its alg name) -> (private class, public class, public key size)
_AKP: dict[str, tuple[Any, Any, int]] = {
    "ML-DSA-44": (mldsa.MLDSA44PrivateKey, mldsa.MLDSA44PublicKey, 1312),
    "ML-DSA-65": (mldsa.MLDSA65PrivateKey, mldsa.MLDSA65PublicKey, 1952),
    "ML-DSA-87": (mldsa.MLDSA87PrivateKey, mldsa.MLDSA87PublicKey, 2592),
}
_MLDSA_SEED_SIZE = 32
_RSA_MIN_BITS = 2048
_RSA_MAX_BITS = 16384
_RSA_GENERATE_BITS = (2048, 8192)
_THUMBPRINT_MEMBERS = {
    "oct": ("k", "kty"),
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
    "AKP": ("alg", "kty", "pub"),
}
# Text that marks public-key material; an HMAC secret that contains it is almost certainly the
# algorithm-confusion attack (a verifier fed the issuer's public key as an HMAC secret).
_PUBLIC_KEY_MARKERS = (
    b"-----BEGIN",
    b"ssh-rsa",
    b"ssh-ed25519",
    b"ssh-dss",
    b"ecdsa-sha2-",
    b'"kty"',
)
_STRONG_KEY_HINT = "make a strong one with Key.generate({alg!r}) or secrets.token_bytes({size})"


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


def _utf8(text: str, what: str) -> bytes:
    """Encode ``text`` as UTF-8; a lone surrogate (which UTF-8 cannot carry) is a key error."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidKeyError(f"{what} is not valid Unicode text (unpaired surrogate)") from None


def _check_rsa_bits(bits: int) -> None:
    """Refuse RSA moduli under 2048 bits (weak) or over 16384 (each use would cost seconds)."""
    if bits < _RSA_MIN_BITS:
        raise InvalidKeyError(
            f"RSA keys must be at least {_RSA_MIN_BITS} bits, not {bits}; "
            "make a strong one with Key.generate('RS256', size=3072)"
        )
    if bits > _RSA_MAX_BITS:
        raise InvalidKeyError(f"RSA keys must be at most {_RSA_MAX_BITS} bits, not {bits}")


def _looks_like_public_key(secret: bytes) -> bool:
    return any(marker in secret for marker in _PUBLIC_KEY_MARKERS)


# ROCA (CVE-2017-15361): Infineon's RSALib made moduli n whose residue modulo each of these
# small primes lies in the subgroup generated by 65537. For a random modulus the chance of
# that for all of them is negligible, so the test has no practical false positives.
_ROCA_PRIMES = (
    3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89,
    97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
)  # fmt: skip
_roca_subgroups: list[tuple[int, frozenset[int]]] = []


def _roca_vulnerable(n: int) -> bool:
    """Whether the RSA modulus ``n`` carries the ROCA fingerprint."""
    if not _roca_subgroups:
        for p in _ROCA_PRIMES:
            members, g = {1}, 65537 % p
            value = g
            while value not in members:
                members.add(value)
                value = value * g % p
            _roca_subgroups.append((p, frozenset(members)))
    return all(n % p in members for p, members in _roca_subgroups)


class Key:
    """A signing or verification key for one key type, bound to one algorithm when ``alg`` is set.

    Make keys with ``Key.generate``, ``Key.from_secret``, ``Key.from_pem`` or ``Key.from_jwk``;
    keys are immutable (``with_kid``/``with_alg`` return copies). Example::

        key = Key.generate("ES256")
        jwk = key.public().to_jwk()
    """

    __slots__ = (
        "_alg",
        "_crv",
        "_key_ops",
        "_keyset",
        "_kid",
        "_kty",
        "_private",
        "_public",
        "_secret",
        "_signers",
        "_size",
        "_thumbprint",
        "_use",
        "_verifiers",
        "_weak",
    )

    _kty: str
    _crv: str | None
    _secret: bytes | None
    _private: Any
    _public: Any
    _size: int
    _alg: str | None
    _kid: str | None
    _use: str | None
    _key_ops: tuple[str, ...] | None
    _signers: dict[str, _backend.SignFn]
    _verifiers: dict[str, _backend.VerifyFn]
    _keyset: KeySet | None
    _thumbprint: str | None
    _weak: type[SecurityWarning] | None

    def __init__(self) -> None:
        raise TypeError("use Key.generate, Key.from_secret, Key.from_pem or Key.from_jwk")

    @classmethod
    def _make(
        cls,
        *,
        kty: str,
        crv: str | None = None,
        secret: bytes | None = None,
        private: Any = None,
        public: Any = None,
        size: int,
        alg: str | None = None,
        kid: str | None = None,
        use: str | None = None,
        key_ops: tuple[str, ...] | None = None,
    ) -> Key:
        self = object.__new__(cls)
        self._kty, self._crv, self._secret, self._size = kty, crv, secret, size
        self._private = private
        self._public = public if public is not None or private is None else private.public_key()
        self._alg, self._kid, self._use, self._key_ops = None, None, use, key_ops
        self._signers, self._verifiers = {}, {}
        self._thumbprint = self._keyset = None
        self._weak = None
        self._set_kid(kid)
        if alg is not None:
            self._bind(alg)
        return self

    def _set_kid(self, kid: object) -> None:
        if kid is not None and not isinstance(kid, str):
            raise InvalidKeyError("kid must be a string")
        self._kid = kid

    def _bind(self, alg: str) -> None:
        algorithm = get_algorithm(alg)
        reason = self._unfit(algorithm)
        if reason is not None:
            raise InvalidKeyError(reason)
        self._alg = algorithm.name

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def generate(cls, alg: str, *, kid: str | None = None, size: int | None = None) -> Key:
        """Generate a fresh key for ``alg`` (RSA: ``size`` bits, 2048 by default).

        ``EdDSA`` gives an Ed25519 key. HMAC keys get a random secret as long as the hash
        output (or ``size`` bits, if larger).

        Raises:
            UnsupportedAlgorithmError: ``alg`` is not implemented.
            InvalidKeyError: ``size`` is out of range or does not apply to ``alg``.
        """
        algorithm = get_algorithm(alg)
        family = algorithm.family
        if size is not None and family not in ("HMAC", "RSA", "PSS"):
            raise InvalidKeyError(f"size does not apply to {algorithm.name} keys")
        if family == "HMAC":
            nbytes = algorithm.min_size if size is None else (size + 7) // 8
            if nbytes < algorithm.min_size:
                raise InvalidKeyError(
                    f"{algorithm.name} needs at least {algorithm.min_size * 8} bits"
                )
            return cls._make(
                kty="oct", secret=os.urandom(nbytes), size=nbytes * 8, alg=alg, kid=kid
            )
        if family in ("RSA", "PSS"):
            bits = 2048 if size is None else size
            low, high = _RSA_GENERATE_BITS
            if not low <= bits <= high:
                raise InvalidKeyError(f"RSA key size must be {low} to {high} bits, not {bits}")
            from cryptography.hazmat.primitives.asymmetric import rsa

            return cls._from_crypto(rsa.generate_private_key(65537, bits), alg=alg, kid=kid)
        crv = algorithm.crv or "Ed25519"
        if family == "EC":
            private: Any = ec.generate_private_key(_EC[crv][0]())
        elif family == "OKP":
            private = _OKP[crv][0].generate()
        else:
            private = _AKP[crv][0].generate()
        return cls._from_crypto(private, alg=alg, kid=kid)

    @classmethod
    def from_secret(
        cls,
        secret: bytes | str,
        *,
        alg: str = "HS256",
        kid: str | None = None,
        allow_weak: bool = False,
    ) -> Key:
        """Make an HMAC key from a shared secret (``str`` secrets are UTF-8 encoded).

        ``allow_weak=True`` is a migration aid for deployments that cannot rotate a short
        secret at once: a non-empty secret shorter than the hash output is then accepted, and
        every sign and verify with the key under an algorithm it is too short for emits
        ``SecurityWarning``. Public-key material is refused either way.

        Raises:
            InvalidKeyError: the secret is empty, shorter than the hash output (RFC 7518
                §3.2) without ``allow_weak``, looks like public-key material (PEM, SSH or JWK
                text: the algorithm-confusion attack), or ``alg`` is not an HMAC algorithm.
        """
        raw = _utf8(secret, "the HMAC secret") if isinstance(secret, str) else bytes(secret)
        algorithm = get_algorithm(alg)
        if algorithm.family != "HMAC":
            raise InvalidKeyError(f"a shared secret can only be used with HS*, not {alg}")
        cls._check_secret(raw)
        key = cls._make(kty="oct", secret=raw, size=len(raw) * 8, kid=kid)
        key._weak = SecurityWarning if allow_weak else None
        key._bind(alg)
        return key

    @classmethod
    def _from_weak_secret(cls, secret: bytes, warning: type[SecurityWarning]) -> Key:
        """An HMAC key bound to no algorithm, allowed short as with ``allow_weak=True`` but
        warning with ``warning`` (jwtkit.compat.pyjwt passes its InsecureKeyLengthWarning)."""
        cls._check_secret(secret)
        key = cls._make(kty="oct", secret=secret, size=len(secret) * 8)
        key._weak = warning
        return key

    @staticmethod
    def _check_secret(raw: bytes) -> None:
        if not raw:
            raise InvalidKeyError("the HMAC secret is empty")
        if _looks_like_public_key(raw):
            raise InvalidKeyError(
                "the HMAC secret looks like public-key material (PEM, SSH or JWK); "
                "use Key.from_pem or Key.from_jwk for public keys"
            )

    @classmethod
    def from_pem(
        cls,
        data: bytes | str,
        *,
        password: bytes | str | None = None,
        alg: str | None = None,
        kid: str | None = None,
        max_kdf_iterations: int = DEFAULT_MAX_KDF_ITERATIONS,
    ) -> Key:
        """Load a PEM private key (PKCS#8 or traditional), public key (SPKI or PKCS#1) or an
        X.509 certificate's public key.

        An encrypted PKCS#8 file sets its own decryption cost, so a hostile one could take
        minutes: the PBKDF2 (or PKCS#12 PBE) iteration count is read before decrypting and
        refused over ``max_kdf_iterations`` (10 M, about a second, by default), and scrypt
        over N*r*p = 2**21.

        Raises:
            InvalidKeyError: the PEM cannot be loaded, is encrypted and no (or a wrong)
                password was given, costs more than allowed to decrypt, or holds an
                unsupported or weak key.
        """
        raw = data.encode("ascii", "replace") if isinstance(data, str) else bytes(data)
        pwd = _utf8(password, "the password") if isinstance(password, str) else password
        obj = _backend.load_pem(raw, pwd, max_kdf_iterations=max_kdf_iterations)
        return cls._from_crypto(obj, alg=alg, kid=kid)

    @classmethod
    def _from_crypto(cls, obj: Any, *, alg: str | None, kid: str | None) -> Key:
        """Wrap a ``cryptography`` key object, checking that jwtkit supports it."""
        if isinstance(obj, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
            crv = _EC_BY_OPENSSL_NAME.get(obj.curve.name)
            if crv is None:
                raise InvalidKeyError(f"unsupported elliptic curve {obj.curve.name}")
            private: Any = obj if isinstance(obj, ec.EllipticCurvePrivateKey) else None
            public: Any = obj if private is None else None
            return cls._make(
                kty="EC", crv=crv, private=private, public=public, size=obj.key_size,
                alg=alg or _EC[crv][2], kid=kid,
            )  # fmt: skip
        for table, kty in ((_OKP, "OKP"), (_AKP, "AKP")):
            for crv, (private_cls, public_cls, pub_size) in table.items():
                if isinstance(obj, private_cls | public_cls):
                    private = obj if isinstance(obj, private_cls) else None
                    public = obj if private is None else None
                    default_alg = crv if kty == "AKP" else None
                    return cls._make(
                        kty=kty, crv=crv, private=private, public=public, size=pub_size * 8,
                        alg=alg or default_alg, kid=kid,
                    )  # fmt: skip
        # RSA last: cryptography's rsa module costs ~2 ms to import (it loads random), which
        # a CLI start-up with another kind of key need not pay (issue 17).
        from cryptography.hazmat.primitives.asymmetric import rsa

        if isinstance(obj, rsa.RSAPrivateKey | rsa.RSAPublicKey):
            bits = obj.key_size
            _check_rsa_bits(bits)
            n = (obj.public_key() if isinstance(obj, rsa.RSAPrivateKey) else obj).public_numbers().n
            if _roca_vulnerable(n):
                raise InvalidKeyError(
                    "this RSA key was made by a vulnerable generator (ROCA, CVE-2017-15361) "
                    "and its private key can be recovered; replace it"
                )
            private = obj if isinstance(obj, rsa.RSAPrivateKey) else None
            public = obj if private is None else None
            return cls._make(kty="RSA", private=private, public=public, size=bits, alg=alg, kid=kid)
        raise InvalidKeyError(f"unsupported key type {type(obj).__name__}")

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any] | str) -> Key:
        """Load a JWK (RFC 7517), checking that private members match the public ones.

        Raises:
            InvalidKeyError: malformed, empty, inconsistent, weak or unsupported key.
        """
        return cls._parse_jwk(jwk, trusted=False)

    @classmethod
    def _from_trusted_jwk(cls, jwk: Mapping[str, Any] | str) -> Key:
        """Load a JWK that jwtkit itself wrote and authenticated (a sealed key store entry).

        Every check of :meth:`from_jwk` applies except OpenSSL's RSA private-key consistency
        check (about 50 ms per 2048-bit key), which pyca/cryptography allows skipping for
        trusted keys: the store's AES-GCM envelope already proves the key is the one written.
        """
        return cls._parse_jwk(jwk, trusted=True)

    @classmethod
    def _parse_jwk(cls, jwk: Mapping[str, Any] | str, *, trusted: bool) -> Key:
        if isinstance(jwk, str):
            try:
                jwk = loads_object(_utf8(jwk, "the JWK"))
            except JSONError as exc:
                raise InvalidKeyError(f"JWK is not a JSON object: {exc}") from None
        if not isinstance(jwk, Mapping):
            raise InvalidKeyError("a JWK must be a JSON object")
        kty = jwk.get("kty")
        loader = _JWK_LOADERS.get(kty) if isinstance(kty, str) else None
        if loader is None:
            raise InvalidKeyError(f"unsupported JWK key type {kty!r}")
        use = jwk.get("use")
        if use is not None and not isinstance(use, str):
            raise InvalidKeyError("JWK member 'use' must be a string")
        ops = jwk.get("key_ops")
        if ops is not None and (
            not isinstance(ops, list) or not all(isinstance(op, str) for op in ops)
        ):
            raise InvalidKeyError("JWK member 'key_ops' must be a list of strings")
        alg = jwk.get("alg")
        if alg is not None and not isinstance(alg, str):
            raise InvalidKeyError("JWK member 'alg' must be a string")
        key = _load_rsa(jwk, trusted=True) if trusted and kty == "RSA" else loader(jwk)
        key._set_kid(jwk.get("kid"))
        key._use = use
        key._key_ops = tuple(ops) if ops is not None else None
        if alg is not None:
            key._bind(alg)
        return key

    # -- properties -----------------------------------------------------------------------

    @property
    def kid(self) -> str | None:
        """The key ID, or ``None``."""
        return self._kid

    @property
    def alg(self) -> str | None:
        """The one algorithm this key may be used with, or ``None`` if not bound to one."""
        return self._alg

    @property
    def kty(self) -> str:
        """The JWK key type: ``oct``, ``RSA``, ``EC``, ``OKP`` or ``AKP``."""
        return self._kty

    @property
    def crv(self) -> str | None:
        """The curve (EC, OKP) or ML-DSA parameter set (AKP); ``None`` for oct and RSA."""
        return self._crv

    @property
    def use(self) -> str | None:
        """The JWK ``use`` member, or ``None``."""
        return self._use

    @property
    def key_ops(self) -> tuple[str, ...] | None:
        """The JWK ``key_ops`` member, or ``None``."""
        return self._key_ops

    @property
    def has_private(self) -> bool:
        """Whether the key can sign (a private key or an HMAC secret)."""
        return self._private is not None or self._secret is not None

    @property
    def size(self) -> int:
        """The key size in bits (modulus, curve order, secret or public key length)."""
        return self._size

    def algorithms(self) -> tuple[str, ...]:
        """The algorithms this key may be used with."""
        if self._alg is not None:
            return (self._alg,)
        return tuple(name for name, a in ALGORITHMS.items() if self._unfit(a) is None)

    # -- algorithm binding ----------------------------------------------------------------

    def _unfit(self, alg: Algorithm, op: str | None = None) -> str | None:
        """Return why this key cannot be used with ``alg`` (for ``op``), or ``None``."""
        if self._alg is not None and self._alg != alg.name:
            return f"key is bound to {self._alg}, not {alg.name}"
        if self._kty != alg.kty:
            return f"{self._kty} key cannot be used with {alg.name}"
        curves = alg.curves
        if curves and self._crv not in curves:
            return f"{self._crv} key cannot be used with {alg.name}"
        if self._secret is not None and len(self._secret) < alg.min_size and self._weak is None:
            hint = _STRONG_KEY_HINT.format(alg=alg.name, size=alg.min_size)
            return (
                f"HMAC secret is {len(self._secret)} bytes but {alg.name} needs at least "
                f"{alg.min_size}; {hint}"
            )
        if op == "verify" and self._use not in (None, "sig"):
            return f"key is for use {self._use!r}, not signatures"
        if op is not None and self._key_ops is not None and op not in self._key_ops:
            return f"key_ops of this key do not allow {op!r}"
        return None

    def _default_alg(self) -> Algorithm:
        """The algorithm to sign with when none is named."""
        if self._alg is not None:
            return ALGORITHMS[self._alg]
        if self._kty == "EC" and self._crv is not None:
            return ALGORITHMS[_EC[self._crv][2]]
        if self._kty == "OKP":
            return ALGORITHMS["EdDSA"]
        raise InvalidKeyError(f"this {self._kty} key is not bound to an algorithm: pass alg=")

    def _signer(self, alg: Algorithm) -> _backend.SignFn:
        """The prepared signing function for ``alg`` (built once per key and algorithm)."""
        fn = self._signers.get(alg.name)
        if fn is None:
            reason = self._unfit(alg, "sign")
            if reason is not None:
                raise InvalidKeyError(reason)
            material = self._secret if self._secret is not None else self._private
            if material is None:
                raise InvalidKeyError("a public key cannot sign")
            fn = _backend.make_signer(alg, material)
            if self._weak is not None and len(material) < alg.min_size:
                fn = _warn_on_sign(fn, self._weak_message(alg), self._weak)
            self._signers[alg.name] = fn
        return fn

    def _as_keyset(self) -> KeySet:
        """This key alone as a key set (made once, so its verifier cache is kept)."""
        if self._keyset is None:
            self._keyset = KeySet([self])
        return self._keyset

    def _verifier(self, alg: Algorithm) -> _backend.VerifyFn:
        """The prepared verification function for ``alg`` (built once per key and algorithm)."""
        fn = self._verifiers.get(alg.name)
        if fn is None:
            reason = self._unfit(alg, "verify")
            if reason is not None:
                raise InvalidKeyError(reason)
            material = self._secret if self._secret is not None else self._public
            fn = _backend.make_verifier(alg, material)
            if self._weak is not None and len(material) < alg.min_size:
                fn = _warn_on_verify(fn, self._weak_message(alg), self._weak)
            self._verifiers[alg.name] = fn
        return fn

    def _weak_message(self, alg: Algorithm) -> str:
        return (
            f"HMAC secret is {len(self._secret or b'')} bytes, below the {alg.min_size} bytes "
            f"{alg.name} needs (RFC 7518 §3.2); it is accepted only as a weak key: rotate it"
        )

    # -- export ---------------------------------------------------------------------------

    def _copy(self, **changes: Any) -> Key:
        new = object.__new__(Key)
        for name in Key.__slots__:
            setattr(new, name, getattr(self, name))
        new._signers, new._verifiers = {}, {}
        new._keyset = None
        for name, value in changes.items():
            setattr(new, name, value)
        return new

    def public(self) -> Key:
        """Return the public half of this key (same ``kid``, ``alg``, ``use``).

        Raises:
            InvalidKeyError: HMAC keys have no public half.
        """
        if self._kty == "oct":
            raise InvalidKeyError("an HMAC key has no public half")
        if self._private is None:
            return self
        key_ops = self._key_ops
        if key_ops is not None:
            key_ops = tuple(op for op in key_ops if op == "verify")
        return self._copy(_private=None, _key_ops=key_ops)

    def with_kid(self, kid: str | None) -> Key:
        """Return a copy of this key with another ``kid``."""
        new = self._copy()
        new._set_kid(kid)
        return new

    def with_alg(self, alg: str | None) -> Key:
        """Return a copy of this key bound to ``alg`` (or unbound with ``None``).

        Raises:
            InvalidKeyError: the key does not fit ``alg``.
        """
        new = self._copy(_alg=None)
        if alg is not None:
            new._bind(alg)
        return new

    def _public_members(self) -> dict[str, str]:
        """The JWK members that identify the key (RFC 7638 required members and values)."""
        kty = self._kty
        if kty == "oct":
            assert self._secret is not None  # noqa: S101
            return {"kty": "oct", "k": b64encode(self._secret).decode("ascii")}
        if kty == "RSA":
            numbers = self._public.public_numbers()
            return {"kty": "RSA", "n": _b64int(numbers.n), "e": _b64int(numbers.e)}
        if kty == "EC":
            numbers = self._public.public_numbers()
            size = _EC[self._crv or ""][1]
            return {
                "kty": "EC",
                "crv": self._crv or "",
                "x": _b64int(numbers.x, size),
                "y": _b64int(numbers.y, size),
            }
        raw = b64encode(self._public.public_bytes_raw()).decode("ascii")
        if kty == "OKP":
            return {"kty": "OKP", "crv": self._crv or "", "x": raw}
        return {"kty": "AKP", "alg": self._crv or "", "pub": raw}

    def to_jwk(self, private: bool = False) -> dict[str, Any]:
        """Return the key as a JWK dict; private members only with ``private=True``.

        Raises:
            InvalidKeyError: ``private=True`` on a public key, or ``private=False`` on an HMAC
                key (a shared secret has no public form, and must not leak into a JWKS).
        """
        if private and not self.has_private:
            raise InvalidKeyError("this is a public key: it has no private members")
        if not private and self._kty == "oct":
            raise InvalidKeyError("an HMAC key has no public form; use to_jwk(private=True)")
        jwk: dict[str, Any] = self._public_members()
        if private:
            jwk.update(self._private_members())
        for name, value in (("kid", self._kid), ("alg", self._alg), ("use", self._use)):
            if value is not None:
                jwk[name] = value
        if self._key_ops is not None:
            jwk["key_ops"] = list(self._key_ops)
        return jwk

    def _private_members(self) -> dict[str, str]:
        kty, key = self._kty, self._private
        if kty == "oct":
            return {}
        if kty == "RSA":
            numbers = key.private_numbers()
            return {
                name: _b64int(getattr(numbers, attr))
                for name, attr in (
                    ("d", "d"), ("p", "p"), ("q", "q"),
                    ("dp", "dmp1"), ("dq", "dmq1"), ("qi", "iqmp"),
                )
            }  # fmt: skip
        if kty == "EC":
            size = _EC[self._crv or ""][1]
            return {"d": _b64int(key.private_numbers().private_value, size)}
        raw = b64encode(key.private_bytes_raw()).decode("ascii")
        return {"d": raw} if kty == "OKP" else {"priv": raw}

    def to_pem(self, private: bool = False, password: bytes | str | None = None) -> bytes:
        """Return the key as PEM: SPKI for public keys, PKCS#8 (encrypted with ``password``)
        for private keys.

        Raises:
            InvalidKeyError: HMAC keys have no PEM form; ``private=True`` on a public key.
        """
        from cryptography.hazmat.primitives import serialization as ser

        if self._kty == "oct":
            raise InvalidKeyError("an HMAC key has no PEM form")
        if not private:
            return self._public.public_bytes(  # type: ignore[no-any-return]
                ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo
            )
        if self._private is None:
            raise InvalidKeyError("this is a public key: it has no private form")
        pwd = _utf8(password, "the password") if isinstance(password, str) else password
        encryption: ser.KeySerializationEncryption = (
            ser.BestAvailableEncryption(pwd) if pwd else ser.NoEncryption()
        )
        return self._private.private_bytes(  # type: ignore[no-any-return]
            ser.Encoding.PEM, ser.PrivateFormat.PKCS8, encryption
        )

    def thumbprint(self) -> str:
        """Return the RFC 7638 JWK thumbprint (SHA-256, base64url)."""
        if self._thumbprint is None:
            members = self._public_members()
            required = {name: members[name] for name in _THUMBPRINT_MEMBERS[self._kty]}
            import hashlib  # lazy: loading OpenSSL's libcrypto for hashlib costs ~2 ms (#17)

            digest = hashlib.sha256(dumps(required)).digest()
            self._thumbprint = b64encode(digest).decode("ascii")
        return self._thumbprint

    # -- dunder ---------------------------------------------------------------------------

    def __repr__(self) -> str:
        parts = [f"kty={self._kty!r}"]
        if self._crv is not None:
            parts.append(f"crv={self._crv!r}")
        parts += [f"alg={self._alg!r}", f"kid={self._kid!r}", f"private={self.has_private}"]
        return f"Key({', '.join(parts)})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Key):
            return NotImplemented
        import hmac  # lazy, as hashlib in thumbprint()

        return (
            self._kty == other._kty
            and hmac.compare_digest(self.thumbprint(), other.thumbprint())
            and (self._kid, self._alg, self.has_private)
            == (other._kid, other._alg, other.has_private)
        )

    def __hash__(self) -> int:
        return hash((self.thumbprint(), self._kid, self._alg))


# A weak key's prepared functions are wrapped once, when built, so keys of normal strength pay
# nothing on the hot path.
def _warn_weak(message: str, category: type[SecurityWarning]) -> None:
    """Emit the weak-key warning attributed to the first caller outside jwtkit."""
    level, frame = 3, sys._getframe(2)
    while frame.f_back is not None and _in_jwtkit(frame.f_globals.get("__name__", "")):
        level, frame = level + 1, frame.f_back
    warnings.warn(message, category, stacklevel=level)


def _in_jwtkit(module: str) -> bool:
    return module == "jwtkit" or module.startswith("jwtkit.")


def _warn_on_sign(
    sign: _backend.SignFn, message: str, category: type[SecurityWarning]
) -> _backend.SignFn:
    def sign_weak(data: bytes) -> bytes:
        _warn_weak(message, category)
        return sign(data)

    return sign_weak


def _warn_on_verify(
    verify: _backend.VerifyFn, message: str, category: type[SecurityWarning]
) -> _backend.VerifyFn:
    def verify_weak(data: bytes, signature: bytes) -> bool:
        _warn_weak(message, category)
        return verify(data, signature)

    return verify_weak


def _load_oct(jwk: Mapping[str, Any]) -> Key:
    secret = _member(jwk, "k")
    Key._check_secret(secret)
    return Key._make(kty="oct", secret=secret, size=len(secret) * 8)


def _load_rsa(jwk: Mapping[str, Any], *, trusted: bool = False) -> Key:
    from cryptography.hazmat.primitives.asymmetric import rsa  # lazy, as in Key._from_crypto

    n = _int_member(jwk, "n")
    _check_rsa_bits(n.bit_length())
    e = _rsa_member(jwk, "e", n)
    if "oth" in jwk:
        raise InvalidKeyError("RSA keys with more than two primes are not supported")
    try:
        public_numbers = rsa.RSAPublicNumbers(e, n)
        if "d" not in jwk:
            return Key._from_crypto(public_numbers.public_key(), alg=None, kid=None)
        d = _rsa_member(jwk, "d", n)
        if "p" in jwk or "q" in jwk:
            p, q = _rsa_member(jwk, "p", n), _rsa_member(jwk, "q", n)
        else:
            from jwtkit import _rsa  # rare, and not on the start-up path of the CLI

            p, q = _rsa.recover_primes(n, e, d)
        crt = {
            "dp": rsa.rsa_crt_dmp1(d, p),
            "dq": rsa.rsa_crt_dmq1(d, q),
            "qi": rsa.rsa_crt_iqmp(p, q),
        }
        for name, expected in crt.items():
            if name in jwk and _rsa_member(jwk, name, n) != expected:
                raise InvalidKeyError(f"RSA JWK member {name!r} does not match the key")
        private = rsa.RSAPrivateNumbers(
            p, q, d, crt["dp"], crt["dq"], crt["qi"], public_numbers
        ).private_key(unsafe_skip_rsa_key_validation=trusted)
    except ValueError as exc:
        if isinstance(exc, InvalidKeyError):
            raise
        raise InvalidKeyError("inconsistent or invalid RSA key") from exc
    return Key._from_crypto(private, alg=None, kid=None)


def _rsa_member(jwk: Mapping[str, Any], name: str, n: int) -> int:
    """An RSA JWK integer member other than ``n``; each is smaller than ``n`` in a valid key,
    and the bound keeps hostile sizes out of the arithmetic that follows."""
    value = _int_member(jwk, name)
    if value >= n:
        raise InvalidKeyError(f"RSA JWK member {name!r} is not smaller than the modulus")
    return value


def _load_ec(jwk: Mapping[str, Any]) -> Key:
    crv = jwk.get("crv")
    if not isinstance(crv, str) or crv not in _EC:
        raise InvalidKeyError(f"unsupported EC curve {crv!r}")
    curve_cls, size, _ = _EC[crv]
    x = int.from_bytes(_member(jwk, "x", size), "big")
    y = int.from_bytes(_member(jwk, "y", size), "big")
    try:
        public = ec.EllipticCurvePublicNumbers(x, y, curve_cls()).public_key()
        if "d" not in jwk:
            return Key._make(kty="EC", crv=crv, public=public, size=public.key_size)
        d = int.from_bytes(_member(jwk, "d", size), "big")
        private = ec.derive_private_key(d, curve_cls())
    except ValueError as exc:
        raise InvalidKeyError("invalid EC key (point not on the curve?)") from exc
    if private.public_key().public_numbers() != public.public_numbers():
        raise InvalidKeyError("EC JWK private member 'd' does not match 'x'/'y'")
    return Key._make(kty="EC", crv=crv, private=private, size=private.key_size)


def _load_raw(jwk: Mapping[str, Any]) -> Key:
    kty = jwk["kty"]
    if kty == "OKP":
        crv, pub_name, priv_name, table = jwk.get("crv"), "x", "d", _OKP
    else:
        crv, pub_name, priv_name, table = jwk.get("alg"), "pub", "priv", _AKP
    if not isinstance(crv, str) or crv not in table:
        what = "curve" if kty == "OKP" else "algorithm"
        raise InvalidKeyError(f"unsupported {kty} {what} {crv!r}")
    private_cls, public_cls, pub_size = table[crv]
    pub = _member(jwk, pub_name, pub_size)
    try:
        public = public_cls.from_public_bytes(pub)
        private = None
        if priv_name in jwk:
            seed_size = _MLDSA_SEED_SIZE if kty == "AKP" else pub_size
            seed = _member(jwk, priv_name, seed_size)
            private = (
                private_cls.from_seed_bytes(seed)
                if kty == "AKP"
                else private_cls.from_private_bytes(seed)
            )
    except ValueError as exc:
        raise InvalidKeyError(f"invalid {kty} key") from exc
    if private is not None and private.public_key().public_bytes_raw() != pub:
        # Public data: a plain comparison leaks nothing (the private half is not compared).
        raise InvalidKeyError(f"{kty} JWK private member does not match the public key")
    return Key._make(kty=kty, crv=crv, private=private, public=public, size=pub_size * 8)


_JWK_LOADERS = {
    "oct": _load_oct,
    "RSA": _load_rsa,
    "EC": _load_ec,
    "OKP": _load_raw,
    "AKP": _load_raw,
}


class KeySet:
    """An immutable set of keys, looked up by ``kid`` (a JWK Set, RFC 7517 §5).

    ``kid`` values are unique, and shared secrets are never mixed with public-key material in
    one set. A ``KeySet`` is also a key source for ``Verifier``.
    """

    __slots__ = ("__weakref__", "_by_kid", "_keys")

    def __init__(self, keys: Iterable[Key]) -> None:
        """Collect ``keys``.

        Raises:
            InvalidKeyError: two keys share a ``kid``, or HMAC keys are mixed with others.
        """
        self._keys = tuple(keys)
        by_kid: dict[str, Key] = {}
        for key in self._keys:
            if not isinstance(key, Key):
                raise TypeError(f"KeySet takes Key objects, not {type(key).__name__}")
            if key.kid is not None:
                if key.kid in by_kid:
                    raise InvalidKeyError(f"duplicate kid {key.kid!r} in key set")
                by_kid[key.kid] = key
        if len({key.kty == "oct" for key in self._keys}) > 1:
            raise InvalidKeyError("a key set must not mix HMAC secrets with public-key material")
        self._by_kid = by_kid

    @classmethod
    def from_jwks(cls, jwks: Mapping[str, Any] | str) -> KeySet:
        """Load a JWK Set, skipping keys of unknown type, curve or algorithm and keys for
        encryption.

        Raises:
            InvalidKeyError: not a JWK Set, or a supported key in it is malformed or weak.
        """
        if isinstance(jwks, str):
            try:
                jwks = loads_object(_utf8(jwks, "the JWK Set"))
            except JSONError as exc:
                raise InvalidKeyError(f"JWK Set is not a JSON object: {exc}") from None
        members = jwks.get("keys") if isinstance(jwks, Mapping) else None
        if not isinstance(members, list):
            raise InvalidKeyError("a JWK Set must be an object with a 'keys' list")
        return cls(key for jwk in members if (key := _load_member(jwk)) is not None)

    def to_jwks(self, private: bool = False) -> dict[str, Any]:
        """Return the set as a JWK Set dict (public members only unless ``private=True``)."""
        return {"keys": [key.to_jwk(private=private) for key in self._keys]}

    def get(self, kid: str) -> Key:
        """Return the key with this ``kid``.

        Raises:
            KeyNotFoundError: no key has this ``kid``.
        """
        key = self._by_kid.get(kid)
        if key is None:
            raise KeyNotFoundError(f"no key with kid {short(kid)!r}")
        return key

    @property
    def kids(self) -> tuple[str, ...]:
        """The ``kid`` of every key that has one."""
        return tuple(self._by_kid)

    def get_keyset(self, kid: str | None) -> KeySet:
        """Return this set (a ``KeySet`` is its own ``KeySource``)."""
        return self

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[Key]:
        return iter(self._keys)

    def __contains__(self, kid: object) -> bool:
        return kid in self._by_kid

    def __repr__(self) -> str:
        return f"KeySet({len(self._keys)} keys: {list(self._by_kid)!r})"


_SKIPPED_OKP_CURVES = frozenset({"X25519", "X448"})


def _load_member(jwk: object) -> Key | None:
    """Load one JWK Set member, or return ``None`` when it is not a signature key we know."""
    if not isinstance(jwk, Mapping):
        raise InvalidKeyError("a JWK Set member must be a JSON object")
    # The filter looks members up in sets, so a hostile type (a list or an object where a name
    # belongs) must be refused before it is hashed (issue 19, F3).
    kty, alg = _name_member(jwk, "kty"), _name_member(jwk, "alg")
    if kty not in _JWK_LOADERS or jwk.get("use") == "enc":
        return None
    if alg is not None and alg not in ALGORITHMS:
        return None  # an encryption algorithm (RSA-OAEP, ECDH-ES, ...) or one we do not know
    if kty == "OKP" and _name_member(jwk, "crv") in _SKIPPED_OKP_CURVES:
        return None
    ops = jwk.get("key_ops")
    if isinstance(ops, list) and not {"sign", "verify"} & set(map(str, ops)):
        return None
    return Key.from_jwk(jwk)


def _name_member(jwk: Mapping[str, Any], name: str) -> str | None:
    """Return the JWK member ``name`` when it is a string, ``None`` when it is absent."""
    value = jwk.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidKeyError(f"JWK member {name!r} must be a string")
    return value
