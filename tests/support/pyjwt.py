"""Shared helpers for the jwtkit.compat.pyjwt tests: keys made once, hand-built tokens."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

FAR = 4_000_000_000
CLAIMS: dict[str, Any] = {"sub": "alice", "exp": FAR, "roles": ["a", "b"]}
SECRET = "a-shared-secret-of-at-least-32-bytes!!"
#: PyJWT 2.15's algorithms (ES521 is its spelling of ES512).
ALGORITHMS = [
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
    "ES256", "ES384", "ES512", "ES521", "ES256K", "EdDSA",
]  # fmt: skip


def b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


@functools.cache
def rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, bits)


@functools.cache
def private_key(alg: str) -> Any:
    """A ``cryptography`` private key (or the secret bytes) for ``alg``, made once."""
    if alg.startswith("HS"):
        return (SECRET * 2).encode()
    if alg[:2] in ("RS", "PS"):
        return rsa_key()
    curves: dict[str, type[ec.EllipticCurve]] = {
        "ES256": ec.SECP256R1,
        "ES384": ec.SECP384R1,
        "ES512": ec.SECP521R1,
        "ES521": ec.SECP521R1,
        "ES256K": ec.SECP256K1,
    }
    if alg in curves:
        return ec.generate_private_key(curves[alg]())
    return ed25519.Ed25519PrivateKey.generate()


def public_key(alg: str) -> Any:
    key = private_key(alg)
    return key if isinstance(key, bytes) else key.public_key()


def pem(key: Any) -> bytes:
    if hasattr(key, "private_bytes"):
        return key.private_bytes(  # type: ignore[no-any-return]
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    return key.public_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def hs256_token(header: bytes, payload: bytes, secret: bytes) -> str:
    """A token from raw header/payload JSON bytes, HMAC-signed with ``secret``."""
    signing_input = b64(header) + b"." + b64(payload)
    signature = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + b64(signature)).decode()


def claims_json(claims: dict[str, Any] | None = None) -> bytes:
    return json.dumps(CLAIMS if claims is None else claims).encode()


class JWKSServer:
    """A real loopback HTTP server answering every GET with ``body`` (or a redirect), and
    counting the requests it received."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        owner = self
        self.body = b'{"keys": []}'
        self.status = 200
        self.location = ""
        self.requests = 0

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests += 1
                self.send_response(owner.status)
                if owner.location:
                    self.send_header("Location", owner.location)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                self.wfile.write(owner.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/.well-known/jwks.json"

    def serve(self, jwks: dict[str, Any]) -> None:
        self.body = json.dumps(jwks).encode()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
