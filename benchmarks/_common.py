"""Shared inputs for every benchmarked library: the cases, the keys, the claims, the checks.

Every library signs the same claims and verifies the same token with the same key material,
so the only thing that differs between two cells of one row is the library's own code.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, mldsa, rsa

__all__ = [
    "AUDIENCE",
    "CASES",
    "HEADLINE",
    "ISSUER",
    "KID",
    "QUICK_CASES",
    "Case",
    "Material",
    "Ops",
    "Unsupported",
    "base_claims",
    "full_claims",
    "make_materials",
]

ISSUER = "https://issuer.example.com"
AUDIENCE = "api://orders"
KID = "bench-key-1"
LIFETIME = 3600


class Unsupported(Exception):  # noqa: N818  (a signal, not an error)
    """A library cannot run this case (missing package, algorithm or feature); says why."""


@dataclass(frozen=True, slots=True)
class Case:
    """One benchmark row: a label, the JWS ``alg`` in the header and the key kind it needs."""

    label: str
    alg: str
    key: str  # "oct-32", "rsa-2048", "ec-P-256", "okp-Ed25519", "mldsa-44", ...


CASES: tuple[Case, ...] = (
    Case("HS256", "HS256", "oct-32"),
    Case("HS384", "HS384", "oct-48"),
    Case("HS512", "HS512", "oct-64"),
    Case("RS256", "RS256", "rsa-2048"),
    Case("RS512", "RS512", "rsa-2048"),
    Case("PS256", "PS256", "rsa-2048"),
    Case("PS384", "PS384", "rsa-2048"),
    Case("ES256", "ES256", "ec-P-256"),
    Case("ES384", "ES384", "ec-P-384"),
    Case("ES512", "ES512", "ec-P-521"),
    Case("ES256K", "ES256K", "ec-secp256k1"),
    Case("EdDSA", "EdDSA", "okp-Ed25519"),
    # The polymorphic EdDSA name with an Ed448 key: the one spelling every peer understands.
    Case("EdDSA-Ed448", "EdDSA", "okp-Ed448"),
    Case("ML-DSA-44", "ML-DSA-44", "mldsa-44"),
    Case("ML-DSA-65", "ML-DSA-65", "mldsa-65"),
    Case("ML-DSA-87", "ML-DSA-87", "mldsa-87"),
)
HEADLINE = ("HS256", "RS256", "PS256", "ES256", "EdDSA")
QUICK_CASES = ("HS256", "RS256", "ES256", "EdDSA")


@dataclass(frozen=True, slots=True)
class Material:
    """The key for one case in every form a library may want, made once per run.

    ``private``/``public`` are ``cryptography`` key objects (HMAC: the secret bytes in both);
    the PEM forms are what most applications load from disk.
    """

    case: Case
    private: Any
    public: Any
    private_pem: bytes = b""
    public_pem: bytes = b""

    @property
    def alg(self) -> str:
        """The JWS ``alg`` of this case."""
        return self.case.alg

    @property
    def is_hmac(self) -> bool:
        """True for a shared-secret (HS*) case."""
        return self.case.key.startswith("oct-")


_CURVES: dict[str, Callable[[], ec.EllipticCurve]] = {
    "P-256": ec.SECP256R1,
    "P-384": ec.SECP384R1,
    "P-521": ec.SECP521R1,
    "secp256k1": ec.SECP256K1,
}
_MLDSA: dict[str, Any] = {
    "44": mldsa.MLDSA44PrivateKey,
    "65": mldsa.MLDSA65PrivateKey,
    "87": mldsa.MLDSA87PrivateKey,
}


def _generate(kind: str, cache: dict[str, Any]) -> Any:
    if kind in cache:
        return cache[kind]
    family, _, param = kind.partition("-")
    key: Any
    if family == "oct":
        key = os.urandom(int(param))
    elif family == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=int(param))
    elif family == "ec":
        key = ec.generate_private_key(_CURVES[param]())
    elif family == "okp":
        key = (
            ed25519.Ed25519PrivateKey if param == "Ed25519" else ed448.Ed448PrivateKey
        ).generate()
    elif family == "mldsa":
        key = _MLDSA[param].generate()
    else:
        raise ValueError(f"unknown key kind {kind!r}")
    cache[kind] = key
    return key


def make_materials(cases: tuple[Case, ...]) -> dict[str, Material]:
    """Generate one key per key kind (RS256 and PS256 share the RSA key) for ``cases``."""
    cache: dict[str, Any] = {}
    out: dict[str, Material] = {}
    for case in cases:
        private = _generate(case.key, cache)
        if isinstance(private, bytes):
            out[case.label] = Material(case, private, private)
            continue
        public = private.public_key()
        private_pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        public_pem = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        out[case.label] = Material(case, private, public, private_pem, public_pem)
    return out


def base_claims() -> dict[str, Any]:
    """Claims a caller supplies when a ``Signer`` adds ``iss``, ``aud``, ``iat`` and ``exp``."""
    return {"sub": "user-1234", "client_id": "bench-client", "scope": "orders:read orders:write"}


def full_claims(now: int | None = None, **overrides: Any) -> dict[str, Any]:
    """The complete claim set every token in the benchmark carries (overridable for checks)."""
    now = int(time.time()) if now is None else now
    claims = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + LIFETIME, **base_claims()}
    for name, value in overrides.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


@dataclass(slots=True)
class Ops:
    """One library prepared for one case: keys loaded once, then per-token callables.

    ``sign(claims) -> token`` and ``verify(token) -> claims``, where verify validates the
    signature, ``exp``, ``iss`` and ``aud`` and allows only the case's algorithm.
    ``sign_claims`` is what the runner passes to ``sign`` (a ``Signer`` gets the claims it does
    not add itself, so every library produces the same claim set). Either callable may be
    ``None`` when the library only measures one operation.
    """

    sign: Callable[[dict[str, Any]], str] | None
    verify: Callable[[str], dict[str, Any]] | None
    sign_claims: dict[str, Any] = field(default_factory=full_claims)
    note: str = ""
