"""``jwtkit inspect``: show a token's header and claims with a reviewer's warnings, offline."""

from __future__ import annotations

import time

import click

from jwtkit import decode_unverified
from jwtkit.cli._errors import CLIError
from jwtkit.cli._io import emit_json, read_token, use_color
from jwtkit.cli._render import render_report
from jwtkit.cli._report import analyze
from jwtkit.cli.status import ExitStatus
from jwtkit.errors import InvalidTokenError

__all__ = ["inspect"]


@click.command(
    epilog="\b\nExamples:\n"
    "  jwtkit inspect eyJhbGciOi...\n"
    "  pbpaste | jwtkit inspect -\n"
    '  jwtkit inspect --json "$TOKEN" | jq .warnings'
)
@click.argument("token_arg", metavar="TOKEN|-")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def inspect(ctx: click.Context, token_arg: str, as_json: bool) -> None:
    """Decode TOKEN without verifying it: header, claims, times and security warnings.

    Nothing is verified: anyone can write any claims into a token. Use 'jwtkit verify'
    to check the signature and claims.
    """
    token = read_token(token_arg)
    try:
        header, claims = decode_unverified(token)
    except InvalidTokenError as exc:
        raise CLIError(f"malformed token: {exc}", ExitStatus.INVALID_TOKEN) from exc
    report = analyze(header, claims, time.time())
    if as_json:
        emit_json(report.to_json())
    else:
        render_report(report, color=use_color(ctx))
