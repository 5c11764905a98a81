"""Input and output helpers: stdin/file sources, secret files (0600), prompts, JSON, colour."""

from __future__ import annotations

import os

from jwtkit.cli._errors import CLIError
from jwtkit.cli.status import ExitStatus

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace
    from pathlib import Path
    from typing import Any

    from jwtkit.cli.env import Env

__all__ = [
    "emit_json",
    "note",
    "read_password",
    "read_source",
    "read_token",
    "use_color",
    "write_file",
]


def read_source(env: Env, spec: str, what: str) -> bytes:
    """Return the bytes of file ``spec``, or of standard input when ``spec`` is ``-``.

    Raises CLIError (IO_ERROR) naming ``what`` and the file when it cannot be read.
    """
    if spec == "-":
        return env.read_stdin()
    try:
        with open(spec, "rb") as f:  # not pathlib: this is on the start-up path of verify
            return f.read()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise CLIError(f"cannot read {what} {spec!r}: {reason}", ExitStatus.IO_ERROR) from exc


def read_token(env: Env, arg: str) -> str:
    """Return the compact token given as an argument, or read from stdin for ``-``.

    Surrounding whitespace and a leading ``Bearer`` (as copied from an HTTP header) are dropped.
    """
    raw = read_source(env, arg, "token") if arg == "-" else arg.encode()
    try:
        token = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        raise CLIError(
            "malformed token: it contains non-ASCII bytes", ExitStatus.INVALID_TOKEN
        ) from None
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    if not token:
        raise CLIError("no token given (pass it as an argument or '-' to read stdin)")
    return token


def write_file(path: Path, data: bytes, *, private: bool, force: bool = False) -> None:
    """Write ``data`` to ``path`` atomically; ``private`` files get mode 0600 from the start.

    The file is created beside its final name and renamed into place, so a reader never sees a
    half-written key and a private key is never readable by others, not even briefly.
    Raises CLIError when the file exists (unless ``force``) or cannot be written.
    """
    if path.exists() and not force:
        raise CLIError(f"{str(path)!r} already exists (use --force to overwrite)")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
        try:
            if private:
                os.fchmod(fd, 0o600)
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        reason = exc.strerror or type(exc).__name__
        raise CLIError(f"cannot write {str(path)!r}: {reason}", ExitStatus.IO_ERROR) from exc


def read_password(env: Env, what: str, *, from_stdin: bool, confirm: bool) -> str:
    """Return a password or passphrase from a hidden prompt, or one line of stdin.

    Secrets never come from argv (visible in ``ps`` and shell history). ``confirm`` asks twice
    when a new secret is being set. Raises CLIError for an empty value.
    """
    if from_stdin:
        line = env.stdin.readline()
        value = line.rstrip("\r\n")
    else:
        while True:
            value = env.read_hidden(f"{what.capitalize()}: ")
            if not confirm or env.read_hidden("Repeat for confirmation: ") == value:
                break
            env.err("Error: The two entered values do not match.")
    if not value:
        raise CLIError(f"empty {what}")
    return value


def emit_json(env: Env, data: Any) -> None:
    """Print ``data`` as indented JSON on stdout (the machine-readable channel)."""
    import json

    env.out(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def note(env: Env, message: str) -> None:
    """Print a human message on stderr, keeping stdout clean for machine output."""
    env.err(message)


def use_color(args: Namespace, env: Env) -> bool:
    """Return whether to colour stdout: ``--color``, then NO_COLOR, then whether it is a TTY."""
    choice = getattr(args, "color", "auto")
    if choice == "always":
        return True
    if choice == "never" or env.environ.get("NO_COLOR") or env.environ.get("TERM") == "dumb":
        return False
    return env.stdout.isatty()
