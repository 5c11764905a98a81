"""``jwtkit inspect``: show a token's header and claims with a reviewer's warnings, offline."""

from __future__ import annotations

import time

from jwtkit import decode_unverified
from jwtkit.cli._command import Command, moment
from jwtkit.cli._errors import CLIError
from jwtkit.cli._io import emit_json, read_token, use_color
from jwtkit.cli._render import render_report
from jwtkit.cli._report import analyze
from jwtkit.cli.status import ExitStatus
from jwtkit.errors import InvalidTokenError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from argparse import Namespace

    from jwtkit.cli._command import Parser
    from jwtkit.cli.env import Env

__all__ = ["COMMAND"]


def _arguments(parser: Parser) -> None:
    parser.argument("token_arg", "TOKEN|-")
    parser.flag("--json", dest="as_json", help="Print the report as JSON.")
    parser.option(
        "--now",
        metavar="TIME",
        type=moment,
        help="Describe times as of this moment: seconds since 1970 or an ISO 8601 date.",
    )


def _run(args: Namespace, env: Env) -> None:
    """Decode the token and print the report."""
    token = read_token(env, args.token_arg)
    try:
        header, claims = decode_unverified(token)
    except InvalidTokenError as exc:
        raise CLIError(f"malformed token: {exc}", ExitStatus.INVALID_TOKEN) from exc
    report = analyze(header, claims, time.time() if args.now is None else args.now)
    if args.now is not None:
        report = report._replace(as_of=args.now)
    if args.as_json:
        emit_json(env, report.to_json())
    else:
        render_report(env, report, color=use_color(args, env))


COMMAND = Command(
    "inspect",
    usage="[OPTIONS] TOKEN|-",
    help="Decode TOKEN without verifying it: header, claims, times and security warnings.\n"
    "\n"
    "Nothing is verified: anyone can write any claims into a token. Use 'jwtkit verify'\n"
    "to check the signature and claims.",
    epilog="Examples:\n"
    "  jwtkit inspect eyJhbGciOi...\n"
    "  pbpaste | jwtkit inspect -\n"
    '  jwtkit inspect --json "$TOKEN" | jq .warnings\n'
    '  jwtkit inspect "$TOKEN" --now 2026-01-01T09:00:00Z   (what it says at that moment)',
    arguments=_arguments,
    run=_run,
)
