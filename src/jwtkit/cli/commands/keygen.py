"""``jwtkit keygen``: generate a signing key and write it (private 0600) with its public half."""

from __future__ import annotations

import json
from argparse import Namespace
from pathlib import Path

from jwtkit import Key
from jwtkit.cli._command import Command, Parser, file_path, integer
from jwtkit.cli._errors import CLIError
from jwtkit.cli._io import emit_json, note, read_password, write_file
from jwtkit.cli._keyfile import pem_metadata
from jwtkit.cli.env import Env
from jwtkit.jwa import ALGORITHMS, get_algorithm

__all__ = ["COMMAND", "public_path"]


def public_path(private: Path) -> Path:
    """Return where the public half of ``private`` goes: ``key.pem`` -> ``key.pub.pem``."""
    suffix = private.suffix
    if suffix:
        return private.with_name(f"{private.name[: -len(suffix)]}.pub{suffix}")
    return private.with_name(f"{private.name}.pub")


def _serialize(key: Key, fmt: str, *, private: bool, password: str | None = None) -> bytes:
    if fmt == "jwk":
        return (json.dumps(key.to_jwk(private=private), indent=2) + "\n").encode()
    # A PEM block has no room for a kid or alg: they go on lines above it, which PEM readers
    # skip and jwtkit reads back, so tokens carry the kid keygen reported (issue 17).
    assert key.kid is not None and key.alg is not None  # noqa: S101 (keygen binds both)
    return pem_metadata(key.kid, key.alg) + key.to_pem(private=private, password=password)


def _arguments(parser: Parser) -> None:
    parser.option(
        "--alg",
        choices=list(ALGORITHMS),
        default="ES256",
        help="Algorithm the key is for.  [default: ES256]",
    )
    parser.option(
        "--kid",
        metavar="TEXT",
        help="Key ID (default: the RFC 7638 thumbprint); a PEM file records it above the key.",
    )
    parser.option(
        "--size",
        metavar="INTEGER",
        type=integer,
        help="Key size in bits (RSA modulus, HMAC secret).",
    )
    parser.option(
        "--format",
        dest="fmt",
        choices=["pem", "jwk"],
        help="Output format (default: pem if --out ends in .pem, else jwk, which keeps kid "
        "and alg).",
    )
    parser.option(
        "--out",
        metavar="FILE",
        type=file_path,
        help="Write the private key here (mode 0600) and the public key beside it (.pub).",
    )
    parser.flag("--encrypt", help="Encrypt the private PEM with a passphrase.")
    parser.flag("--passphrase-stdin", help="Read that passphrase from stdin.")
    parser.flag("--force", help="Overwrite existing files.")


def _run(args: Namespace, env: Env) -> None:
    """Generate the key and print or write it."""
    alg: str = args.alg
    kid: str | None = args.kid
    fmt: str | None = args.fmt
    out: Path | None = args.out
    force: bool = args.force
    passphrase_stdin: bool = args.passphrase_stdin
    encrypt: bool = args.encrypt
    symmetric = get_algorithm(alg).family == "HMAC"
    if fmt is None:
        fmt = "pem" if out is not None and out.suffix == ".pem" and not symmetric else "jwk"
    if symmetric and fmt == "pem":
        raise CLIError("HMAC secrets have no PEM form; use --format jwk")
    encrypt = encrypt or passphrase_stdin
    if encrypt and fmt != "pem":
        raise CLIError("--encrypt needs --format pem (a JWK cannot be encrypted)")
    password = None
    if encrypt:
        password = read_password(env, "passphrase", from_stdin=passphrase_stdin, confirm=True)
    key = Key.generate(alg, kid=kid, size=args.size).with_alg(alg)
    if kid is None:
        key = key.with_kid(key.thumbprint())
    private = _serialize(key, fmt, private=True, password=password)
    if out is None:
        env.stdout.write(private.decode())
        note(env, f"generated {alg} key {key.kid!r}; use --out FILE to write it with mode 0600")
        return
    targets = [out] if symmetric else [out, public_path(out)]
    for path in targets:
        if path.exists() and not force:
            raise CLIError(f"{str(path)!r} already exists (use --force to overwrite)")
    write_file(out, private, private=True, force=force)
    summary: dict[str, str | None] = {"alg": alg, "kid": key.kid, "private": str(out)}
    if symmetric:
        summary["public"] = None
        note(env, f"wrote {alg} secret {key.kid!r} to {out} (mode 0600); HMAC has no public half")
    else:
        pub = public_path(out)
        write_file(pub, _serialize(key.public(), fmt, private=False), private=False, force=force)
        summary["public"] = str(pub)
        note(
            env, f"wrote {alg} private key {key.kid!r} to {out} (mode 0600) and public key to {pub}"
        )
    emit_json(env, summary)


COMMAND = Command(
    "keygen",
    help="Generate a new key for ALG; print it, or write it to --out with its public half.\n"
    "\n"
    "Without --out the private key is printed on stdout (pipe it somewhere safe).",
    epilog="Examples:\n"
    "  jwtkit keygen --alg ES256 --out es256.json    (writes es256.json 0600, es256.pub.json)\n"
    "  jwtkit keygen --alg EdDSA --out ed.pem        (PEM: ed.pem 0600 and ed.pub.pem)\n"
    "  jwtkit keygen --alg HS256 --out hs.json       (HMAC secret as a JWK, 0600)\n"
    "  jwtkit keygen --alg RS256 --size 3072 > rsa.json",
    arguments=_arguments,
    run=_run,
)
