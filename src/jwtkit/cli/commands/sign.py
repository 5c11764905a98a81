"""``jwtkit sign``: build claims from options and print a signed compact JWT."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import click

from jwtkit import Key, encode
from jwtkit.cli._errors import CLIError
from jwtkit.cli._io import read_source
from jwtkit.cli._keyfile import key_options, load_key_material
from jwtkit.cli._parse import DURATION, parse_item
from jwtkit.cli.status import ExitStatus
from jwtkit.jwa import ALGORITHMS

__all__ = ["build_claims", "sign"]

DEFAULT_LIFETIME = 900


def _items(values: tuple[str, ...], option: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values:
        try:
            name, value = parse_item(item)
        except ValueError as exc:
            raise CLIError(f"{option}: {exc}") from None
        out[name] = value
    return out


def _claims_file(spec: str | None) -> dict[str, Any]:
    if spec is None:
        return {}
    data = read_source(spec, "claims file")
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


@click.command(
    epilog="\b\nExamples:\n"
    "  jwtkit sign --key es256.json --sub alice --aud api --exp 1h --claim role=admin\n"
    '  jwtkit sign --key hs.json --claim n:=42 --claim roles:=\'["a","b"]\'\n'
    '  echo \'{"sub":"bob"}\' | jwtkit sign --key-env JWT_KEY --claims -'
)
@key_options
@click.option("--alg", type=click.Choice(list(ALGORITHMS)), help="Algorithm (default: the key's).")
@click.option("--claim", "claim_items", multiple=True, metavar="K=V|K:=JSON", help="Add a claim.")
@click.option("--claims", "claims_file", metavar="FILE|-", help="JSON object of claims.")
@click.option("--sub", help="Subject (sub).")
@click.option("--iss", help="Issuer (iss).")
@click.option("--aud", multiple=True, help="Audience (aud); repeat for several.")
@click.option("--exp", type=DURATION, help="Lifetime, e.g. 15m, 1h, 7d (default 15m).")
@click.option("--no-exp", is_flag=True, help="Omit exp (the token never expires; avoid).")
@click.option("--nbf", is_flag=True, help="Set nbf (not before) to now.")
@click.option("--jti", is_flag=True, help="Add a random token ID (jti).")
@click.option("--header", "header_items", multiple=True, metavar="K=V|K:=JSON", help="Header.")
def sign(
    key_file: str | None,
    key_env: str | None,
    passphrase_stdin: bool,
    alg: str | None,
    claim_items: tuple[str, ...],
    claims_file: str | None,
    sub: str | None,
    iss: str | None,
    aud: tuple[str, ...],
    exp: int | None,
    no_exp: bool,
    nbf: bool,
    jti: bool,
    header_items: tuple[str, ...],
) -> None:
    """Sign claims with a key and print the compact JWT on stdout."""
    if [key_file, claims_file, "-" if passphrase_stdin else None].count("-") > 1:
        raise CLIError("only one of --key -, --claims - and --passphrase-stdin can read stdin")
    if exp is not None and no_exp:
        raise CLIError("--exp and --no-exp contradict each other")
    material = load_key_material(key_file, key_env, alg, passphrase_stdin=passphrase_stdin)
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
        base=_claims_file(claims_file),
        items=_items(claim_items, "--claim"),
        sub=sub,
        iss=iss,
        aud=aud,
        exp=exp,
        no_exp=no_exp,
        nbf=nbf,
        jti=jti,
        now=int(time.time()),
    )
    headers = _items(header_items, "--header")
    if "alg" in headers:
        raise CLIError("--header cannot set alg; use --alg")
    click.echo(encode(claims, material, alg=alg, headers=headers or None))
