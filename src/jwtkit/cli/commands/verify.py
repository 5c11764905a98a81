"""``jwtkit verify``: check a token's signature and claims; say exactly why when it fails."""

from __future__ import annotations

import time
from typing import Any

import click

from jwtkit import Key, KeySet, Verifier, decode_unverified
from jwtkit.cli._errors import CLIError
from jwtkit.cli._io import emit_json, note, read_source, read_token
from jwtkit.cli._keyfile import key_options, load_key_material
from jwtkit.cli._parse import DURATION
from jwtkit.cli._reasons import Expectations, explain
from jwtkit.cli.status import ExitStatus
from jwtkit.errors import InvalidTokenError, JWTError
from jwtkit.jwa import ALGORITHMS

__all__ = ["verify"]


def _jwks(ctx: click.Context, spec: str) -> Any:
    """Return a KeySet from a JWKS file, or a fetching key source for an http(s) URL."""
    if spec.startswith(("https://", "http://")):
        try:
            from jwtkit.client import JWKSClient
        except ImportError as exc:
            raise CLIError(
                f"fetching a JWKS needs jwtkit.client ({exc}); pip install 'jwtkit[client]'",
                ExitStatus.UNAVAILABLE,
            ) from exc
        try:
            client = JWKSClient(spec, allow_http_loopback=True)
        except ValueError as exc:
            raise CLIError(f"--jwks: {exc}") from None
        ctx.call_on_close(client.close)
        return client
    data = read_source(spec, "JWKS file")
    try:
        return KeySet.from_jwks(data.decode("utf-8"))
    except (JWTError, UnicodeDecodeError) as exc:
        raise CLIError(f"unusable JWKS {spec!r}: {exc}", ExitStatus.KEY_ERROR) from exc


def _source(
    key_file: str | None,
    key_env: str | None,
    jwks: str | None,
    alg: tuple[str, ...],
    passphrase_stdin: bool,
) -> Any:
    """Return what to verify with: a Key, a KeySet, or a JWKS client (a KeySource)."""
    if jwks is not None:
        if key_file is not None or key_env is not None:
            raise CLIError("give either --key/--key-env or --jwks, not both")
        return _jwks(click.get_current_context(), jwks)
    # A raw HMAC secret is bound to --alg when one is given; other keys stay unbound so that a
    # token with a disallowed alg is reported as such rather than as a key mismatch.
    return load_key_material(
        key_file,
        key_env,
        None,
        secret_alg=alg[0] if len(alg) == 1 else None,
        for_verify=True,
        passphrase_stdin=passphrase_stdin,
    )


def _algorithms(given: tuple[str, ...], keys: Key | KeySet) -> list[str]:
    if given:
        return list(given)
    # A key not bound to one algorithm (PEM) allows those its type fits: the key type already
    # rules out the dangerous substitutions (HS256 with an RSA public key as the secret).
    found = (
        keys.algorithms() if isinstance(keys, Key) else [a for k in keys for a in k.algorithms()]
    )
    algs = sorted(set(found))
    if not algs:
        raise CLIError("no usable key: give the allowed algorithm with --alg", ExitStatus.KEY_ERROR)
    return algs


def _kids(keys: Key | KeySet) -> list[str]:
    if isinstance(keys, Key):
        return [keys.kid] if keys.kid else []
    return list(keys.kids)


@click.command(
    epilog="\b\nExamples:\n"
    '  jwtkit verify "$TOKEN" --key es256.pub.json --aud api\n'
    "  jwtkit verify - --jwks https://issuer.example/.well-known/jwks.json --alg ES256 < token\n"
    '  jwtkit verify "$TOKEN" --key-env JWT_SECRET --alg HS256 --leeway 30s'
)
@click.argument("token_arg", metavar="TOKEN|-")
@key_options
@click.option("--jwks", metavar="FILE|URL", help="Verify with a JWKS file or URL instead.")
@click.option(
    "--alg", multiple=True, type=click.Choice(list(ALGORITHMS)), help="Allowed algorithm(s)."
)
@click.option("--iss", help="Required issuer.")
@click.option("--aud", help="Required audience (a token with an aud needs this).")
@click.option("--sub", help="Required subject.")
@click.option("--leeway", type=DURATION, default=0, help="Clock skew allowed, e.g. 30s.")
@click.option("--max-age", type=DURATION, help="Reject tokens issued (iat) longer ago.")
@click.option("--require", multiple=True, metavar="CLAIM", help="Also require this claim.")
@click.option("--complete", is_flag=True, help="Print {header, claims} instead of claims.")
def verify(
    token_arg: str,
    key_file: str | None,
    key_env: str | None,
    passphrase_stdin: bool,
    jwks: str | None,
    alg: tuple[str, ...],
    iss: str | None,
    aud: str | None,
    sub: str | None,
    leeway: int,
    max_age: int | None,
    require: tuple[str, ...],
    complete: bool,
) -> None:
    """Verify TOKEN; print its claims as JSON (exit 0) or why it is invalid (exit 1)."""
    readers = [token_arg, key_file, jwks, "-" if passphrase_stdin else None]
    if readers.count("-") > 1:
        raise CLIError(
            "only one of TOKEN -, --key -, --jwks - and --passphrase-stdin can read stdin"
        )
    source = _source(key_file, key_env, jwks, alg, passphrase_stdin)
    token = read_token(token_arg)
    try:
        header, claims = decode_unverified(token)
    except InvalidTokenError as exc:
        raise CLIError(f"malformed token: {exc}", ExitStatus.INVALID_TOKEN) from exc
    try:
        keys = source if isinstance(source, Key | KeySet) else source.get_keyset(header.get("kid"))
    except InvalidTokenError as exc:
        expect = Expectations(alg, iss, aud, ())
        raise CLIError(
            explain(exc, header, claims, expect, time.time()), ExitStatus.INVALID_TOKEN
        ) from exc
    algorithms = _algorithms(alg, keys)
    required = ("exp", *require)
    verifier = Verifier(
        source,
        algorithms=algorithms,
        issuer=iss,
        audience=aud,
        subject=sub,
        leeway=leeway,
        require=required,
        max_age=max_age,
    )
    now = time.time()
    try:
        header, claims = verifier.verify_complete(token, now=now)
    except InvalidTokenError as exc:
        expect = Expectations(algorithms, iss, aud, _kids(keys), sub)
        raise CLIError(explain(exc, header, claims, expect, now), ExitStatus.INVALID_TOKEN) from exc
    emit_json({"header": header, "claims": claims} if complete else claims)
    kid = header.get("kid") or next(iter(_kids(keys)), None)
    note(f"valid: {header.get('alg')} signature" + (f" by key {kid!r}" if kid else ""))
