"""``jwtkit verify``: check a token's signature and claims; say exactly why when it fails."""

from __future__ import annotations

import time
import warnings
from typing import Any

from jwtkit import Key, KeySet, Verifier, decode_unverified
from jwtkit.cli._command import Command, duration, moment
from jwtkit.cli._errors import CLIError
from jwtkit.cli._io import emit_json, note, read_source, read_token
from jwtkit.cli._keyfile import add_key_options, load_key_material
from jwtkit.cli.status import ExitStatus
from jwtkit.errors import InvalidTokenError, JWTError, SecurityWarning
from jwtkit.jwa import ALGORITHMS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace
    from collections.abc import Sequence

    from jwtkit.cli._command import Parser
    from jwtkit.cli.env import Env

__all__ = ["COMMAND"]

# JOSE header parameters people reach for with --require (RFC 7515 §4.1).
HEADER_NAMES = frozenset({"alg", "kid", "typ", "cty", "crit", "jku", "jwk", "x5u", "x5c"})


def _jwks(env: Env, spec: str) -> Any:
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
        return client
    data = read_source(env, spec, "JWKS file")
    try:
        return KeySet.from_jwks(data.decode("utf-8"))
    except (JWTError, UnicodeDecodeError) as exc:
        raise CLIError(f"unusable JWKS {spec!r}: {exc}", ExitStatus.KEY_ERROR) from exc


def _source(
    env: Env,
    key_file: str | None,
    key_env: str | None,
    jwks: str | None,
    alg: tuple[str, ...],
    passphrase_stdin: bool,
    allow_weak: bool,
) -> Any:
    """Return what to verify with: a Key, a KeySet, or a JWKS client (a KeySource)."""
    if jwks is not None:
        if key_file is not None or key_env is not None:
            raise CLIError("give either --key/--key-env or --jwks, not both")
        if allow_weak:
            raise CLIError("--allow-weak-secret is for a raw HMAC secret (--key), not --jwks")
        return _jwks(env, jwks)
    # A raw HMAC secret is bound to --alg when one is given; other keys stay unbound so that a
    # token with a disallowed alg is reported as such rather than as a key mismatch.
    return load_key_material(
        env,
        key_file,
        key_env,
        None,
        secret_alg=alg[0] if len(alg) == 1 else None,
        for_verify=True,
        passphrase_stdin=passphrase_stdin,
        allow_weak=allow_weak,
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


def _invalid(
    exc: InvalidTokenError,
    token: tuple[dict[str, Any], dict[str, Any]],
    args: Namespace,
    algorithms: Sequence[str],
    kids: Sequence[str],
    now: float,
) -> CLIError:
    """Return the CLIError that says in one line why the token was rejected."""
    from jwtkit.cli._reasons import Expectations, explain  # lazy: only failures need it

    expect = Expectations(algorithms, args.iss, args.aud, kids, args.sub, args.typ)
    return CLIError(explain(exc, *token, expect, now), ExitStatus.INVALID_TOKEN)


def _arguments(parser: Parser) -> None:
    parser.argument("token_arg", "TOKEN|-")
    add_key_options(parser)
    parser.option("--jwks", metavar="FILE|URL", help="Verify with a JWKS file or URL instead.")
    parser.option(
        "--alg", action="append", default=[], choices=list(ALGORITHMS), help="Allowed algorithm(s)."
    )
    parser.option("--iss", metavar="TEXT", help="Required issuer.")
    parser.option(
        "--aud", metavar="TEXT", help="Required audience (a token with an aud needs this)."
    )
    parser.option("--sub", metavar="TEXT", help="Required subject.")
    parser.option(
        "--leeway",
        metavar="DURATION",
        type=duration,
        default=0,
        help="Clock skew allowed, e.g. 30s.",
    )
    parser.option(
        "--max-age",
        metavar="DURATION",
        type=duration,
        help="Reject tokens issued (iat) longer ago.",
    )
    parser.option(
        "--require", action="append", default=[], metavar="CLAIM", help="Also require this claim."
    )
    parser.option(
        "--typ",
        metavar="TYPE",
        help="Required token type (header typ, e.g. at+jwt; case and 'application/' ignored).",
    )
    parser.option(
        "--now",
        metavar="TIME",
        type=moment,
        help="Check the token as of this time: seconds since 1970 or an ISO 8601 date.",
    )
    parser.flag(
        "--allow-weak-secret",
        help="Accept a raw HMAC secret shorter than the algorithm needs (legacy tokens; warns).",
    )
    parser.flag("--complete", help="Print {header, claims} instead of claims.")


def _run(args: Namespace, env: Env) -> None:
    """Verify the token; print its claims, or raise CLIError saying why it is invalid."""
    alg: tuple[str, ...] = tuple(args.alg)
    readers = [args.token_arg, args.key_file, args.jwks, "-" if args.passphrase_stdin else None]
    if readers.count("-") > 1:
        raise CLIError(
            "only one of TOKEN -, --key -, --jwks - and --passphrase-stdin can read stdin"
        )
    headers = sorted(set(args.require) & HEADER_NAMES)
    if headers:
        hint = " (use --typ TYPE to require a token type)" if "typ" in headers else ""
        raise CLIError(f"--require {headers[0]}: that is a header parameter, not a claim{hint}")
    source = _source(
        env,
        args.key_file,
        args.key_env,
        args.jwks,
        alg,
        args.passphrase_stdin,
        args.allow_weak_secret,
    )
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", SecurityWarning)
            try:
                _verify(args, env, source, alg)
            finally:
                # Every use of a weak secret says so (issue 17), as one line like the errors.
                for warning in caught:
                    note(env, f"warning: {warning.message}")
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()


def _verify(args: Namespace, env: Env, source: Any, alg: tuple[str, ...]) -> None:
    iss, aud, sub = args.iss, args.aud, args.sub
    token = read_token(env, args.token_arg)
    try:
        header, claims = decode_unverified(token)
    except InvalidTokenError as exc:
        raise CLIError(f"malformed token: {exc}", ExitStatus.INVALID_TOKEN) from exc
    try:
        keys = source if isinstance(source, Key | KeySet) else source.get_keyset(header.get("kid"))
    except InvalidTokenError as exc:
        now = time.time() if args.now is None else args.now
        raise _invalid(exc, (header, claims), args, alg, (), now) from exc
    algorithms = _algorithms(alg, keys)
    required = ("exp", *args.require)
    now = time.time() if args.now is None else args.now
    verifier = Verifier(
        source,
        algorithms=algorithms,
        issuer=iss,
        audience=aud,
        subject=sub,
        leeway=args.leeway,
        require=required,
        max_age=args.max_age,
        typ=args.typ,
    )
    try:
        header, claims = verifier.verify_complete(token, now=now)
    except InvalidTokenError as exc:
        raise _invalid(exc, (header, claims), args, algorithms, _kids(keys), now) from exc
    emit_json(env, {"header": header, "claims": claims} if args.complete else claims)
    kid = header.get("kid") or next(iter(_kids(keys)), None)
    note(env, f"valid: {header.get('alg')} signature" + (f" by key {kid!r}" if kid else ""))


COMMAND = Command(
    "verify",
    usage="[OPTIONS] TOKEN|-",
    help="Verify TOKEN; print its claims as JSON (exit 0) or why it is invalid (exit 1).",
    epilog="Examples:\n"
    '  jwtkit verify "$TOKEN" --key es256.pub.json --aud api\n'
    "  jwtkit verify - --jwks https://issuer.example/.well-known/jwks.json --alg ES256 < token\n"
    '  jwtkit verify "$TOKEN" --key-env JWT_SECRET --alg HS256 --leeway 30s\n'
    '  jwtkit verify "$AT" --jwks jwks.json --typ at+jwt --now 2026-01-01T09:00:00Z\n'
    '  jwtkit verify "$OLD" --key legacy-secret.txt --allow-weak-secret   (warns every time)',
    arguments=_arguments,
    run=_run,
)
