"""``jwtkit sign``: build claims from options and print a signed compact JWT."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from jwtkit import Key, encode
from jwtkit.cli._command import Command, duration, file_path
from jwtkit.cli._errors import CLIError
from jwtkit.cli._io import read_source
from jwtkit.cli._keyfile import add_key_options, load_key_material, weak_secret_error
from jwtkit.cli._parse import format_duration, parse_item
from jwtkit.cli.status import ExitStatus
from jwtkit.jwa import ALGORITHMS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace

    from jwtkit.cli._command import Parser
    from jwtkit.cli.env import Env

__all__ = ["COMMAND", "subject_claims", "time_claims"]

DEFAULT_LIFETIME = 900


def _items(values: list[str], option: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values:
        try:
            name, value = parse_item(item)
        except ValueError as exc:
            raise CLIError(f"{option}: {exc}") from None
        out[name] = value
    return out


def _claims_file(env: Env, spec: str | None) -> dict[str, Any]:
    if spec is None:
        return {}
    data = read_source(env, spec, "claims file")
    try:
        claims = json.loads(data)
    except ValueError as exc:
        raise CLIError(f"--claims: not valid JSON ({exc})") from None
    if not isinstance(claims, dict):
        raise CLIError("--claims: the JSON must be an object")
    return claims


def subject_claims(args: Namespace, base: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` (claims file, then ``--claim`` items) with --sub, --iss and --aud."""
    claims = dict(base)
    for name, value in (("sub", args.sub), ("iss", args.iss)):
        if value is not None:
            claims[name] = value
    if args.aud:
        claims["aud"] = args.aud[0] if len(args.aud) == 1 else list(args.aud)
    return claims


def time_claims(args: Namespace, claims: dict[str, Any], now: int) -> dict[str, Any]:
    """Add ``iat`` (unless given), ``exp`` (--exp, default 15 minutes, none with --no-exp),
    and --nbf / --jti.
    """
    claims = {**claims}
    claims.setdefault("iat", now)
    if args.no_exp:
        claims.pop("exp", None)
    elif args.exp is not None:
        claims["exp"] = now + args.exp
    else:
        claims.setdefault("exp", now + DEFAULT_LIFETIME)
    if args.nbf:
        claims["nbf"] = now
    if args.jti:
        claims["jti"] = secrets.token_urlsafe(16)
    return claims


def _arguments(parser: Parser) -> None:
    add_key_options(parser)
    parser.option(
        "--alg",
        choices=list(ALGORITHMS),
        help="Algorithm (default: the key's; with --store, which of its signing algorithms).",
    )
    parser.option(
        "--claim",
        dest="claim_items",
        action="append",
        default=[],
        metavar="K=V|K:=JSON",
        help="Add a claim.",
    )
    parser.option("--claims", dest="claims_file", metavar="FILE|-", help="JSON object of claims.")
    parser.option("--sub", metavar="TEXT", help="Subject (sub).")
    parser.option("--iss", metavar="TEXT", help="Issuer (iss).")
    parser.option(
        "--aud",
        action="append",
        default=[],
        metavar="TEXT",
        help="Audience (aud); repeat for several.",
    )
    parser.option(
        "--exp", metavar="DURATION", type=duration, help="Lifetime, e.g. 15m, 1h, 7d (default 15m)."
    )
    parser.flag("--no-exp", help="Omit exp (the token never expires; avoid).")
    parser.flag("--nbf", help="Set nbf (not before) to now.")
    parser.flag("--jti", help="Add a random token ID (jti).")
    parser.option(
        "--header",
        dest="header_items",
        action="append",
        default=[],
        metavar="K=V|K:=JSON",
        help="Header.",
    )
    parser.option("--kid", metavar="TEXT", help="Key ID for the header (default: the key's).")
    parser.option(
        "--store",
        metavar="URL",
        help="Sign with the active key of this key store instead of --key (see 'jwtkit keys').",
    )
    parser.option(
        "--master-key-file",
        metavar="FILE",
        type=file_path,
        help="With --store: file holding the master key (else JWTKIT_MASTER_KEY).",
    )


def _signing_key(args: Namespace, env: Env) -> Key:
    """Return the key from --key/--key-env, bound to the algorithm it will sign with."""
    alg = args.alg
    material = load_key_material(
        env, args.key_file, args.key_env, alg, passphrase_stdin=args.passphrase_stdin
    )
    if not isinstance(material, Key):
        keys = list(material)
        if len(keys) != 1:
            raise CLIError("the key file is a JWKS with several keys; sign with a single key")
        material = keys[0]
    if not material.has_private:
        raise CLIError("this is a public key; signing needs the private key", ExitStatus.KEY_ERROR)
    if alg is None and material.alg is None:
        fits = material.algorithms()
        if material.kty == "oct":
            # The one rule for secrets (a raw secret is bound to HS256 when loaded): HS256
            # unless --alg says otherwise, whatever the secret's length.
            material = material.with_alg("HS256") if "HS256" in fits else material
        elif len(fits) == 1:
            material = material.with_alg(fits[0])
        elif material.kty != "OKP":
            choices = ", ".join(fits)
            raise CLIError(
                f"the key does not record its algorithm; choose one with --alg ({choices})"
            )
    bound = alg or material.alg or "HS256"
    if material.kty == "oct" and bound in ALGORITHMS:
        if material.size // 8 < ALGORITHMS[bound].min_size:
            raise weak_secret_error(material.size // 8, bound, verifying=False)
    return material if args.kid is None else material.with_kid(args.kid)


def _refuse_with_store(args: Namespace, claims: dict[str, Any]) -> None:
    """Refuse the options that would let a store-signed token escape the store's rules."""
    for given, option in (
        (args.key_file or args.key_env, "--key/--key-env"),
        (args.kid, "--kid"),
    ):
        if given:
            raise CLIError(f"--store signs with the store's active key: drop {option}")
    if args.no_exp or "exp" in claims:
        # The store deletes a retired key once its longest-lived tokens have expired; a token
        # that outlived its key could no longer be verified.
        raise CLIError("with --store, the lifetime comes from --exp (at most the store's limit)")


def _sign_with_store(args: Namespace, claims: dict[str, Any], headers: dict[str, Any]) -> str:
    """Sign with the key store's active key through its Signer, as the token service does.

    ``--alg`` picks which of the store's signing algorithms (default: the store's first).
    """
    from jwtkit.cli._store import open_manager

    typ = headers.pop("typ", "JWT")
    with open_manager(args.store, args.master_key_file) as manager:
        try:
            signer = manager.signer(
                lifetime=DEFAULT_LIFETIME if args.exp is None else args.exp,
                not_before=args.nbf,
                jti=args.jti,
                typ=typ,
                headers=headers or None,
                alg=args.alg,
            )
        except ValueError:
            limit = format_duration(manager.policy.max_token_lifetime.total_seconds())
            raise CLIError(
                f"--exp is longer than the key store's longest token lifetime ({limit}): a retired "
                "key is deleted after that window, and a longer-lived token would outlive it"
            ) from None
        return signer.sign(claims)


def _run(args: Namespace, env: Env) -> None:
    """Sign the claims the options describe and print the token."""
    key_file, claims_file = args.key_file, args.claims_file
    if [key_file, claims_file, "-" if args.passphrase_stdin else None].count("-") > 1:
        raise CLIError("only one of --key -, --claims - and --passphrase-stdin can read stdin")
    if args.exp is not None and args.no_exp:
        raise CLIError("--exp and --no-exp contradict each other")
    headers = _items(args.header_items, "--header")
    if "alg" in headers:
        raise CLIError("--header cannot set alg; use --alg")
    base = {**_claims_file(env, claims_file), **_items(args.claim_items, "--claim")}
    claims = subject_claims(args, base)
    if args.store is not None:
        _refuse_with_store(args, claims)
        env.out(_sign_with_store(args, claims, headers))
        return
    material = _signing_key(args, env)
    claims = time_claims(args, claims, int(time.time()))
    env.out(encode(claims, material, alg=args.alg, headers=headers or None))


COMMAND = Command(
    "sign",
    help="Sign claims with a key and print the compact JWT on stdout.",
    epilog="Examples:\n"
    "  jwtkit sign --key es256.json --sub alice --aud api --exp 1h --claim role=admin\n"
    '  jwtkit sign --key hs.json --claim n:=42 --claim roles:=\'["a","b"]\'\n'
    '  echo \'{"sub":"bob"}\' | jwtkit sign --key-env JWT_KEY --claims -\n'
    "  jwtkit sign --store sqlite:///jwtkit.db --sub alice --exp 10m   (the store's active key)\n"
    "\n"
    "A raw HMAC secret signs HS256 unless --alg chooses another; it must be at least as long\n"
    "as the hash (32 bytes for HS256).",
    arguments=_arguments,
    run=_run,
)
