"""Seed corpora made at run time from jwtkit's own keys and tokens, for every key type.

``Material`` holds one fresh key per algorithm family and curve (HS256/384/512, RSA for RS*
and PS*, P-256/384/521, secp256k1, Ed25519, Ed448, ML-DSA-44/65/87). The parent process
makes it once and saves it (private JWKs, a throwaway set) beside the corpora, so every
worker trusts the keys that signed its seed tokens. ``seeds(name, material)`` gives each
target's seeds, in the input format that target reads (see ``fuzz._targets``).
"""

from __future__ import annotations

import base64
import datetime
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization as ser
from cryptography.x509.oid import NameOID

from jwtkit import Key, KeySet, encode

__all__ = ["ASYMMETRIC", "HMAC", "ISSUER", "NOW", "PASSWORD", "Material", "seeds"]

HMAC = ("HS256", "HS384", "HS512")
ASYMMETRIC = (
    "RS256", "PS256", "ES256", "ES384", "ES512", "ES256K", "EdDSA", "Ed448",
    "ML-DSA-44", "ML-DSA-65", "ML-DSA-87",
)  # fmt: skip
NOW = 1_700_000_000
ISSUER, AUDIENCE = "https://id.example", "api"
PASSWORD = b"fuzz-password"
CLAIMS = {
    "iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": NOW, "nbf": NOW,
    "exp": 4_000_000_000, "jti": "j1", "scope": "read write",
}  # fmt: skip


@dataclass(frozen=True)
class Material:
    """One private key per algorithm, ``kid`` = algorithm name."""

    keys: dict[str, Key]

    @classmethod
    def generate(cls) -> Material:
        rsa = Key.generate("RS256", kid="RS256")
        keys = {"RS256": rsa, "PS256": rsa.with_alg("PS256").with_kid("PS256")}
        for alg in (*HMAC, *ASYMMETRIC):
            if alg not in keys:
                keys[alg] = Key.generate(alg, kid=alg)
        return cls(keys)

    def save(self, path: Path) -> None:
        """Write the keys as private JWKs (mode 0600: they sign tokens the workers trust)."""
        data = json.dumps([key.to_jwk(private=True) for key in self.keys.values()])
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(data)

    @classmethod
    def load(cls, path: Path) -> Material:
        jwks = json.loads(path.read_text())
        return cls({jwk["kid"]: Key.from_jwk(jwk) for jwk in jwks})

    def hmac_set(self) -> KeySet:
        return KeySet([self.keys[alg] for alg in HMAC])

    def public_set(self) -> KeySet:
        return KeySet([self.keys[alg].public() for alg in ASYMMETRIC])


def _tokens(m: Material) -> list[bytes]:
    out = []
    for alg, key in m.keys.items():
        out.append(encode(CLAIMS, key, alg=alg).encode())
        out.append(encode({"exp": NOW + 60}, key.with_kid(None), alg=alg).encode())
    return out


def _signed_parts(m: Material) -> list[bytes]:
    """Header and payload JSON that the verify target signs itself (modes 1 and 2)."""
    headers = [{"alg": "HS256", "kid": "HS256", "typ": "JWT"}, {"alg": "EdDSA", "kid": "EdDSA"}]
    claims = [CLAIMS, {"exp": NOW + 60, "iat": NOW}, {"exp": NOW, "aud": [AUDIENCE, "x"]}]
    return [
        json.dumps(h, separators=(",", ":")).encode()
        + b"\n"
        + json.dumps(c, separators=(",", ":")).encode()
        for h in headers
        for c in claims
    ]


def _jwks(m: Material) -> list[bytes]:
    """Small sets (one key type each, public and private), a mixed set with members that must
    be skipped, every public key at once, and the HMAC keys."""
    docs: list[dict[str, object]] = []
    for alg in ASYMMETRIC:
        key = m.keys[alg]
        docs.append({"keys": [key.public().to_jwk()]})
        if alg not in ("RS256", "PS256"):  # one RSA private key below is enough (slow check)
            docs.append({"keys": [key.to_jwk(private=True)]})
    rsa = m.keys["RS256"]
    skipped = [
        {**rsa.public().to_jwk(), "use": "enc", "alg": "RSA-OAEP"},
        {"kty": "OKP", "crv": "X25519", "x": "3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08"},
        {"kty": "EC", "crv": "P-256", "key_ops": ["encrypt"], **m.keys["ES256"].public().to_jwk()},
    ]
    docs += [
        {"keys": [rsa.to_jwk(private=True)]},
        {"keys": [*skipped, m.keys["EdDSA"].public().to_jwk()]},
        m.public_set().to_jwks(),
        m.hmac_set().to_jwks(private=True),
        {"keys": []},
    ]
    return [json.dumps(doc).encode() for doc in docs]


def _jwk(m: Material) -> list[bytes]:
    out = []
    for key in m.keys.values():
        out.append(json.dumps(key.to_jwk(private=True)).encode())
        if key.kty != "oct":
            out.append(json.dumps(key.public().to_jwk()).encode())
    rsa = m.keys["RS256"].to_jwk(private=True)
    out.append(json.dumps({name: rsa[name] for name in ("kty", "n", "e", "d")}).encode())
    return out


def _certificate(key: Key) -> bytes:
    """A self-signed certificate for ``key`` (RSA, EC, EdDSA)."""
    private: Any = ser.load_pem_private_key(key.to_pem(private=True), None)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jwtkit fuzz")])
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=3650))
    )
    digest = None if key.kty == "OKP" else hashes.SHA256()
    cert = builder.sign(private, digest)
    return cert.public_bytes(ser.Encoding.PEM)


def _pem(m: Material) -> list[bytes]:
    out = []
    for alg in ASYMMETRIC:
        if alg == "PS256":
            continue
        key = m.keys[alg]
        out += [key.to_pem(), key.to_pem(private=True), key.to_pem(private=True, password=PASSWORD)]
        if key.kty in ("RSA", "EC"):
            private = ser.load_pem_private_key(key.to_pem(private=True), None)
            for encryption in (ser.NoEncryption(), ser.BestAvailableEncryption(PASSWORD)):
                out.append(
                    private.private_bytes(
                        ser.Encoding.PEM, ser.PrivateFormat.TraditionalOpenSSL, encryption
                    )
                )
        if key.kty in ("RSA", "EC", "OKP") and alg in ("RS256", "ES256", "EdDSA"):
            out.append(_certificate(key))
    rsa_public = ser.load_pem_public_key(m.keys["RS256"].to_pem())
    out.append(rsa_public.public_bytes(ser.Encoding.PEM, ser.PublicFormat.PKCS1))
    return out


def _secrets(m: Material) -> list[bytes]:
    out = []
    for mode, alg in enumerate(HMAC):
        secret = m.keys[alg].to_jwk(private=True)["k"]
        out.append(bytes([mode]) + base64.urlsafe_b64decode(secret + "=="))
        out.append(bytes([mode + 8]) + secret.encode())
    return out


def _key_files(m: Material) -> list[bytes]:
    """Key files of each kind: PEM (plain, encrypted, certificate), JWK, JWKS, raw secret."""
    es256, eddsa = m.keys["ES256"], m.keys["EdDSA"]
    files = [
        es256.to_pem(),
        es256.to_pem(private=True),
        eddsa.to_pem(private=True, password=PASSWORD),
        m.keys["RS256"].to_pem(),
        _certificate(eddsa),
        json.dumps(m.keys["HS256"].to_jwk(private=True)).encode(),
        json.dumps(es256.to_jwk(private=True)).encode(),
        json.dumps(m.public_set().to_jwks()).encode(),
        m.keys["HS256"].to_jwk(private=True)["k"].encode() + b"\n",
        b"x" * 40 + b"\n",
    ]
    return [bytes([mode]) + data for data in files for mode in (0, 1, 2 + 4, 3 + 8)]


_FORMS = (
    b"grant_type=client_credentials&client_id=svc&client_secret=s3cr3t&scope=read+write",
    b"grant_type=password&username=alice&password=p%40ss&scope=openid",
    b"grant_type=refresh_token&refresh_token=abc.def&refresh_token_cookie=true",
    b"token=eyJhbGciOiJIUzI1NiJ9.e30.sig&token_type_hint=access_token",
)


def _forms(m: Material) -> list[bytes]:
    types = (
        b"application/x-www-form-urlencoded",
        b"application/x-www-form-urlencoded; charset=utf-8",
    )
    return [t + b"\n" + str(len(f)).encode() + b"\n" + f for t in types for f in _FORMS]


def _basic(m: Material) -> list[bytes]:
    pairs = (b"svc:s3cr3t", b"svc%3Aa:s%2Bb", b"client:", b"\xc3\xa9:x")
    return [
        b"Basic " + base64.b64encode(pair) + b"\n" + form
        for pair in pairs
        for form in (b"grant_type=client_credentials", b"client_id=svc&scope=read")
    ]


_SEEDS: dict[str, Callable[[Material], list[bytes]]] = {
    "verify": lambda m: (
        [b"\x00" + t for t in _tokens(m)]
        + [bytes([mode]) + p for p in _signed_parts(m) for mode in (1, 2)]
    ),
    "decode_unverified": lambda m: [b"\x00" + t for t in _tokens(m)],
    "from_jwk": _jwk,
    "from_jwks": _jwks,
    "from_pem": _pem,
    "jwks_body": _jwks,
    "from_secret": _secrets,
    "cli_keyfile": _key_files,
    "server_form": _forms,
    "server_basic": _basic,
}


def seeds(name: str, material: Material) -> list[bytes]:
    """The seed inputs of target ``name``."""
    return _SEEDS[name](material)
