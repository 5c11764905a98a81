"""Keys and key sets: ``Key`` and ``KeySet`` (RFC 7517), thumbprints (RFC 7638).

Over 400 lines because ``Key`` is one immutable object with a wide API (five constructors,
the JOSE properties, algorithm binding, prepared sign and verify functions, JWK, PEM and
thumbprint exports): what differs by key type is in ``_keytypes``, key policy in
``_keypolicy`` and PEM in ``_pem``, and ``Key`` only dispatches to them.

A ``Key`` is an immutable, typed object: its key type, curve and (optionally) algorithm are
fixed when it is made, never guessed from text at verification time. That is what makes the
algorithm-confusion attack impossible: an RSA or EC public key can never be used as an HMAC
secret, because an HMAC key can only be made from a secret, and bytes that look like a public
key are refused as secrets. Secret and private material never appears in ``repr`` or ``str``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from jwtkit import _backend, _pem
from jwtkit._b64 import b64encode
from jwtkit._json import JSONError, dumps, loads_object
from jwtkit._keypolicy import STRONG_KEY_HINT, check_secret, warn_on_sign, warn_on_verify
from jwtkit._keytypes import KEY_TYPES, KeyParts, wrap
from jwtkit._pkcs8 import DEFAULT_MAX_KDF_ITERATIONS
from jwtkit._text import short, utf8
from jwtkit.errors import InvalidKeyError, KeyNotFoundError, SecurityWarning
from jwtkit.jwa import ALGORITHMS, Algorithm, get_algorithm

__all__ = ["DEFAULT_MAX_KDF_ITERATIONS", "Key", "KeySet"]


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

    @classmethod
    def _from_parts(cls, parts: KeyParts, *, alg: str | None, kid: str | None) -> Key:
        """A key of ``parts``, bound to ``alg``, else to the algorithm its form names."""
        return cls._make(
            kty=parts.kty, crv=parts.crv, secret=parts.secret, private=parts.private,
            public=parts.public, size=parts.size, alg=alg or parts.alg, kid=kid,
        )  # fmt: skip

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
        parts = KEY_TYPES[algorithm.kty].generate(algorithm, size)
        return cls._from_parts(parts, alg=None, kid=kid)

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
        raw = utf8(secret, "the HMAC secret") if isinstance(secret, str) else bytes(secret)
        algorithm = get_algorithm(alg)
        if algorithm.family != "HMAC":
            raise InvalidKeyError(f"a shared secret can only be used with HS*, not {alg}")
        check_secret(raw)
        key = cls._make(kty="oct", secret=raw, size=len(raw) * 8, kid=kid)
        key._weak = SecurityWarning if allow_weak else None
        key._bind(alg)
        return key

    @classmethod
    def _from_weak_secret(cls, secret: bytes, warning: type[SecurityWarning]) -> Key:
        """An HMAC key bound to no algorithm, allowed short as with ``allow_weak=True`` but
        warning with ``warning`` (jwtkit.compat.pyjwt passes its InsecureKeyLengthWarning)."""
        check_secret(secret)
        key = cls._make(kty="oct", secret=secret, size=len(secret) * 8)
        key._weak = warning
        return key

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
        return cls._from_crypto(_pem.load(data, password, max_kdf_iterations), alg=alg, kid=kid)

    @classmethod
    def _from_crypto(cls, obj: Any, *, alg: str | None, kid: str | None) -> Key:
        """Wrap a ``cryptography`` key object, checking that jwtkit supports it."""
        return cls._from_parts(wrap(obj), alg=alg, kid=kid)

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
                jwk = loads_object(utf8(jwk, "the JWK"))
            except JSONError as exc:
                raise InvalidKeyError(f"JWK is not a JSON object: {exc}") from None
        if not isinstance(jwk, Mapping):
            raise InvalidKeyError("a JWK must be a JSON object")
        kty = jwk.get("kty")
        key_type = KEY_TYPES.get(kty) if isinstance(kty, str) else None
        if key_type is None:
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
        key = cls._from_parts(key_type.load(jwk, trusted=trusted), alg=None, kid=None)
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
            hint = STRONG_KEY_HINT.format(alg=alg.name, size=alg.min_size)
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
        name = self._alg or KEY_TYPES[self._kty].signing_alg(self._crv)
        if name is not None:
            return ALGORITHMS[name]
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
                fn = warn_on_sign(fn, self._weak_message(alg), self._weak)
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
                fn = warn_on_verify(fn, self._weak_message(alg), self._weak)
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
        return KEY_TYPES[self._kty].public_members(self._crv, self._public, self._secret)

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
        return KEY_TYPES[self._kty].private_members(self._crv, self._private)

    def to_pem(self, private: bool = False, password: bytes | str | None = None) -> bytes:
        """Return the key as PEM: SPKI for public keys, PKCS#8 (encrypted with ``password``)
        for private keys.

        Raises:
            InvalidKeyError: HMAC keys have no PEM form; ``private=True`` on a public key.
        """
        if self._kty == "oct":
            raise InvalidKeyError("an HMAC key has no PEM form")
        if private and self._private is None:
            raise InvalidKeyError("this is a public key: it has no private form")
        return _pem.dump(self._public, self._private if private else None, password)

    def thumbprint(self) -> str:
        """Return the RFC 7638 JWK thumbprint (SHA-256, base64url)."""
        if self._thumbprint is None:
            members = self._public_members()
            required = {name: members[name] for name in KEY_TYPES[self._kty].thumbprint_members}
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
                jwks = loads_object(utf8(jwks, "the JWK Set"))
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
    if kty not in KEY_TYPES or jwk.get("use") == "enc":
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
