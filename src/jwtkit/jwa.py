"""The JSON Web Algorithms jwtkit implements, as one table of data (RFC 7518, 8037, 8812, 9864).

Each entry binds an ``alg`` name to the key type, curve or parameter set, hash and minimum key
size it needs. ``none`` is deliberately absent: it can never be looked up, so it can never be
used. Everything that checks whether a key fits an algorithm reads this table instead of
branching on names.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from jwtkit.errors import UnsupportedAlgorithmError

__all__ = ["ALGORITHMS", "ASYMMETRIC_ALGORITHMS", "Algorithm", "Family", "get_algorithm"]

Family = Literal["HMAC", "RSA", "PSS", "EC", "OKP", "AKP"]


class Algorithm(NamedTuple):
    """One JWS algorithm: what key it needs and how it signs.

    ``crv`` is the EC curve, the OKP curve (``None`` for the polymorphic ``EdDSA``), or the
    ML-DSA parameter set. ``min_size`` is in bytes for HMAC secrets and in bits for RSA moduli.
    ``sig_size`` is the exact JWS signature length where the algorithm fixes one (ECDSA R||S).
    """

    name: str
    family: Family
    kty: str
    hash: str | None = None
    crv: str | None = None
    min_size: int = 0
    sig_size: int = 0

    @property
    def curves(self) -> tuple[str, ...]:
        """Curves (or parameter sets) a key may have to be used with this algorithm."""
        if self.crv is not None:
            return (self.crv,)
        return ("Ed25519", "Ed448") if self.family == "OKP" else ()


def _table(*algs: Algorithm) -> dict[str, Algorithm]:
    return {a.name: a for a in algs}


ALGORITHMS: dict[str, Algorithm] = _table(
    Algorithm("HS256", "HMAC", "oct", "sha256", min_size=32),
    Algorithm("HS384", "HMAC", "oct", "sha384", min_size=48),
    Algorithm("HS512", "HMAC", "oct", "sha512", min_size=64),
    Algorithm("RS256", "RSA", "RSA", "sha256", min_size=2048),
    Algorithm("RS384", "RSA", "RSA", "sha384", min_size=2048),
    Algorithm("RS512", "RSA", "RSA", "sha512", min_size=2048),
    Algorithm("PS256", "PSS", "RSA", "sha256", min_size=2048),
    Algorithm("PS384", "PSS", "RSA", "sha384", min_size=2048),
    Algorithm("PS512", "PSS", "RSA", "sha512", min_size=2048),
    Algorithm("ES256", "EC", "EC", "sha256", crv="P-256", sig_size=64),
    Algorithm("ES384", "EC", "EC", "sha384", crv="P-384", sig_size=96),
    Algorithm("ES512", "EC", "EC", "sha512", crv="P-521", sig_size=132),
    Algorithm("ES256K", "EC", "EC", "sha256", crv="secp256k1", sig_size=64),
    Algorithm("EdDSA", "OKP", "OKP"),
    Algorithm("Ed25519", "OKP", "OKP", crv="Ed25519"),
    Algorithm("Ed448", "OKP", "OKP", crv="Ed448"),
    Algorithm("ML-DSA-44", "AKP", "AKP", crv="ML-DSA-44"),
    Algorithm("ML-DSA-65", "AKP", "AKP", crv="ML-DSA-65"),
    Algorithm("ML-DSA-87", "AKP", "AKP", crv="ML-DSA-87"),
)


# The algorithms whose verification key can be published (every one but HMAC): what a key
# manager may sign with and a JWKS may carry.
ASYMMETRIC_ALGORITHMS: frozenset[str] = frozenset(
    name for name, alg in ALGORITHMS.items() if alg.family != "HMAC"
)


def get_algorithm(name: object) -> Algorithm:
    """Return the table entry for ``name``.

    Raises:
        UnsupportedAlgorithmError: ``name`` is not an algorithm jwtkit implements (``none``
            included, in any casing).
    """
    alg = ALGORITHMS.get(name) if isinstance(name, str) else None
    if alg is None:
        shown = name if isinstance(name, str) and len(name) <= 32 else type(name).__name__
        raise UnsupportedAlgorithmError(f"unsupported algorithm {shown!r}")
    return alg
