"""The one module that calls ``cryptography`` to sign and verify (PEM keys: ``jwtkit._pem``).

For each (algorithm, key) pair it builds a small closure once (padding and hash objects
pre-made, the key object bound), so the per-token work is the primitive itself. Verifiers
return ``False`` on a bad signature instead of raising, which keeps trying several keys cheap.
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

from jwtkit.jwa import Algorithm

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import padding

__all__ = ["SignFn", "VerifyFn", "make_signer", "make_verifier"]

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
