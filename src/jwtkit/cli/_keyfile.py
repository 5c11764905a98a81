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

TYPE_CHECKING = False
if TYPE_CHECKING:
    from jwtkit.cli._command import Parser
    from jwtkit.cli.env import Env

__all__ = ["REFUSAL", "add_key_options", "load_key_material"]

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


def _pem(text: str, binding: _Binding) -> Key:
    password = None
    if "-----BEGIN ENCRYPTED PRIVATE KEY-----" in text or "Proc-Type: 4,ENCRYPTED" in text:
        password = read_password(
            binding.env, "key passphrase", from_stdin=binding.passphrase_stdin, confirm=False
        )
    key = Key.from_pem(text, alg=binding.alg, password=password)
    if binding.for_verify:
        # A PEM key has no kid, so it may verify a token whatever kid the token names.
        return key
    # Signing: name the key by its RFC 7638 thumbprint, as keygen does by default.
    return key.with_kid(key.thumbprint())


def _secret(data: bytes, text: str | None, binding: _Binding) -> Key:
    # A text file loses its trailing newline only; binary secrets are used as they are.
    secret = text.rstrip("\r\n").encode() if text is not None and "\0" not in text else data
    alg = binding.alg or binding.secret_alg
    key = Key.from_secret(secret, alg=alg or "HS256")
    # Verifying without --alg: allow every HS* the secret is long enough for.
    return key.with_alg(None) if alg is None and binding.alg is None else key


def _parse(data: bytes, origin: str, binding: _Binding) -> Key | KeySet:
    try:
        text: str | None = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    stripped = text.strip() if text is not None else ""
    if stripped.startswith("{"):
        try:
            obj = json.loads(stripped)
        except ValueError as exc:
            raise CLIError(f"key from {origin} is not valid JSON", ExitStatus.KEY_ERROR) from exc
        if isinstance(obj, dict) and "keys" in obj:
            return KeySet.from_jwks(obj)
        key = Key.from_jwk(obj)
        return key.with_alg(binding.alg) if binding.alg and key.alg is None else key
    if stripped.startswith("-----BEGIN"):
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
) -> Key | KeySet:
    """Return the key (or key set) named by ``--key``/``--key-env``.

    For signing, ``alg`` binds the key to one algorithm. For verifying (``for_verify``), only
    a raw HMAC secret is bound (to ``secret_alg``, or left open to every HS* it is long enough
    for); other keys stay unbound so that a disallowed ``alg`` is reported as such. An
    encrypted PEM key asks for its passphrase (hidden prompt, or stdin with
    ``passphrase_stdin``). Raises CLIError (KEY_ERROR) naming where the key came from when it
    cannot be used.
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
    )
    try:
        return _parse(data, origin, binding)
    except JWTError as exc:
        raise CLIError(f"unusable key from {origin}: {exc}", ExitStatus.KEY_ERROR) from exc
