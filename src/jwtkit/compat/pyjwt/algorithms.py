"""PyJWT's algorithm objects (``jwt.algorithms``), signing and verifying through jwtkit.

``prepare_key``, ``to_jwk``, ``from_jwk`` and ``check_key_length`` keep PyJWT's contracts (they
take and return ``cryptography`` key objects or secret bytes); ``sign`` and ``verify`` convert
the key to a jwtkit ``Key`` once and call jwtkit's prepared primitive, so the rules of the core
apply there too: ECDSA signatures must be the fixed-length R||S, RSA keys need 2048 bits, and
``NoneAlgorithm.verify`` is always ``False``.

It mirrors PyJWT's ``jwt/algorithms.py`` class for class, so code written against PyJWT finds
every name where PyJWT has it; that, not logic, is why it runs past 400 lines.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar, Literal, NoReturn, overload

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ec import (
    EllipticCurvePrivateKey,
    EllipticCurvePublicKey,
)
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PrivateKey, Ed448PublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from jwtkit import errors as core
from jwtkit._b64 import b64decode
from jwtkit.compat.pyjwt import _keys
from jwtkit.compat.pyjwt.exceptions import InvalidKeyError
from jwtkit.compat.pyjwt.types import HashlibHash, JWKDict
from jwtkit.compat.pyjwt.utils import base64url_encode, force_bytes, to_base64url_uint
from jwtkit.jwa import ALGORITHMS
from jwtkit.jwa import Algorithm as CoreAlgorithm
from jwtkit.jwk import Key

__all__ = [
    "Algorithm",
    "AllowedECKeys",
    "AllowedKeys",
    "AllowedOKPKeys",
    "AllowedPrivateKeys",
    "AllowedPublicKeys",
    "AllowedRSAKeys",
    "ECAlgorithm",
    "HMACAlgorithm",
    "NoneAlgorithm",
    "OKPAlgorithm",
    "RSAAlgorithm",
    "RSAPSSAlgorithm",
    "core_algorithm",
    "get_default_algorithms",
    "has_crypto",
    "requires_cryptography",
]

AllowedRSAKeys = RSAPrivateKey | RSAPublicKey
AllowedECKeys = EllipticCurvePrivateKey | EllipticCurvePublicKey
AllowedOKPKeys = Ed25519PrivateKey | Ed25519PublicKey | Ed448PrivateKey | Ed448PublicKey
AllowedKeys = AllowedRSAKeys | AllowedECKeys | AllowedOKPKeys
AllowedPrivateKeys = RSAPrivateKey | EllipticCurvePrivateKey | Ed25519PrivateKey | Ed448PrivateKey
AllowedPublicKeys = RSAPublicKey | EllipticCurvePublicKey | Ed25519PublicKey | Ed448PublicKey

has_crypto = True
requires_cryptography = {
    "RS256", "RS384", "RS512", "ES256", "ES256K", "ES384", "ES521", "ES512",
    "PS256", "PS384", "PS512", "EdDSA",
}  # fmt: skip

_EC_NAMES = {
    "secp256r1": "ES256",
    "secp384r1": "ES384",
    "secp521r1": "ES512",
    "secp256k1": "ES256K",
}
_JWK_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
_JWK_CURVES["secp256k1"] = "secp256k1"
_HASH_BITS: dict[type[hashes.HashAlgorithm], str] = {
    hashes.SHA256: "256",
    hashes.SHA384: "384",
    hashes.SHA512: "512",
}
# PyJWT's historical spelling of ES512 (its issue #219) is verified as ES512.
_PYJWT_TO_CORE = {"ES521": "ES512"}


def _load_json(jwk: str | JWKDict) -> dict[str, Any]:
    try:
        if isinstance(jwk, str):
            obj = json.loads(jwk)
        elif isinstance(jwk, dict):
            obj = jwk
        else:
            raise ValueError
    except ValueError:
        raise InvalidKeyError("Key is not valid JSON") from None
    if not isinstance(obj, dict):
        raise InvalidKeyError("Key is not valid JSON")
    return obj


def _jwtkit_from_jwk(obj: dict[str, Any]) -> Key:
    """Parse the key members with jwtkit (strict base64url, consistency checks); the
    ``alg``/``use``/``key_ops`` members do not bind the result, as in PyJWT."""
    members = {k: v for k, v in obj.items() if k not in ("alg", "use", "key_ops", "kid")}
    try:
        return Key.from_jwk(members)
    except core.InvalidKeyError as exc:
        raise InvalidKeyError(str(exc)) from exc


def _crypto_object(key: Key) -> Any:
    return key._private if key._private is not None else key._public


class Algorithm(ABC):
    """The interface of a signing algorithm: prepare a key, sign, verify, JWK conversion."""

    _crypto_key_types: tuple[type[Any], ...] | None = None

    def compute_hash_digest(self, bytestr: bytes) -> bytes:
        """Hash ``bytestr`` with this algorithm's hash.

        Raises:
            NotImplementedError: the algorithm has no hash.
        """
        hash_alg = getattr(self, "hash_alg", None)
        if hash_alg is None:
            raise NotImplementedError
        if isinstance(hash_alg, type) and issubclass(hash_alg, hashes.HashAlgorithm):
            digest = hashes.Hash(hash_alg())
            digest.update(bytestr)
            return digest.finalize()
        return bytes(hash_alg(bytestr).digest())

    def check_crypto_key_type(self, key: Any) -> None:
        """Check that ``key`` is a ``cryptography`` key of this algorithm's family.

        Raises:
            ValueError: the algorithm does not use ``cryptography`` keys.
            InvalidKeyError: another key family.
        """
        if self._crypto_key_types is None:
            raise ValueError(
                "This method requires the cryptography library, and should only be used by "
                "cryptography-based algorithms."
            )
        if not isinstance(key, self._crypto_key_types):
            valid = (cls.__name__ for cls in self._crypto_key_types)
            raise InvalidKeyError(
                f"Expected one of {valid}, got: {type(key).__name__}. Invalid Key type for "
                f"{type(self).__name__}"
            )

    @abstractmethod
    def prepare_key(self, key: Any) -> Any:
        """Validate and convert ``key`` into the form ``sign``/``verify`` take."""

    @abstractmethod
    def sign(self, msg: bytes, key: Any) -> bytes:
        """Return the signature of ``msg``."""

    @abstractmethod
    def verify(self, msg: bytes, key: Any, sig: bytes) -> bool:
        """Whether ``sig`` is a valid signature of ``msg``."""

    @overload
    @staticmethod
    @abstractmethod
    def to_jwk(key_obj: Any, as_dict: Literal[True]) -> JWKDict: ...

    @overload
    @staticmethod
    @abstractmethod
    def to_jwk(key_obj: Any, as_dict: Literal[False] = False) -> str: ...

    @staticmethod
    @abstractmethod
    def to_jwk(key_obj: Any, as_dict: bool = False) -> JWKDict | str:
        """Serialize ``key_obj`` as a JWK (a dict, or JSON text)."""

    @staticmethod
    @abstractmethod
    def from_jwk(jwk: str | JWKDict) -> Any:
        """Load a key from a JWK."""

    def check_key_length(self, key: Any) -> str | None:
        """A warning message when ``key`` is below the minimum size, else ``None``."""
        return None

    def _jwtkit_name(self, key: Any = None) -> str | None:
        """The jwtkit algorithm this object implements (for ``key``, where it depends on it)."""
        return None

    def _core(self, key: Any) -> CoreAlgorithm:
        name = self._jwtkit_name(key)
        if name is None:
            raise InvalidKeyError(
                f"{type(self).__name__} with these parameters is not a JOSE algorithm"
            )
        return ALGORITHMS[name]

    def _jwtkit_sign(self, msg: bytes, key: Any) -> bytes:
        alg = self._core(key)
        jkey = _keys.key_for(key, alg)
        _keys.check_fit(jkey, alg, enforce=False)
        try:
            return jkey._signer(alg)(msg)
        except core.InvalidKeyError as exc:
            raise InvalidKeyError(str(exc)) from exc

    def _jwtkit_verify(self, msg: bytes, key: Any, sig: bytes) -> bool:
        alg = self._core(key)
        verify = _keys.verifier_for(_keys.key_for(key, alg), alg, enforce=False)
        return verify(msg, sig)


class NoneAlgorithm(Algorithm):
    """``alg: none``: signs with an empty signature and never verifies."""

    def prepare_key(self, key: str | None) -> None:
        """Accept only ``None`` (or ``""``).

        Raises:
            InvalidKeyError: any other key.
        """
        if key == "":
            key = None
        if key is not None:
            raise InvalidKeyError('When alg = "none", key value must be None.')
        return key

    def sign(self, msg: bytes, key: None) -> bytes:
        """The empty signature."""
        return b""

    def verify(self, msg: bytes, key: None, sig: bytes) -> bool:
        """Always ``False``: an unsecured token is never accepted (RFC 8725 §3.1)."""
        return False

    @staticmethod
    def to_jwk(key_obj: Any, as_dict: bool = False) -> NoReturn:
        """Not supported."""
        raise NotImplementedError

    @staticmethod
    def from_jwk(jwk: str | JWKDict) -> NoReturn:
        """Not supported."""
        raise NotImplementedError


class HMACAlgorithm(Algorithm):
    """HMAC with SHA-256/384/512 (HS256/384/512)."""

    SHA256: ClassVar[HashlibHash] = hashlib.sha256
    SHA384: ClassVar[HashlibHash] = hashlib.sha384
    SHA512: ClassVar[HashlibHash] = hashlib.sha512

    def __init__(self, hash_alg: HashlibHash) -> None:
        self.hash_alg = hash_alg

    def _jwtkit_name(self, key: Any = None) -> str | None:
        return {"sha256": "HS256", "sha384": "HS384", "sha512": "HS512"}.get(self.hash_alg().name)

    def prepare_key(self, key: str | bytes) -> bytes:
        """Return the secret bytes, refusing empty secrets and key material.

        Raises:
            TypeError: not ``str``/``bytes``.
            InvalidKeyError: empty, or PEM, SSH, DER or JWK text.
        """
        raw = _keys.check_hmac_secret(key)
        # jwtkit's rule on top of PyJWT's: no PEM/SSH/JWK marker anywhere in the secret.
        _keys.key_for(raw, ALGORITHMS["HS256"])
        return raw

    @overload
    @staticmethod
    def to_jwk(key_obj: str | bytes, as_dict: Literal[True]) -> JWKDict: ...

    @overload
    @staticmethod
    def to_jwk(key_obj: str | bytes, as_dict: Literal[False] = False) -> str: ...

    @staticmethod
    def to_jwk(key_obj: str | bytes, as_dict: bool = False) -> JWKDict | str:
        """The secret as an ``oct`` JWK."""
        jwk = {"k": base64url_encode(force_bytes(key_obj)).decode(), "kty": "oct"}
        return jwk if as_dict else json.dumps(jwk)

    @staticmethod
    def from_jwk(jwk: str | JWKDict) -> bytes:
        """The secret of an ``oct`` JWK.

        Raises:
            InvalidKeyError: not JSON, not ``oct``, or an empty or non-canonical ``k``.
        """
        obj = _load_json(jwk)
        if obj.get("kty") != "oct":
            raise InvalidKeyError("Not an HMAC key")
        k = obj.get("k")
        if not isinstance(k, str):
            raise InvalidKeyError("HMAC JWK member 'k' must be a string")
        try:
            secret = b64decode(k.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise InvalidKeyError("HMAC JWK member 'k' is not canonical base64url") from None
        if not secret:
            raise InvalidKeyError("HMAC key must not be empty.")
        return secret

    def check_key_length(self, key: bytes) -> str | None:
        """PyJWT's message when the secret is shorter than the hash output."""
        name = self._jwtkit_name()
        if name is not None and len(key) < ALGORITHMS[name].min_size:
            return _keys.hmac_length_message(key, ALGORITHMS[name])
        return None

    def sign(self, msg: bytes, key: bytes) -> bytes:
        """HMAC of ``msg`` (warns when the secret is short)."""
        return self._jwtkit_sign(msg, key)

    def verify(self, msg: bytes, key: bytes, sig: bytes) -> bool:
        """Constant-time check of the HMAC."""
        return self._jwtkit_verify(msg, key, sig)


def _load_text(key: Any, algorithm: Algorithm) -> Any:
    if isinstance(key, algorithm._crypto_key_types or ()):
        return key
    if not isinstance(key, bytes | str):
        raise TypeError("Expecting a PEM-formatted key.")
    obj = _keys.load_text_key(force_bytes(key))
    algorithm.check_crypto_key_type(obj)
    return obj


class RSAAlgorithm(Algorithm):
    """RSASSA-PKCS1-v1_5 with SHA-256/384/512 (RS256/384/512)."""

    SHA256: ClassVar[type[hashes.HashAlgorithm]] = hashes.SHA256
    SHA384: ClassVar[type[hashes.HashAlgorithm]] = hashes.SHA384
    SHA512: ClassVar[type[hashes.HashAlgorithm]] = hashes.SHA512
    _crypto_key_types = (RSAPrivateKey, RSAPublicKey)
    _MIN_KEY_SIZE: ClassVar[int] = 2048
    _PREFIX: ClassVar[str] = "RS"

    def __init__(self, hash_alg: type[hashes.HashAlgorithm]) -> None:
        self.hash_alg = hash_alg

    def _jwtkit_name(self, key: Any = None) -> str | None:
        bits = _HASH_BITS.get(self.hash_alg)
        return None if bits is None else f"{self._PREFIX}{bits}"

    def check_key_length(self, key: AllowedRSAKeys) -> str | None:
        """PyJWT's message for a modulus under 2048 bits (which jwtkit refuses to use)."""
        if key.key_size < self._MIN_KEY_SIZE:
            return (
                f"The RSA key is {key.key_size} bits long, which is below the minimum "
                f"recommended size of {self._MIN_KEY_SIZE} bits. See NIST SP 800-131A."
            )
        return None

    def prepare_key(self, key: AllowedRSAKeys | str | bytes) -> AllowedRSAKeys:
        """Load PEM, OpenSSH or DER text, or pass an RSA key object through.

        Raises:
            TypeError: neither text nor a key object.
            InvalidKeyError: unparsable, or not an RSA key.
        """
        return _load_text(key, self)  # type: ignore[no-any-return]

    @overload
    @staticmethod
    def to_jwk(key_obj: AllowedRSAKeys, as_dict: Literal[True]) -> JWKDict: ...

    @overload
    @staticmethod
    def to_jwk(key_obj: AllowedRSAKeys, as_dict: Literal[False] = False) -> str: ...

    @staticmethod
    def to_jwk(key_obj: AllowedRSAKeys, as_dict: bool = False) -> JWKDict | str:
        """The key as an RSA JWK (``key_ops`` ``sign`` or ``verify``, as PyJWT writes)."""
        if isinstance(key_obj, RSAPrivateKey):
            numbers = key_obj.private_numbers()
            pub = numbers.public_numbers
            values = {
                "n": pub.n, "e": pub.e, "d": numbers.d, "p": numbers.p, "q": numbers.q,
                "dp": numbers.dmp1, "dq": numbers.dmq1, "qi": numbers.iqmp,
            }  # fmt: skip
            ops = "sign"
        elif isinstance(key_obj, RSAPublicKey):
            pub = key_obj.public_numbers()
            values, ops = {"n": pub.n, "e": pub.e}, "verify"
        else:
            raise InvalidKeyError("Not a public or private key")
        obj: dict[str, Any] = {"kty": "RSA", "key_ops": [ops]}
        obj.update({name: to_base64url_uint(v).decode() for name, v in values.items()})
        return obj if as_dict else json.dumps(obj)

    @staticmethod
    def from_jwk(jwk: str | JWKDict) -> AllowedRSAKeys:
        """Load an RSA JWK (prime factors are recovered when only ``d`` is given).

        Raises:
            InvalidKeyError: not JSON, not RSA, incomplete, inconsistent or weak.
        """
        obj = _load_json(jwk)
        if obj.get("kty") != "RSA":
            raise InvalidKeyError("Not an RSA key")
        if "n" not in obj or "e" not in obj:
            raise InvalidKeyError("Not a public or private key")
        crt = ("p", "q", "dp", "dq", "qi")
        if "d" in obj and any(m in obj for m in crt) and not all(m in obj for m in crt):
            raise InvalidKeyError(
                "RSA key must include all parameters if any are present besides d"
            )
        return _crypto_object(_jwtkit_from_jwk(obj))  # type: ignore[no-any-return]

    def sign(self, msg: bytes, key: RSAPrivateKey) -> bytes:
        """Sign with jwtkit's prepared RSA signer."""
        return self._jwtkit_sign(msg, key)

    def verify(self, msg: bytes, key: RSAPublicKey, sig: bytes) -> bool:
        """Verify with jwtkit's prepared RSA verifier."""
        return self._jwtkit_verify(msg, key, sig)


class RSAPSSAlgorithm(RSAAlgorithm):
    """RSASSA-PSS with MGF1 and a salt as long as the hash (PS256/384/512)."""

    _PREFIX: ClassVar[str] = "PS"


class ECAlgorithm(Algorithm):
    """ECDSA (ES256, ES384, ES512, ES256K), with the curve each requires."""

    SHA256: ClassVar[type[hashes.HashAlgorithm]] = hashes.SHA256
    SHA384: ClassVar[type[hashes.HashAlgorithm]] = hashes.SHA384
    SHA512: ClassVar[type[hashes.HashAlgorithm]] = hashes.SHA512
    _crypto_key_types = (EllipticCurvePrivateKey, EllipticCurvePublicKey)

    def __init__(
        self,
        hash_alg: type[hashes.HashAlgorithm],
        expected_curve: type[ec.EllipticCurve] | None = None,
    ) -> None:
        self.hash_alg = hash_alg
        self.expected_curve = expected_curve

    def _jwtkit_name(self, key: Any = None) -> str | None:
        curve: str | None = getattr(self.expected_curve, "name", None)
        if curve is None and isinstance(key, self._crypto_key_types):
            curve = key.curve.name
        name = _EC_NAMES.get(curve or "")
        bits = _HASH_BITS.get(self.hash_alg)
        if name is None or ALGORITHMS[name].hash != f"sha{bits}":
            return None  # ECDSA is only a JOSE algorithm with the curve's own hash
        return name

    def _validate_curve(self, key: AllowedECKeys) -> None:
        if self.expected_curve is not None and not isinstance(key.curve, self.expected_curve):
            expected = getattr(self.expected_curve, "name", self.expected_curve.__name__)
            raise InvalidKeyError(
                f"The key's curve '{key.curve.name}' does not match the expected curve "
                f"'{expected}' for this algorithm"
            )

    def prepare_key(self, key: AllowedECKeys | str | bytes) -> AllowedECKeys:
        """Load PEM, OpenSSH or DER text, or pass an EC key object through; check the curve.

        Raises:
            TypeError: neither text nor a key object.
            InvalidKeyError: unparsable, not an EC key, or the wrong curve.
        """
        obj: AllowedECKeys = _load_text(key, self)
        self._validate_curve(obj)
        return obj

    @overload
    @staticmethod
    def to_jwk(key_obj: AllowedECKeys, as_dict: Literal[True]) -> JWKDict: ...

    @overload
    @staticmethod
    def to_jwk(key_obj: AllowedECKeys, as_dict: Literal[False] = False) -> str: ...

    @staticmethod
    def to_jwk(key_obj: AllowedECKeys, as_dict: bool = False) -> JWKDict | str:
        """The key as an EC JWK.

        Raises:
            InvalidKeyError: not an EC key, or a curve JOSE has no name for.
        """
        if isinstance(key_obj, EllipticCurvePrivateKey):
            numbers = key_obj.public_key().public_numbers()
        elif isinstance(key_obj, EllipticCurvePublicKey):
            numbers = key_obj.public_numbers()
        else:
            raise InvalidKeyError("Not a public or private key")
        crv = _JWK_CURVES.get(key_obj.curve.name)
        if crv is None:
            raise InvalidKeyError(f"Invalid curve: {key_obj.curve}")
        bits = key_obj.curve.key_size
        obj: dict[str, Any] = {
            "kty": "EC",
            "crv": crv,
            "x": to_base64url_uint(numbers.x, bit_length=bits).decode(),
            "y": to_base64url_uint(numbers.y, bit_length=bits).decode(),
        }
        if isinstance(key_obj, EllipticCurvePrivateKey):
            d = key_obj.private_numbers().private_value
            obj["d"] = to_base64url_uint(d, bit_length=bits).decode()
        return obj if as_dict else json.dumps(obj)

    @staticmethod
    def from_jwk(jwk: str | JWKDict) -> AllowedECKeys:
        """Load an EC JWK (coordinates of the curve's exact size, point on the curve).

        Raises:
            InvalidKeyError: not JSON, not EC, or a malformed or inconsistent key.
        """
        obj = _load_json(jwk)
        if obj.get("kty") != "EC" or "x" not in obj or "y" not in obj:
            raise InvalidKeyError("Not an Elliptic curve key")
        return _crypto_object(_jwtkit_from_jwk(obj))  # type: ignore[no-any-return]

    def sign(self, msg: bytes, key: EllipticCurvePrivateKey) -> bytes:
        """Sign, returning the fixed-length R||S (RFC 7518 §3.4)."""
        return self._jwtkit_sign(msg, key)

    def verify(self, msg: bytes, key: AllowedECKeys, sig: bytes) -> bool:
        """Verify a fixed-length R||S signature (DER or short forms are ``False``)."""
        return self._jwtkit_verify(msg, key, sig)


class OKPAlgorithm(Algorithm):
    """EdDSA with an Ed25519 or Ed448 key (RFC 8037)."""

    _crypto_key_types = (Ed25519PrivateKey, Ed25519PublicKey, Ed448PrivateKey, Ed448PublicKey)

    def __init__(self, **kwargs: Any) -> None:
        pass

    def _jwtkit_name(self, key: Any = None) -> str | None:
        return "EdDSA"

    def prepare_key(self, key: AllowedOKPKeys | str | bytes) -> AllowedOKPKeys:
        """Load PEM or OpenSSH text, or pass an Ed25519/Ed448 key object through.

        Raises:
            InvalidKeyError: unparsable, or not an Ed25519/Ed448 key.
        """
        if not isinstance(key, str | bytes):
            self.check_crypto_key_type(key)
            return key
        raw = force_bytes(key)
        if not (b"-----BEGIN PUBLIC" in raw or b"-----BEGIN PRIVATE" in raw or raw[:4] == b"ssh-"):
            raise InvalidKeyError("Not a public or private key")
        obj = _keys.load_text_key(raw)
        self.check_crypto_key_type(obj)
        return obj  # type: ignore[no-any-return]

    @overload
    @staticmethod
    def to_jwk(key: AllowedOKPKeys, as_dict: Literal[True]) -> JWKDict: ...

    @overload
    @staticmethod
    def to_jwk(key: AllowedOKPKeys, as_dict: Literal[False] = False) -> str: ...

    @staticmethod
    def to_jwk(key: AllowedOKPKeys, as_dict: bool = False) -> JWKDict | str:
        """The key as an OKP JWK.

        Raises:
            InvalidKeyError: not an Ed25519/Ed448 key.
        """
        if isinstance(key, Ed25519PublicKey | Ed448PublicKey):
            public, private = key, None
        elif isinstance(key, Ed25519PrivateKey | Ed448PrivateKey):
            public, private = key.public_key(), key
        else:
            raise InvalidKeyError("Not a public or private key")
        obj = {
            "x": base64url_encode(public.public_bytes_raw()).decode(),
            "kty": "OKP",
            "crv": "Ed25519" if isinstance(public, Ed25519PublicKey) else "Ed448",
        }
        if private is not None:
            obj["d"] = base64url_encode(private.private_bytes_raw()).decode()
        return obj if as_dict else json.dumps(obj)

    @staticmethod
    def from_jwk(jwk: str | JWKDict) -> AllowedOKPKeys:
        """Load an Ed25519/Ed448 JWK (the private half must match ``x``).

        Raises:
            InvalidKeyError: not JSON, not OKP, another curve, or a malformed key.
        """
        obj = _load_json(jwk)
        if obj.get("kty") != "OKP":
            raise InvalidKeyError("Not an Octet Key Pair")
        if obj.get("crv") not in ("Ed25519", "Ed448"):
            raise InvalidKeyError(f"Invalid curve: {obj.get('crv')}")
        if "x" not in obj:
            raise InvalidKeyError('OKP should have "x" parameter')
        return _crypto_object(_jwtkit_from_jwk(obj))  # type: ignore[no-any-return]

    def sign(self, msg: str | bytes, key: Ed25519PrivateKey | Ed448PrivateKey) -> bytes:
        """Sign ``msg`` with EdDSA."""
        return self._jwtkit_sign(force_bytes(msg), key)

    def verify(self, msg: str | bytes, key: AllowedOKPKeys, sig: str | bytes) -> bool:
        """Verify an EdDSA signature (a private key verifies with its public half)."""
        return self._jwtkit_verify(force_bytes(msg), key, force_bytes(sig))


_BUILTIN: tuple[type[Algorithm], ...] = (
    HMACAlgorithm, RSAAlgorithm, RSAPSSAlgorithm, ECAlgorithm, OKPAlgorithm,
)  # fmt: skip
_DEFAULTS: dict[str, Callable[[], Algorithm]] = {
    "none": NoneAlgorithm,
    "HS256": lambda: HMACAlgorithm(HMACAlgorithm.SHA256),
    "HS384": lambda: HMACAlgorithm(HMACAlgorithm.SHA384),
    "HS512": lambda: HMACAlgorithm(HMACAlgorithm.SHA512),
    "RS256": lambda: RSAAlgorithm(RSAAlgorithm.SHA256),
    "RS384": lambda: RSAAlgorithm(RSAAlgorithm.SHA384),
    "RS512": lambda: RSAAlgorithm(RSAAlgorithm.SHA512),
    "ES256": lambda: ECAlgorithm(ECAlgorithm.SHA256, ec.SECP256R1),
    "ES256K": lambda: ECAlgorithm(ECAlgorithm.SHA256, ec.SECP256K1),
    "ES384": lambda: ECAlgorithm(ECAlgorithm.SHA384, ec.SECP384R1),
    "ES521": lambda: ECAlgorithm(ECAlgorithm.SHA512, ec.SECP521R1),
    "ES512": lambda: ECAlgorithm(ECAlgorithm.SHA512, ec.SECP521R1),
    "PS256": lambda: RSAPSSAlgorithm(RSAPSSAlgorithm.SHA256),
    "PS384": lambda: RSAPSSAlgorithm(RSAPSSAlgorithm.SHA384),
    "PS512": lambda: RSAPSSAlgorithm(RSAPSSAlgorithm.SHA512),
    "EdDSA": OKPAlgorithm,
}


def get_default_algorithms() -> dict[str, Algorithm]:
    """PyJWT's algorithm table: a fresh dict of name -> algorithm object."""
    return {name: make() for name, make in _DEFAULTS.items()}


def core_algorithm(name: str, obj: Algorithm) -> CoreAlgorithm | None:
    """The jwtkit algorithm that verifies tokens named ``name`` handled by ``obj``, or
    ``None`` when jwtkit does not implement it (``none``, or a custom ``Algorithm``)."""
    if type(obj) not in _BUILTIN:
        return None
    expected = _PYJWT_TO_CORE.get(name, name)
    return ALGORITHMS[expected] if obj._jwtkit_name() == expected else None
