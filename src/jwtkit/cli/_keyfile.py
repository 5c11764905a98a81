"""Load keys for ``sign`` and ``verify`` from a file, stdin or an environment variable.

Secrets never come from the command line itself: argv is visible to every user of the machine
(``ps``) and lands in shell history. ``--secret`` exists only to refuse it with that reason.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any, NamedTuple

from jwtkit import Key, KeySet
from jwtkit.cli._errors import CLIError
from jwtkit.cli._io import read_password, read_source
from jwtkit.cli.status import ExitStatus
from jwtkit.errors import JWTError
from jwtkit.jwa import get_algorithm

TYPE_CHECKING = False
if TYPE_CHECKING:
    from jwtkit.cli._command import Parser
    from jwtkit.cli.env import Env

__all__ = [
    "REFUSAL",
    "add_key_options",
    "load_key_material",
    "pem_metadata",
    "read_pem_metadata",
    "weak_secret_error",
]

REFUSAL = (
    "--secret is refused: a secret on the command line is visible to other users (ps) and is "
    "kept in shell history; use --key FILE, --key - (stdin) or --key-env VAR"
)


class _RefuseSecret(argparse.Action):
    """The hidden ``--secret``: always a usage error, saying why (whatever value it has)."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        """Refuse the option as soon as it is parsed."""
        parser.error_line(REFUSAL)


def add_key_options(parser: Parser) -> None:
    """Add the key options: ``--key FILE|-``, ``--key-env VAR``, ``--passphrase-stdin``.

    ``--secret`` is hidden and always an error: secrets never go on the command line.
    """
    parser.option(
        "--key",
        dest="key_file",
        metavar="FILE|-",
        help="Key file: PEM, JWK, JWKS or a raw HMAC secret; '-' reads stdin.",
    )
    parser.option(
        "--key-env",
        metavar="VAR",
        help="Read the key (PEM, JWK or HMAC secret) from this environment variable.",
    )
    parser.flag(
        "--passphrase-stdin",
        help="Read the passphrase of an encrypted PEM key from stdin (else a hidden prompt).",
    )
    parser.add_argument("--secret", nargs="?", action=_RefuseSecret, help=argparse.SUPPRESS)


def _read_material(env: Env, key_file: str | None, key_env: str | None) -> tuple[bytes, str]:
    if key_file is not None and key_env is not None:
        raise CLIError("give the key either with --key or with --key-env, not both")
    if key_env is not None:
        value = env.environ.get(key_env)
        if not value:
            raise CLIError(f"environment variable {key_env} is not set", ExitStatus.KEY_ERROR)
        # The variable's own bytes: Python decodes the environment with surrogate escapes,
        # so a binary secret does not survive a strict UTF-8 encode (issue 19).
        return os.fsencode(value), f"${key_env}"
    if key_file is None:
        raise CLIError("no key given: use --key FILE, --key - (stdin) or --key-env VAR")
    return read_source(env, key_file, "key file"), "stdin" if key_file == "-" else repr(key_file)


class _Binding(NamedTuple):
    """How to bind a loaded key: ``alg`` binds any key (sign); ``secret_alg`` only secrets."""

    env: Env
    alg: str | None
    secret_alg: str | None
    passphrase_stdin: bool
    for_verify: bool = False
    allow_weak: bool = False


# keygen records the kid and alg of a PEM key above its PEM block. RFC 7468 §5.2 lets a file
# carry explanatory text before the encapsulation boundary and requires parsers to skip it,
# so OpenSSL and cryptography read these files as they are; jwtkit reads the two lines back.
PEM_NOTE = (
    "# jwtkit key: the kid and alg lines are RFC 7468 explanatory text; PEM readers skip them"
)
PEM_FIELDS = ("kid", "alg")


def pem_metadata(kid: str, alg: str) -> bytes:
    """Return the lines that record ``kid`` and ``alg`` above a PEM block (JSON strings)."""
    return f"{PEM_NOTE}\nkid: {json.dumps(kid)}\nalg: {json.dumps(alg)}\n".encode()


def read_pem_metadata(text: str) -> dict[str, str]:
    """Return the ``kid``/``alg`` recorded above the first PEM block of ``text`` (may be empty).

    Raises CLIError (KEY_ERROR) when such a line is there but is not a JSON string.
    """
    found: dict[str, str] = {}
    for line in text.split("-----BEGIN", 1)[0].splitlines():
        name, sep, raw = line.partition(":")
        if not sep or name.strip() not in PEM_FIELDS:
            continue
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
        if not isinstance(value, str) or not value:
            raise CLIError(
                f"the PEM file's {name.strip()!r} line is not a JSON string", ExitStatus.KEY_ERROR
            )
        found[name.strip()] = value
    return found


def _pem(text: str, binding: _Binding) -> Key:
    password = None
    if "-----BEGIN ENCRYPTED PRIVATE KEY-----" in text or "Proc-Type: 4,ENCRYPTED" in text:
        password = read_password(
            binding.env, "key passphrase", from_stdin=binding.passphrase_stdin, confirm=False
        )
    recorded = read_pem_metadata(text)
    key = Key.from_pem(text, alg=recorded.get("alg") or binding.alg, password=password)
    if "kid" in recorded:
        return key.with_kid(recorded["kid"])
    if binding.for_verify:
        # A PEM key from elsewhere has no kid, so it verifies a token whatever kid it names.
        return key
    # Signing: name the key by its RFC 7638 thumbprint, as keygen does by default.
    return key.with_kid(key.thumbprint())


def weak_secret_error(size: int, alg: str, *, verifying: bool) -> CLIError:
    """Return the error for an HMAC secret of ``size`` bytes, too short for ``alg``."""
    need = get_algorithm(alg).min_size
    message = (
        f"HMAC secret is {size} bytes but {alg} needs at least {need} (RFC 7518 §3.2); "
        f"make a strong one with 'jwtkit keygen --alg {alg} --out secret.json'"
    )
    if verifying:
        message += "; to check a token made with this short secret anyway, add --allow-weak-secret"
    return CLIError(message, ExitStatus.KEY_ERROR)


def _secret(data: bytes, text: str | None, binding: _Binding) -> Key:
    # A text file loses its trailing newline only; binary secrets are used as they are.
    secret = text.rstrip("\r\n").encode() if text is not None and "\0" not in text else data
    alg = binding.alg or binding.secret_alg
    # The one default for a raw secret: HS256, unless --alg chooses (issue 17). Only verify
    # without --alg leaves the key open to every HS* it is long enough for.
    bound = alg or "HS256"
    if get_algorithm(bound).family == "HMAC" and secret:
        if len(secret) < get_algorithm(bound).min_size and not binding.allow_weak:
            raise weak_secret_error(len(secret), bound, verifying=binding.for_verify)
    key = Key.from_secret(secret, alg=bound, allow_weak=binding.allow_weak)
    open_to_all = binding.for_verify and alg is None and not binding.allow_weak
    return key.with_alg(None) if open_to_all else key


def _parse(data: bytes, origin: str, binding: _Binding) -> Key | KeySet:
    try:
        text: str | None = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    stripped = text.strip() if text is not None else ""
    if binding.allow_weak and (stripped.startswith("{") or "-----BEGIN" in stripped):
        raise CLIError("--allow-weak-secret is for a raw HMAC secret, not a JWK or PEM key")
    if stripped.startswith("{"):
        try:
            obj = json.loads(stripped)
        except ValueError as exc:
            raise CLIError(f"key from {origin} is not valid JSON", ExitStatus.KEY_ERROR) from exc
        if isinstance(obj, dict) and "keys" in obj:
            return KeySet.from_jwks(obj)
        key = Key.from_jwk(obj)
        return key.with_alg(binding.alg) if binding.alg and key.alg is None else key
    if "-----BEGIN" in stripped:
        return _pem(stripped, binding)
    return _secret(data, text, binding)


def load_key_material(
    env: Env,
    key_file: str | None,
    key_env: str | None,
    alg: str | None,
    *,
    secret_alg: str | None = None,
    for_verify: bool = False,
    passphrase_stdin: bool = False,
    allow_weak: bool = False,
) -> Key | KeySet:
    """Return the key (or key set) named by ``--key``/``--key-env``.

    For signing, ``alg`` binds the key to one algorithm. For verifying (``for_verify``), only
    a raw HMAC secret is bound (to ``secret_alg``, or left open to every HS* it is long enough
    for); other keys stay unbound so that a disallowed ``alg`` is reported as such. An
    encrypted PEM key asks for its passphrase (hidden prompt, or stdin with
    ``passphrase_stdin``). A PEM file keeps the kid and alg that keygen recorded above it.
    ``allow_weak`` accepts a short raw secret (the core's ``allow_weak`` opt-in, which warns
    on every use). Raises CLIError (KEY_ERROR) naming where the key came from when it cannot
    be used.
    """
    if passphrase_stdin and key_file == "-":
        raise CLIError("--key - and --passphrase-stdin cannot both read stdin")
    data, origin = _read_material(env, key_file, key_env)
    binding = _Binding(
        env,
        None if for_verify else alg,
        secret_alg if for_verify else alg,
        passphrase_stdin,
        for_verify,
        allow_weak,
    )
    try:
        return _parse(data, origin, binding)
    except JWTError as exc:
        raise CLIError(f"unusable key from {origin}: {exc}", ExitStatus.KEY_ERROR) from exc
    except CLIError as exc:
        if exc.status != ExitStatus.KEY_ERROR or exc.message.startswith("key from"):
            raise
        raise CLIError(f"unusable key from {origin}: {exc.message}", exc.status) from exc
