"""The fuzz targets: one per public parser, each with the errors its contract allows.

A target takes the fuzzer's bytes, feeds them to the parser, and lets through only the
exceptions the parser documents (``InvalidTokenError`` for verification, ``InvalidKeyError``
or ``UnsupportedAlgorithmError`` for key loaders, the CLI's ``CLIError``, the server's
``OAuthError``, the JWKS client's ``JWKSFetchError``). Anything else escapes and is a finding.
A key that loads is then used: exported, reloaded from its own JWK (same thumbprint), and made
to sign and verify, so a key that parses but cannot be used is a finding too.

Input formats (the first byte is a mode where a target has several):

* ``verify``: mode 0, a compact token; modes 1 and 2, header JSON ``\\n`` claims JSON, which the
  target signs with the HS256 (1) or Ed25519 (2) key the verifiers trust, so mutated claims
  get past the signature to the claims checks.
* ``decode_unverified``: mode 0 UTF-8 text, 1 bytes, 2 Latin-1 text; then the token.
* ``from_jwk``, ``from_jwks``, ``jwks_body``, ``from_pem``: the document itself.
* ``from_secret``: bits 0-2 pick the algorithm, bit 3 a str secret; then the secret.
* ``cli_keyfile``: bit 0 verify (else sign), bit 1 environment variable (else file), bits 2-3
  the ``--alg``; then the key file.
* ``server_form``: ``content-type \\n content-length \\n body``.
* ``server_basic``: ``Authorization header \\n form body``.
"""

from __future__ import annotations

import io
import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from fuzz._seeds import ASYMMETRIC, AUDIENCE, HMAC, ISSUER, NOW, PASSWORD, Material
from jwtkit import Key, KeySet, Verifier, decode, decode_unverified, jws
from jwtkit._b64 import b64encode
from jwtkit._jwks import parse_jwks
from jwtkit.cli._errors import CLIError
from jwtkit.cli._keyfile import load_key_material
from jwtkit.cli.env import Env
from jwtkit.errors import (
    InvalidKeyError,
    InvalidTokenError,
    JWKSFetchError,
    MalformedTokenError,
    UnsupportedAlgorithmError,
)
from jwtkit.server._errors import OAuthError
from jwtkit.server._forms import client_credentials, parse_form, read_form

__all__ = ["NAMES", "Target", "make_target"]

#: A lower KDF cap than the default for from_pem, so that mutants with a large iteration
#: count cost milliseconds, not a second each; the check itself is the same code.
FUZZ_MAX_KDF_ITERATIONS = 20_000
KEY_ERRORS = (InvalidKeyError, UnsupportedAlgorithmError)
ALL_ALGORITHMS = (*HMAC, *ASYMMETRIC)


@dataclass(frozen=True)
class Target:
    """A fuzz target: ``run`` takes one input; ``mutator`` names its structure-aware mutator."""

    name: str
    run: Callable[[bytes], None]
    mutator: str  # "bytes", "json", "pem", "token" or "keyfile"
    max_len: int


def _exercise(key: Key) -> None:
    """Use a key that loaded: export, reload, sign and verify."""
    repr(key)
    public = key if key.kty == "oct" else key.public()
    # An RSA private key costs tens of milliseconds to check on load: reload its public half.
    whole = key.kty == "oct" or (key.has_private and key.kty != "RSA")
    exported = key.to_jwk(private=True) if whole else public.to_jwk()
    if Key.from_jwk(exported).thumbprint() != key.thumbprint():
        raise AssertionError("a key reloaded from its own JWK has another thumbprint")
    if key.kty != "oct":
        Key.from_pem(public.to_pem())
    for alg in key.algorithms()[:1]:
        try:
            signature = jws.sign_bytes(alg, key, b"fuzz") if key.has_private else None
            if signature is not None:
                jws.verify_bytes(alg, public, b"fuzz", signature)
        except InvalidKeyError:
            pass  # use or key_ops forbid it: a documented refusal


def _text(data: bytes) -> str:
    # surrogateescape turns invalid UTF-8 into lone surrogates, the str inputs of F1/F2.
    return data.decode("utf-8", "surrogateescape")


def _verify(m: Material) -> Callable[[bytes], None]:
    hmac_keys, public_keys = m.hmac_set(), m.public_set()
    strict = {"issuer": ISSUER, "audience": AUDIENCE, "max_age": 3600, "leeway": 30}
    verifiers = (
        Verifier(hmac_keys, algorithms=HMAC, typ="JWT", subject="alice", **strict),  # type: ignore[arg-type]
        Verifier(hmac_keys, algorithms=HMAC, require=(), cache_size=8),
        Verifier(public_keys, algorithms=ASYMMETRIC, **strict),  # type: ignore[arg-type]
        Verifier(public_keys, algorithms=ASYMMETRIC, require=(), cache_size=8),
    )
    signers = {1: (m.keys["HS256"], "HS256"), 2: (m.keys["EdDSA"], "EdDSA")}

    def run(data: bytes) -> None:
        mode, body = (data[0] % 3, data[1:]) if data else (0, b"")
        token: str | bytes
        if mode:
            header, _, payload = body.partition(b"\n")
            key, alg = signers[mode]
            signing_input = b64encode(header) + b"." + b64encode(payload)
            token = (
                signing_input + b"." + b64encode(jws.sign_bytes(alg, key, signing_input))
            ).decode()
        else:
            token = _text(body) if len(body) % 4 else body
        nows = (None, float(NOW), NOW, NOW + 4000.5)
        for index, verifier in enumerate(verifiers):
            for now in (nows[(len(data) + index) % 4], nows[(len(data) + index + 1) % 4]):
                try:
                    verifier.verify(token, now=now)  # type: ignore[arg-type]
                except InvalidTokenError:
                    pass
        try:
            decode(token, hmac_keys, algorithms=HMAC, max_age=60, now=NOW)  # type: ignore[arg-type]
        except InvalidTokenError:
            pass

    return run


def _decode_unverified(m: Material) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        mode, body = (data[0] % 3, data[1:]) if data else (0, b"")
        token: Any = (_text(body), body, body.decode("latin-1"))[mode]
        try:
            decode_unverified(token)
        except MalformedTokenError:
            pass

    return run


def _documents(data: bytes) -> list[Any]:
    """The text of ``data``, then what a lenient parser (duplicates, NaN) makes of it.

    The second is tried only if the first fails: a caller may hand jwtkit a dict that it
    parsed itself, and the two paths agree on what the strict parser accepts.
    """
    text = _text(data)
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return [text]
    return [text, document] if isinstance(document, dict) else [text]


def _from_jwk(m: Material) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        for jwk in _documents(data):
            try:
                key = Key.from_jwk(jwk)
            except KEY_ERRORS:
                continue
            _exercise(key)
            return

    return run


def _try_keyset(keys: KeySet, tokens: list[str]) -> None:
    """Verify tokens with a key set that loaded: every failure must be a token error."""
    list(keys.kids)
    repr(keys)
    verifier = Verifier(keys, algorithms=ALL_ALGORITHMS, require=())
    for token in tokens:
        try:
            verifier.verify(token, now=NOW)
        except InvalidTokenError:
            pass


def _tokens(m: Material) -> list[str]:
    return [
        jws.sign_compact(b'{"exp":4000000000}', m.keys[alg], alg=alg)
        for alg in ("HS256", "ES256", "EdDSA")
    ]


def _from_jwks(m: Material) -> Callable[[bytes], None]:
    tokens = _tokens(m)

    def run(data: bytes) -> None:
        for jwks in _documents(data):
            try:
                keys = KeySet.from_jwks(jwks)
            except KEY_ERRORS:
                continue
            _try_keyset(keys, tokens)
            return

    return run


class _FormatOnly(logging.Handler):
    """Format every record (so a message that cannot be formatted is a finding) and drop it:
    the JWKS parser logs each skipped member, which would fill the log by the gigabyte."""

    def emit(self, record: logging.LogRecord) -> None:
        record.getMessage()


def _jwks_body(m: Material) -> Callable[[bytes], None]:
    tokens = _tokens(m)
    client_log = logging.getLogger("jwtkit.client")
    client_log.addHandler(_FormatOnly())
    client_log.propagate = False

    def run(data: bytes) -> None:
        try:
            keys = parse_jwks(data)
        except JWKSFetchError:
            return
        _try_keyset(keys, tokens)

    return run


def _from_pem(m: Material) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        password: bytes | str | None = PASSWORD if b"ENCRYPTED" in data else None
        if len(data) % 5 == 0:  # the wrong way round: no password, or one that is not needed
            password = None if password else "fuzz-password"
        pem: bytes | str = data if len(data) % 2 else data.decode("latin-1")
        try:
            key = Key.from_pem(pem, password=password, max_kdf_iterations=FUZZ_MAX_KDF_ITERATIONS)
        except KEY_ERRORS:
            return
        _exercise(key)

    return run


def _from_secret(m: Material) -> Callable[[bytes], None]:
    algs = (*HMAC, "RS256", "EdDSA", "nope", "hs256", "none")

    def run(data: bytes) -> None:
        mode, body = (data[0], data[1:]) if data else (0, b"")
        secret: bytes | str = _text(body) if mode & 8 else body
        try:
            key = Key.from_secret(secret, alg=algs[mode & 7])
        except KEY_ERRORS:
            return
        _exercise(key)

    return run


def _cli_keyfile(m: Material) -> Callable[[bytes], None]:
    path = os.path.join(tempfile.mkdtemp(prefix="jwtkit-fuzz-"), "key")
    algs = (None, "HS256", "RS256", "ES256")

    def run(data: bytes) -> None:
        mode, body = (data[0], data[1:]) if data else (0, b"")
        # The environment holds what a real process would see: bytes decoded as the
        # interpreter decodes os.environ (surrogate escapes for invalid UTF-8), never a NUL.
        use_env = bool(mode & 2) and b"\0" not in body
        if not use_env:
            with open(path, "wb") as f:
                f.write(body)
        env = Env(
            stdin=io.StringIO("fuzz-password\n"),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
            environ={"JWTKIT_FUZZ_KEY": os.fsdecode(body)} if use_env else {},
        )
        alg = algs[(mode >> 2) & 3]
        try:
            loaded = load_key_material(
                env,
                None if use_env else path,
                "JWTKIT_FUZZ_KEY" if use_env else None,
                alg,
                secret_alg=alg,
                for_verify=bool(mode & 1),
                passphrase_stdin=True,
            )
        except CLIError:
            return
        if isinstance(loaded, Key):
            _exercise(loaded)

    return run


def _request(headers: list[tuple[bytes, bytes]], body: bytes) -> Request:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {"type": "http", "method": "POST", "path": "/token", "headers": headers}
    return Request(scope, receive)


def _server_form(m: Material) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        ctype, _, rest = data.partition(b"\n")
        length, _, body = rest.partition(b"\n")
        headers = [(b"content-type", ctype)] if ctype else []
        if length:
            headers.append((b"content-length", length))
        request = _request(headers, body)
        step = read_form(request, max_size=4096)
        try:
            step.send(None)
        except StopIteration as done:
            form = done.value
        except OAuthError:
            return
        else:  # pragma: no cover - the body is all there, so nothing may wait
            step.close()
            raise AssertionError("read_form waited with the whole body available")
        try:
            client_credentials(request, form)
        except OAuthError:
            pass

    return run


def _server_basic(m: Material) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        header, _, body = data.partition(b"\n")
        try:
            form = parse_form(body)
            client_credentials(_request([(b"authorization", header)], b""), form)
        except OAuthError:
            pass

    return run


_MAKERS: dict[str, tuple[Callable[[Material], Callable[[bytes], None]], str, int]] = {
    "verify": (_verify, "token", 16384),
    "decode_unverified": (_decode_unverified, "token", 16384),
    "from_jwk": (_from_jwk, "json", 16384),
    "from_jwks": (_from_jwks, "json", 65536),
    "from_pem": (_from_pem, "pem", 16384),
    "jwks_body": (_jwks_body, "json", 65536),
    "from_secret": (_from_secret, "bytes", 4096),
    "cli_keyfile": (_cli_keyfile, "keyfile", 16384),
    "server_form": (_server_form, "bytes", 8192),
    "server_basic": (_server_basic, "bytes", 4096),
}
#: Every target, in the order a run takes them.
NAMES = tuple(_MAKERS)


def make_target(name: str, material: Material) -> Target:
    """Build target ``name`` around the keys in ``material``."""
    maker, mutator, max_len = _MAKERS[name]
    return Target(name, maker(material), mutator, max_len)
