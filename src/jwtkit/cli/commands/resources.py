"""``jwtkit resource``: register the APIs access tokens may be issued for (RFC 8707).

Each command is a thin adapter over :class:`jwtkit.server.Resources`. A client asks
for a token for a resource with the ``resource`` parameter at ``/authorize`` and ``/token``;
the token's ``aud`` is then the resource's URI.
"""

from __future__ import annotations

from argparse import Namespace
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from jwtkit.cli._command import Command, Group, Parser
from jwtkit.cli._errors import CLIError
from jwtkit.cli._io import emit_json, note, use_color
from jwtkit.cli._render import render_table
from jwtkit.cli._store import add_store_options, add_store_overrides, store_params
from jwtkit.cli.commands.accounts import _when, load_server
from jwtkit.cli.env import Env
from jwtkit.cli.status import ExitStatus

if TYPE_CHECKING:
    from jwtkit.server import Resources

__all__ = ["COMMAND"]


@contextmanager
def _resources(args: Namespace) -> Iterator[Resources]:
    server = load_server()
    from jwtkit.server import Resources

    resources = Resources.open(store_params(args)[0])
    try:
        yield resources
    except server.AccountError as exc:
        raise CLIError(str(exc), ExitStatus.STORE_ERROR) from exc
    finally:
        resources.close()


def _json(r: Any) -> dict[str, Any]:
    return {
        "uri": r.uri,
        "scopes": [{"scope": s, "description": r.descriptions.get(s)} for s in r.scopes],
    }


def _group_options(parser: Parser) -> None:
    add_store_options(
        parser, master_key=False, store_help="Store of the token service (env JWTKIT_STORE)."
    )


def _add_arguments(parser: Parser) -> None:
    parser.argument("uri", "URI")
    parser.option(
        "--scope",
        dest="scopes",
        action="append",
        default=[],
        metavar="TEXT",
        help="Scope the resource understands (repeatable); tokens for it carry only these.",
    )
    parser.option(
        "--describe",
        dest="descriptions",
        action="append",
        default=[],
        nargs=2,
        metavar=("SCOPE", "TEXT"),
        help="What the consent page says for SCOPE, e.g. --describe invoices:read "
        "'Read your invoices' (repeatable).",
    )
    add_store_overrides(parser, master_key=False)


def _add(args: Namespace, env: Env) -> None:
    descriptions = dict(args.descriptions)
    with _resources(args) as resources:
        info = resources.add(args.uri, tuple(args.scopes), descriptions=descriptions)
    note(env, f"registered resource {info.uri!r}")
    emit_json(env, _json(info))


def _list_arguments(parser: Parser) -> None:
    parser.flag("--json", dest="as_json", help="Print JSON.")
    add_store_overrides(parser, master_key=False)


def _list(args: Namespace, env: Env) -> None:
    with _resources(args) as resources:
        found = resources.all()
    if args.as_json:
        emit_json(env, [_json(r) for r in found])
        return
    rows = [[r.uri, " ".join(r.scopes) or "-", _when(r.created_at)] for r in found]
    render_table(
        env, ["uri", "scopes", "created"], rows, color=use_color(args, env), title="Resources"
    )


def _remove_arguments(parser: Parser) -> None:
    parser.argument("uri", "URI")
    parser.flag("--yes", help="Do not ask for confirmation.")
    add_store_overrides(parser, master_key=False)


def _remove(args: Namespace, env: Env) -> None:
    question = f"Remove the resource {args.uri}? No new token will be issued for it."
    if not args.yes and not env.confirm(question):
        raise CLIError("cancelled, nothing changed", ExitStatus.ABORTED)
    with _resources(args) as resources:
        resources.remove(args.uri)
    note(env, f"removed resource {args.uri!r}")


COMMAND = Group(
    "resource",
    help="Register the APIs access tokens may be issued for (RFC 8707 resource indicators).",
    epilog="Examples:\n"
    "  jwtkit resource add https://api.example --scope invoices:read "
    "--describe invoices:read 'Read your invoices'\n"
    "  jwtkit resource list",
    arguments=_group_options,
    commands={
        "add": Command(
            "add",
            usage="[OPTIONS] URI",
            help="Register URI (an absolute URI: the aud of tokens asked for with resource=URI).",
            epilog="Example:\n  jwtkit resource add https://api.example --scope read --scope write",
            arguments=_add_arguments,
            run=_add,
        ),
        "list": Command(
            "list",
            help="List the registered resources and their scopes.",
            epilog="Example:\n  jwtkit resource list --json",
            arguments=_list_arguments,
            run=_list,
        ),
        "remove": Command(
            "remove",
            usage="[OPTIONS] URI",
            help="Unregister URI: no new token is issued for it; issued ones run to their exp.",
            epilog="Example:\n  jwtkit resource remove https://api.example --yes",
            arguments=_remove_arguments,
            run=_remove,
        ),
    },
)
