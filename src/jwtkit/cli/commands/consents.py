"""``jwtkit user consents USER``: list what a user allowed which applications, and withdraw it.

A thin adapter over ``Accounts.list_consents`` / ``Accounts.revoke_consent``: withdrawing a
consent makes the next login through that application ask again and ends its sessions of the
user now (refresh tokens and the access tokens issued under them).
"""

from __future__ import annotations

from argparse import Namespace

from jwtkit.cli._command import Command, Parser, UsageError
from jwtkit.cli._io import emit_json, note, use_color
from jwtkit.cli._render import render_table
from jwtkit.cli.commands.accounts import _accounts, _overrides, _when
from jwtkit.cli.env import Env

__all__ = ["USER_CONSENTS"]


def _arguments(parser: Parser) -> None:
    parser.argument("username", "USERNAME")
    parser.option(
        "--revoke",
        metavar="CLIENT_ID",
        help="Withdraw the consent to CLIENT_ID (its sessions of the user end now).",
    )
    parser.flag("--revoke-all", help="Withdraw the consents to every application.")
    parser.flag("--json", dest="as_json", help="Print JSON.")
    _overrides(parser)


def _run(args: Namespace, env: Env) -> None:
    if args.revoke and args.revoke_all:
        raise UsageError("--revoke and --revoke-all contradict each other", "jwtkit user consents")
    with _accounts(args) as accounts:
        if args.revoke or args.revoke_all:
            consents, sessions = accounts.revoke_consent(args.username, args.revoke)
            which = repr(args.revoke) if args.revoke else "every application"
            note(
                env,
                f"withdrew {consents} consent(s) of {args.username!r} to {which}; "
                f"{sessions} session(s) revoked",
            )
            emit_json(
                env,
                {"username": args.username, "consents_revoked": consents,
                 "sessions_revoked": sessions},
            )  # fmt: skip
            return
        found = accounts.list_consents(args.username)
    if args.as_json:
        emit_json(
            env,
            [
                {
                    "client_id": c.client_id,
                    "scopes": list(c.scope),
                    "resources": list(c.resources),
                    "granted_at": c.granted_at.isoformat(timespec="seconds"),
                }
                for c in found
            ],
        )
        return
    rows = [
        [c.client_id, " ".join(c.scope) or "-", " ".join(c.resources) or "-", _when(c.granted_at)]
        for c in found
    ]
    columns = ["client_id", "scopes", "resources", "granted"]
    title = f"Consents of {args.username}"
    render_table(env, columns, rows, color=use_color(args, env), title=title)


USER_CONSENTS = Command(
    "consents",
    usage="[OPTIONS] USERNAME",
    help="List what USERNAME allowed which applications; --revoke withdraws it.",
    epilog="Examples:\n  jwtkit user consents alice\n"
    "  jwtkit user consents alice --revoke spa      # asks again; ends spa's sessions of alice\n"
    "  jwtkit user consents alice --revoke-all --json",
    arguments=_arguments,
    run=_run,
)
