"""The one module that calls ``cryptography`` to sign, verify and load PEM keys.

For each (algorithm, key) pair it builds a small closure once (padding and hash objects
pre-made, the key object bound), so the per-token work is the primitive itself. Verifiers
return ``False`` on a bad signature instead of raising, which keeps trying several keys cheap.
``load_pem`` is the seam where every failure of ``cryptography``'s parsers, a panic of its
compiled code included, becomes ``InvalidKeyError``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from jwtkit import _pkcs8
from jwtkit.errors import InvalidKeyError
from jwtkit.jwa import Algorithm

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import padding

__all__ = ["SignFn", "VerifyFn", "load_pem", "make_signer", "make_verifier"]

SignFn = Callable[[bytes], bytes]
VerifyFn = Callable[[bytes, bytes], bool]

_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


class _ECDSA(ec.ECDSA):
    """``ec.ECDSA`` without its constructor's import of the OpenSSL backend object.

    ``ECDSA.__init__`` imports ``cryptography.hazmat.backends.openssl`` (every cipher, ~4 ms
    of a CLI start-up, issue 17) only to check that deterministic signing is available;
    jwtkit never asks for it (RFC 7518 ECDSA is randomized), so the check is skipped and the
    two public properties that the key's sign and verify read are given directly.
    """

    def __init__(self, algorithm: hashes.HashAlgorithm) -> None:
        self._hash_algorithm = algorithm

    @property
    def algorithm(self) -> hashes.HashAlgorithm:
        """The hash, as ``ECDSA.algorithm``."""
        return self._hash_algorithm

    @property
    def deterministic_signing(self) -> bool:
        """Always False: signatures are randomized."""
        return False


def _hash(alg: Algorithm) -> hashes.HashAlgorithm:
    assert alg.hash is not None  # noqa: S101  (table invariant: every hashing family has one)
    return _HASHES[alg.hash]()


def _rsa_padding(alg: Algorithm) -> padding.AsymmetricPadding:
    # Imported here: padding loads cryptography's rsa module (~2 ms), needless for EC keys.
    from cryptography.hazmat.primitives.asymmetric import padding

    if alg.family == "PSS":
        h = _hash(alg)
        # RFC 7518 §3.5: the salt is exactly as long as the hash output.
        return padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size)
    return padding.PKCS1v15()


def make_signer(alg: Algorithm, key: Any) -> SignFn:
    """Return ``sign(data) -> signature`` for ``alg`` with a private key or HMAC secret."""
    family = alg.family
    if family == "HMAC":
        import hmac  # lazy: hmac loads OpenSSL's libcrypto (~2 ms), needless for other families

        secret: bytes = key
        digest: str = alg.hash or ""
        return lambda data: hmac.digest(secret, data, digest)
    if family in ("RSA", "PSS"):
        pad, h = _rsa_padding(alg), _hash(alg)
        rsa_sign: SignFn = lambda data: key.sign(data, pad, h)  # noqa: E731
        return rsa_sign
    if family == "EC":
        ecdsa = _ECDSA(_hash(alg))
        size = alg.sig_size // 2

        def sign_ec(data: bytes) -> bytes:
            r, s = decode_dss_signature(key.sign(data, ecdsa))
            return r.to_bytes(size, "big") + s.to_bytes(size, "big")

        return sign_ec
    return key.sign  # type: ignore[no-any-return]  # OKP and AKP: sign(data)


def make_verifier(alg: Algorithm, key: Any) -> VerifyFn:
    """Return ``verify(data, signature) -> bool`` for ``alg`` with a public key or HMAC secret."""
    family = alg.family
    if family == "HMAC":
        import hmac  # lazy, as in make_signer

        secret: bytes = key
        compare, mac = hmac.compare_digest, hmac.digest
        digest: str = alg.hash or ""
        return lambda data, sig: compare(mac(secret, data, digest), sig)
    if family in ("RSA", "PSS"):
        pad, h = _rsa_padding(alg), _hash(alg)
        rsa_verify = key.verify

        def verify_rsa(data: bytes, sig: bytes) -> bool:
            try:
                rsa_verify(sig, data, pad, h)
            except InvalidSignature:
                return False
            return True

        return verify_rsa
    if family == "EC":
        ecdsa = _ECDSA(_hash(alg))
        total, half = alg.sig_size, alg.sig_size // 2
        ec_verify = key.verify
        from_bytes = int.from_bytes

        def verify_ec(data: bytes, sig: bytes) -> bool:
            # RFC 7518 §3.4: exactly R||S at the curve's fixed length; DER or short forms fail.
            if len(sig) != total:
                return False
            r, s = from_bytes(sig[:half], "big"), from_bytes(sig[half:], "big")
            try:
                ec_verify(encode_dss_signature(r, s), data, ecdsa)
            except (InvalidSignature, ValueError):
                return False
            return True

        return verify_ec
    raw_verify = key.verify

    def verify_raw(data: bytes, sig: bytes) -> bool:
        try:
            raw_verify(sig, data)
        except InvalidSignature:
            return False
        return True

    return verify_raw


def _loaders() -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """Return cryptography's PEM private, PEM public and DER private key loaders, importing as
    little as possible.

    ``cryptography.hazmat.primitives.serialization`` binds these very functions from its Rust
    extension, but importing that package also loads the SSH key code, dataclasses and every
    cipher: about 10 ms, most of what a ``jwtkit verify --key k.pem`` start-up may cost
    (issue 17). Taking them from the extension directly skips that; if a future cryptography
    moves them, the public package is the fallback.
    """
    try:
        from cryptography.hazmat.bindings._rust import openssl as rust_openssl

        keys = rust_openssl.keys
        return keys.load_pem_private_key, keys.load_pem_public_key, keys.load_der_private_key
    except (ImportError, AttributeError):  # pragma: no cover - only on a future cryptography
        from cryptography.hazmat.primitives import serialization as ser

        return ser.load_pem_private_key, ser.load_pem_public_key, ser.load_der_private_key


def load_pem(data: bytes, password: bytes | None, *, max_kdf_iterations: int) -> Any:
    """Return the ``cryptography`` key object in PEM ``data``: a private key (PKCS#8 or
    traditional), a public key (SPKI or PKCS#1) or an X.509 certificate's public key.

    An encrypted PKCS#8 key has its key-derivation cost checked first (``jwtkit._pkcs8``), and
    then only the DER that was checked is decrypted, so no other block of ``data`` can slip past.

    Raises:
        InvalidKeyError: for every reason the data cannot be loaded.
    """
    load_private, load_public, load_der_private = _loaders()
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            from cryptography import x509

            return x509.load_pem_x509_certificate(data).public_key()
        if b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in data and password is not None:
            der = _pkcs8.encrypted_der(data)
            _pkcs8.check_kdf_cost(der, max_kdf_iterations)
            return load_der_private(der, password)
        if b"PRIVATE KEY-----" in data:
            if b"DEK-Info" in data:
                _pkcs8.check_dek_info(data)
            return load_private(data, password)
        return load_public(data)
    except InvalidKeyError:
        raise
    except TypeError as exc:
        raise InvalidKeyError(
            "the PEM key is encrypted: pass password="
            if password is None
            else "a password was given but the PEM key is not encrypted"
        ) from exc
    except Exception as exc:  # cryptography raises ValueError or UnsupportedAlgorithm
        raise InvalidKeyError(
            "could not load the PEM data (wrong password, corrupt or unsupported key)"
        ) from exc
    except BaseException as exc:
        # pyo3 turns a panic of cryptography's compiled code into PanicException, which
        # derives from BaseException so that ``except Exception`` cannot swallow it. Input
        # made it (issue 19, F7), so here, and only here, it is a key error.
        if type(exc).__name__ != "PanicException" or type(exc).__module__ != "pyo3_runtime":
            raise
        raise InvalidKeyError("could not load the PEM data (cryptography failed on it)") from exc
