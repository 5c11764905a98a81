"""The ``jwtkit`` command: global options, lazy dispatch, and the one error handler.

Commands live one per module in :mod:`jwtkit.cli.commands` and are imported only when they
run, so ``jwtkit verify`` pays for argparse and the core, not for rich, the key store or the
token service. Every failure ends here as one ``error: ...`` line on stderr and an
:class:`~jwtkit.cli.status.ExitStatus`; ``--debug`` shows the traceback too.
"""

from __future__ import annotations

import argparse
import gc
import sys
from importlib import import_module

from jwtkit import __version__
from jwtkit.cli._command import Command, Group, HelpShown, Parser, UsageError
from jwtkit.cli._errors import CLIError
from jwtkit.cli.env import Env
from jwtkit.cli.status import ExitStatus

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any, NoReturn

__all__ = ["CLI", "COMMANDS", "main", "run"]

# name -> (module[:attribute, default COMMAND], one-line help). The summaries are repeated
# here so that `jwtkit --help` need not import every command; tests/cli/test_main.py
# checks that they match.
COMMANDS: Mapping[str, tuple[str, str]] = {
    "keygen": (
        "jwtkit.cli.commands.keygen",
        "Generate a new key for ALG; print it, or write it to --out with its public half.",
    ),
    "sign": (
        "jwtkit.cli.commands.sign",
        "Sign claims with a key and print the compact JWT on stdout.",
    ),
    "verify": (
        "jwtkit.cli.commands.verify",
        "Verify TOKEN; print its claims as JSON (exit 0) or why it is invalid (exit 1).",
    ),
    "inspect": (
        "jwtkit.cli.commands.inspect",
        "Decode TOKEN without verifying it: header, claims, times and security warnings.",
    ),
    "keys": (
        "jwtkit.cli.commands.keys",
        "Manage the signing-key store: create, list, rotate, revoke, publish, back up.",
    ),
    "serve": (
        "jwtkit.cli.commands.serve",
        "Run the OAuth 2.0 token service until interrupted (Ctrl-C).",
    ),
    "user": (
        "jwtkit.cli.commands.accounts:USER",
        "Manage the users who log in to the token service (login page, password grant).",
    ),
    "client": (
        "jwtkit.cli.commands.accounts:CLIENT",
        "Manage OAuth clients (applications and service accounts) of the token service.",
    ),
    "resource": (
        "jwtkit.cli.commands.resources",
        "Register the APIs access tokens may be issued for (RFC 8707 resource indicators).",
    ),
}


def _loader(target: str) -> Callable[[], Command | Group]:
    module, _, attr = target.partition(":")

    def load() -> Command | Group:
        command = getattr(import_module(module), attr or "COMMAND")
        assert isinstance(command, Command | Group)  # noqa: S101 (a programming error)
        return command

    return load


class _VersionAction(argparse.Action):
    """``--version``: print ``jwtkit X.Y.Z`` and end the run."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(
            option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0, **kwargs
        )

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        """Print the version."""
        parser.env.out(f"jwtkit {__version__}")
        raise HelpShown(0)


def _global_options(parser: Parser) -> None:
    parser.flag("--version", action=_VersionAction, help="Show the version and exit.")
    parser.flag("--debug", help="Show tracebacks as well as one-line errors.")
    parser.option(
        "--color",
        choices=["auto", "always", "never"],
        default="auto",
        help="Colour output: auto (only on a terminal, default), always or never.",
    )
    parser.flag(
        "--no-color",
        dest="color",
        action="store_const",
        const="never",
        help="Plain output (same as --color never, or NO_COLOR=1).",
    )


CLI = Group(
    "jwtkit",
    help="Create, sign, verify and inspect JSON Web Tokens; run the key store and token service.\n"
    "\n"
    "Tokens and claims are read from stdin with '-'. Machine-readable output is JSON on\n"
    "stdout; messages go to stderr. Exit status: 0 ok, 1 invalid token, 2 usage error,\n"
    "3 key error, 4 key store error, 5 service unavailable, 6 aborted, 7 file error.",
    epilog="Examples:\n  jwtkit keygen --alg ES256 --out key.json\n"
    "  jwtkit sign --key key.json --sub alice | jwtkit verify - --key key.pub.json",
    commands={name: _loader(module) for name, (module, _) in COMMANDS.items()},
    summaries={name: summary for name, (_, summary) in COMMANDS.items()},
    arguments=_global_options,
)


def _status_for(exc: BaseException) -> tuple[ExitStatus, str]:
    """Map an exception that escaped a command to an exit status and a one-line message."""
    from jwtkit.errors import (
        InvalidKeyError,
        InvalidTokenError,
        JWKSFetchError,
        JWTError,
        KeyStoreError,
        UnsupportedAlgorithmError,
    )

    if isinstance(exc, CLIError):
        return exc.status, exc.message
    if isinstance(exc, UsageError):
        return ExitStatus.USAGE_ERROR, f"{exc.message} (see '{exc.command_path} --help')"
    if isinstance(exc, KeyboardInterrupt | EOFError):
        return ExitStatus.ABORTED, "aborted"
    if isinstance(exc, InvalidTokenError):
        return ExitStatus.INVALID_TOKEN, f"invalid token: {exc}"
    if isinstance(exc, InvalidKeyError | UnsupportedAlgorithmError):
        return ExitStatus.KEY_ERROR, str(exc)
    if isinstance(exc, KeyStoreError):
        return ExitStatus.STORE_ERROR, f"key store: {exc}"
    if isinstance(exc, JWKSFetchError):
        return ExitStatus.UNAVAILABLE, f"cannot fetch the JWKS: {exc}"
    if isinstance(exc, JWTError):
        return ExitStatus.KEY_ERROR, str(exc)
    if isinstance(exc, OSError):
        where = f" {exc.filename!r}" if exc.filename else ""
        return ExitStatus.IO_ERROR, f"{exc.strerror or exc}{where}"
    return (
        ExitStatus.INTERNAL_ERROR,
        f"internal error ({type(exc).__name__}); run again with --debug for the traceback",
    )


def _debug_requested(argv: Sequence[str], env: Env) -> bool:
    """Return whether ``--debug`` comes before the command name, or JWTKIT_DEBUG is set."""
    for item in argv:
        if item == "--debug":
            return True
        if not item.startswith("-"):
            break
    return env.environ.get("JWTKIT_DEBUG", "") not in ("", "0")


def main(argv: Sequence[str] | None = None, env: Env | None = None) -> int:
    """Run ``jwtkit`` with ``argv`` (default ``sys.argv[1:]``) and return the exit status.

    ``env`` supplies the streams and environment (default: the process's). Never raises for
    user errors and never calls ``sys.exit``: :func:`run` does that.
    """
    env = Env() if env is None else env
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return CLI.dispatch(args, argparse.Namespace(), env, "jwtkit")
    except HelpShown as shown:
        return shown.status
    except (Exception, KeyboardInterrupt) as exc:
        status, message = _status_for(exc)
        if _debug_requested(args, env):
            import traceback  # lazy: only --debug shows tracebacks

            traceback.print_exception(exc, file=env.stderr)
        env.err(f"error: {message}")
        return status


def run() -> NoReturn:
    """Console-script entry point: run :func:`main` and exit with its status.

    A command runs for milliseconds (``jwtkit verify`` in a shell loop), so the cyclic
    garbage collector is off while it runs, and everything is frozen before the interpreter
    exits: otherwise the collector walks every loaded module's objects, during the imports
    and again at shutdown, which cost about a fifth of a ``verify`` run (issue 17). Objects
    are still freed by reference counting and the process's exit reclaims the rest;
    ``jwtkit serve``, the one long-running command, turns the collector back on.
    """
    gc.disable()
    status = main()
    gc.freeze()
    sys.exit(status)
