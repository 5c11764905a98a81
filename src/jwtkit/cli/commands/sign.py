"""``jwtkit sign``: build claims from options and print a signed compact JWT."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from jwtkit import Key, encode
from jwtkit.cli._command import Command, duration
from jwtkit.cli._errors import CLIError
from jwtkit.cli._io import read_source
from jwtkit.cli._keyfile import add_key_options, load_key_material
from jwtkit.cli._parse import parse_item
from jwtkit.cli.status import ExitStatus
from jwtkit.jwa import ALGORITHMS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace

    from jwtkit.cli._command import Parser
    from jwtkit.cli.env import Env

__all__ = ["COMMAND", "build_claims"]

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


def build_claims(
    *,
    base: dict[str, Any],
    items: dict[str, Any],
    sub: str | None,
    iss: str | None,
    aud: tuple[str, ...],
    exp: int | None,
    no_exp: bool,
    nbf: bool,
    jti: bool,
    now: int,
) -> dict[str, Any]:
    """Merge the claims file, ``--claim`` items and the registered-claim options, in that order.

    ``iat`` is set unless given; ``exp`` defaults to 15 minutes unless given or ``--no-exp``.
    """
    claims = {**base, **items}
    for name, value in (("sub", sub), ("iss", iss)):
        if value is not None:
            claims[name] = value
    if aud:
        claims["aud"] = aud[0] if len(aud) == 1 else list(aud)
    claims.setdefault("iat", now)
    if no_exp:
        claims.pop("exp", None)
    elif exp is not None:
        claims["exp"] = now + exp
    else:
        claims.setdefault("exp", now + DEFAULT_LIFETIME)
    if nbf:
        claims["nbf"] = now
    if jti:
        claims["jti"] = secrets.token_urlsafe(16)
    return claims


def _arguments(parser: Parser) -> None:
    add_key_options(parser)
    parser.option("--alg", choices=list(ALGORITHMS), help="Algorithm (default: the key's).")
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


def _run(args: Namespace, env: Env) -> None:
    """Sign the claims the options describe and print the token."""
    key_file, alg, claims_file = args.key_file, args.alg, args.claims_file
    if [key_file, claims_file, "-" if args.passphrase_stdin else None].count("-") > 1:
        raise CLIError("only one of --key -, --claims - and --passphrase-stdin can read stdin")
    if args.exp is not None and args.no_exp:
        raise CLIError("--exp and --no-exp contradict each other")
    material = load_key_material(
        env, key_file, args.key_env, alg, passphrase_stdin=args.passphrase_stdin
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
        if len(fits) == 1:
            material = material.with_alg(fits[0])
        elif material.kty != "OKP":
            choices = ", ".join(fits)
            raise CLIError(
                f"the key does not record its algorithm; choose one with --alg ({choices})"
            )
    claims = build_claims(
        base=_claims_file(env, claims_file),
        items=_items(args.claim_items, "--claim"),
        sub=args.sub,
        iss=args.iss,
        aud=tuple(args.aud),
        exp=args.exp,
        no_exp=args.no_exp,
        nbf=args.nbf,
        jti=args.jti,
        now=int(time.time()),
    )
    headers = _items(args.header_items, "--header")
    if "alg" in headers:
        raise CLIError("--header cannot set alg; use --alg")
    env.out(encode(claims, material, alg=alg, headers=headers or None))


COMMAND = Command(
    "sign",
    help="Sign claims with a key and print the compact JWT on stdout.",
    epilog="Examples:\n"
    "  jwtkit sign --key es256.json --sub alice --aud api --exp 1h --claim role=admin\n"
    '  jwtkit sign --key hs.json --claim n:=42 --claim roles:=\'["a","b"]\'\n'
    '  echo \'{"sub":"bob"}\' | jwtkit sign --key-env JWT_KEY --claims -',
    arguments=_arguments,
    run=_run,
)
