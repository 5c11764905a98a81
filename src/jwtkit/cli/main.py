"""The ``jwtkit`` command group, its error handling and the process entry points.

Commands live one per module in :mod:`jwtkit.cli.commands` and are imported only when they
run, so ``jwtkit verify`` pays for click and the core, not for rich, the key store or the
token service. Every failure ends here as one ``error: ...`` line on stderr and an
:class:`~jwtkit.cli.status.ExitStatus`; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from jwtkit import __version__
from jwtkit.cli._errors import CLIError
from jwtkit.cli.status import ExitStatus
from jwtkit.errors import (
    InvalidKeyError,
    InvalidTokenError,
    JWKSFetchError,
    JWTError,
    KeyStoreError,
    UnsupportedAlgorithmError,
)

__all__ = ["cli", "main", "run"]

COMMANDS = {
    "keygen": "jwtkit.cli.commands.keygen:keygen",
    "sign": "jwtkit.cli.commands.sign:sign",
    "verify": "jwtkit.cli.commands.verify:verify",
    "inspect": "jwtkit.cli.commands.inspect:inspect",
    "keys": "jwtkit.cli.commands.keys:keys",
    "serve": "jwtkit.cli.commands.serve:serve",
    "user": "jwtkit.cli.commands.accounts:user",
    "client": "jwtkit.cli.commands.accounts:client",
}


def _status_for(exc: BaseException) -> tuple[ExitStatus, str]:
    """Map an exception that escaped a command to an exit status and a one-line message."""
    if isinstance(exc, CLIError):
        return exc.status, exc.message
    if isinstance(exc, click.UsageError):
        hint = ""
        if exc.ctx is not None:
            hint = f" (see '{exc.ctx.command_path} --help')"
        return ExitStatus.USAGE_ERROR, exc.format_message() + hint
    if isinstance(exc, click.ClickException):
        return ExitStatus.USAGE_ERROR, exc.format_message()
    if isinstance(exc, click.Abort | KeyboardInterrupt | EOFError):
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


class JwtkitGroup(click.Group):
    """A click group that loads commands lazily and turns every failure into one line."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Return the command names in the order ``--help`` shows them."""
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import and return the command ``cmd_name`` (None if there is no such command)."""
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attr = target.partition(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)  # noqa: S101 (a programming error)
        return command

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the group; return (or with ``standalone_mode`` exit with) an ExitStatus.

        Unlike click's default, usage errors and every library error print as one
        ``error: ...`` line; ``--debug`` (or JWTKIT_DEBUG=1) prints the traceback before it.
        The exit status is the same either way.
        """
        debug = _debug_requested(args)
        try:
            rv = super().main(
                args, prog_name or "jwtkit", complete_var, standalone_mode=False, **extra
            )
            status = int(rv) if isinstance(rv, int) else ExitStatus.OK
        except click.exceptions.NoArgsIsHelpError as exc:
            # A bare group name ("jwtkit", "jwtkit keys") shows its help, as click does.
            exc.show()
            status = ExitStatus.USAGE_ERROR
        except Exception as exc:
            status, message = _status_for(exc)
            if debug:
                import traceback  # lazy: only --debug shows tracebacks

                traceback.print_exc(file=sys.stderr)
            click.echo(f"error: {message}", err=True)
        if standalone_mode:
            sys.exit(status)
        return status


def _debug_requested(args: Sequence[str] | None) -> bool:
    """Return whether ``--debug`` comes before the command name, or JWTKIT_DEBUG is set."""
    argv = list(sys.argv[1:] if args is None else args)
    for item in argv:
        if item == "--debug":
            return True
        if not item.startswith("-"):
            break
    return os.environ.get("JWTKIT_DEBUG", "") not in ("", "0")


def _set_color(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.meta["jwtkit.color"] = value


@click.group(
    "jwtkit",
    cls=JwtkitGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="\b\nExamples:\n  jwtkit keygen --alg ES256 --out key.json\n"
    "  jwtkit sign --key key.json --sub alice | jwtkit verify - --key key.pub.json",
)
@click.version_option(__version__, "--version", prog_name="jwtkit", message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default=None,
    callback=_set_color,
    expose_value=False,
    help="Colour output: auto (only on a terminal, default), always or never.",
)
@click.option(
    "--no-color",
    "color_off",
    flag_value="never",
    default=None,
    callback=_set_color,
    expose_value=False,
    help="Plain output (same as --color never, or NO_COLOR=1).",
)
def cli(debug: bool) -> None:
    """Create, sign, verify and inspect JSON Web Tokens; run the key store and token service.

    Tokens and claims are read from stdin with '-'. Machine-readable output is JSON on
    stdout; messages go to stderr. Exit status: 0 ok, 1 invalid token, 2 usage error,
    3 key error, 4 key store error, 5 service unavailable, 6 aborted, 7 file error.
    """


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``jwtkit`` with ``argv`` (default ``sys.argv[1:]``) and return the exit status.

    Never raises for user errors and never calls ``sys.exit``: :func:`run` does that.
    """
    return int(cli.main(argv, "jwtkit", standalone_mode=False))


def run() -> NoReturn:
    """Console-script entry point: run :func:`main` and exit with its status."""
    sys.exit(main())
