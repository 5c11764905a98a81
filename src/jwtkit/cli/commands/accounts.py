"""``jwtkit user`` and ``jwtkit client``: manage the token service's users and clients.

One module for both groups, past 400 lines: their subcommands share options, the store
session and the output helpers, and most of the length is argument declarations and help text.
"""

from __future__ import annotations

from argparse import Namespace
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from jwtkit.cli._command import Command, Group, Parser
from jwtkit.cli._errors import CLIError
from jwtkit.cli._io import emit_json, note, read_password, use_color
from jwtkit.cli._render import render_table
from jwtkit.cli._store import add_store_options, add_store_overrides, store_params
from jwtkit.cli.env import Env
from jwtkit.cli.status import ExitStatus

if TYPE_CHECKING:
    from jwtkit.server import Accounts

__all__ = ["CLIENT", "USER", "client_json", "load_server", "user_json"]

# The server's GRANT_TYPES and ID_TOKEN_ALGS (kept here so that --help never imports the
# server; tests/cli checks they agree).
GRANTS = ["authorization_code", "refresh_token", "client_credentials", "password"]
ID_TOKEN_ALGS = ["RS256", "ES256", "ES256K", "ES384", "ES512", "EdDSA", "PS256", "PS384", "PS512",
                 "RS384", "RS512"]  # fmt: skip
GRANT_HELP = (
    "Grant type (repeatable; default authorization_code and refresh_token). password is "
    "DEPRECATED: legacy, for first-party apps only (RFC 9700 2.4)."
)


def load_server() -> Any:
    """Import and return ``jwtkit.server``, or fail with "token service not available"."""
    try:
        import jwtkit.server as server  # lazy: needs the server extra
    except ImportError as exc:
        raise CLIError(
            f"token service not available: {exc}; install it with pip install 'jwtkit[server]'",
            ExitStatus.UNAVAILABLE,
        ) from exc
    return server


@contextmanager
def _accounts(args: Namespace) -> Iterator[Accounts]:
    server = load_server()
    accounts = server.Accounts.open(store_params(args)[0])
    try:
        yield accounts
    except server.AccountError as exc:
        raise CLIError(str(exc), ExitStatus.STORE_ERROR) from exc
    finally:
        accounts.close()


def _group_options(parser: Parser) -> None:
    add_store_options(
        parser, master_key=False, store_help="Store of the token service (env JWTKIT_STORE)."
    )


def _overrides(parser: Parser) -> None:
    add_store_overrides(parser, master_key=False)


def _json_flag(parser: Parser) -> None:
    parser.flag("--json", dest="as_json", help="Print JSON.")
    _overrides(parser)


def _when(value: Any) -> str:
    return str(value.strftime("%Y-%m-%d %H:%M"))


def user_json(u: Any) -> dict[str, Any]:
    """Return the JSON form of a user (``UserInfo``) that the user commands print."""
    return {
        "username": u.username,
        "roles": list(u.roles),
        "name": u.name,
        "email": u.email,
        "email_verified": u.email_verified,
    }


def client_json(c: Any) -> dict[str, Any]:
    """Return the JSON form of a client (``ClientInfo``) that the client commands print."""
    return {
        "client_id": c.client_id,
        "scopes": list(c.scopes),
        "grants": list(c.grants),
        "public": c.public,
        "resource_server": c.resource_server,
        "origins": list(c.origins),
        "redirect_uris": list(c.redirect_uris),
        "first_party": c.first_party,
        "id_token_alg": c.id_token_alg or "RS256",
        "post_logout_redirect_uris": list(c.post_logout_redirect_uris),
    }


def warn_password_grant(env: Env, grants: Any) -> None:
    """Say on stderr that the password grant is deprecated when ``grants`` include it."""
    if grants and "password" in grants:
        note(
            env,
            "warning: the password grant is deprecated (RFC 9700 2.4: it hands the user's "
            "password to the client); use it for first-party legacy apps only",
        )


def _edit(name: str, module: str = "account_edits") -> Callable[[], Command]:
    """Load a command that changes an existing account (``account_edits``, ``consents``)
    when it runs."""

    def load() -> Command:
        from importlib import import_module

        command: Command = getattr(import_module(f"jwtkit.cli.commands.{module}"), name)
        return command

    return load


# -- users ---------------------------------------------------------------------------------


def _user_add_arguments(parser: Parser) -> None:
    parser.argument("username", "USERNAME")
    parser.option(
        "--role",
        dest="roles",
        action="append",
        default=[],
        metavar="TEXT",
        help="Role claim for the user's tokens.",
    )
    parser.flag("--password-stdin", help="Read the password from stdin.")
    parser.option("--name", metavar="TEXT", help="Display name (the OpenID Connect name claim).")
    parser.option("--email", metavar="ADDRESS", help="Email address (the email claim).")
    parser.flag("--email-verified", help="The email address has been verified.")
    _overrides(parser)


def _user_add(args: Namespace, env: Env) -> None:
    password = read_password(env, "password", from_stdin=args.password_stdin, confirm=True)
    with _accounts(args) as accounts:
        info = accounts.add_user(
            args.username, password, tuple(args.roles), name=args.name, email=args.email,
            email_verified=args.email_verified,
        )  # fmt: skip
    note(env, f"added user {info.username!r}")
    emit_json(env, user_json(info))


def _user_list(args: Namespace, env: Env) -> None:
    with _accounts(args) as accounts:
        users = accounts.list_users()
    if args.as_json:
        emit_json(
            env,
            [
                {
                    **user_json(u),
                    "disabled": u.disabled,
                    "created_at": u.created_at.isoformat(timespec="seconds"),
                }
                for u in users
            ],
        )
        return
    rows = [
        [
            u.username,
            ",".join(u.roles) or "-",
            "disabled" if u.disabled else "active",
            _when(u.created_at),
        ]
        for u in users
    ]
    columns = ["username", "roles", "status", "created"]
    render_table(env, columns, rows, color=use_color(args, env), title="Users")


def _user_disable_arguments(parser: Parser) -> None:
    parser.argument("username", "USERNAME")
    _overrides(parser)


def _user_disable(args: Namespace, env: Env) -> None:
    with _accounts(args) as accounts:
        accounts.disable_user(args.username)
    note(env, f"disabled user {args.username!r}")


USER = Group(
    "user",
    help="Manage the users who log in to the token service (login page, password grant).",
    epilog="Examples:\n  jwtkit user add alice --role admin --name 'Alice Liddell'\n"
    "  jwtkit user list --json",
    arguments=_group_options,
    commands={
        "add": Command(
            "add",
            usage="[OPTIONS] USERNAME",
            help="Create USERNAME; the password comes from a hidden prompt (or stdin).",
            epilog="Examples:\n  jwtkit user add alice --role admin --role ops\n"
            "  printf '%s\\n' \"$PW\" | jwtkit user add bob --password-stdin",
            arguments=_user_add_arguments,
            run=_user_add,
        ),
        "list": Command(
            "list",
            help="List users, their roles and whether they are disabled.",
            epilog="Example:\n  jwtkit user list",
            arguments=_json_flag,
            run=_user_list,
        ),
        "disable": Command(
            "disable",
            usage="[OPTIONS] USERNAME",
            help="Disable USERNAME: no new logins; every session and token is revoked.",
            epilog="Example:\n  jwtkit user disable alice",
            arguments=_user_disable_arguments,
            run=_user_disable,
        ),
        "enable": _edit("USER_ENABLE"),
        "set": _edit("USER_SET"),
        "logout": _edit("USER_LOGOUT"),
        "consents": _edit("USER_CONSENTS", "consents"),
    },
    summaries={
        "enable": "Re-enable a disabled USERNAME; tokens issued before stay revoked.",
        "set": "Change USERNAME's password or profile. A new password ends every session of "
        "the user.",
        "logout": "End every session of USERNAME: refresh tokens and access tokens are revoked.",
        "consents": "List what USERNAME allowed which applications; --revoke withdraws it.",
    },
)


# -- clients -------------------------------------------------------------------------------


def _client_add_arguments(parser: Parser) -> None:
    parser.argument("client_id", "CLIENT_ID")
    parser.option(
        "--scope",
        dest="scopes",
        action="append",
        default=[],
        metavar="TEXT",
        help="Scope the client may request.",
    )
    parser.option(
        "--grant", dest="grants", action="append", default=[], choices=GRANTS, help=GRANT_HELP
    )
    parser.flag("--public", help="A client without a secret (browser/native app).")
    parser.flag(
        "--resource-server", help="May introspect every token and read the revocation list."
    )
    parser.flag("--secret-stdin", help="Read the secret from stdin, not generated.")
    origin_option(parser, default=[])
    redirect_uri_option(parser, default=[])
    post_logout_option(parser, default=[])
    parser.flag(
        "--first-party", help="An application of this deployment itself (trusted: no consent page)."
    )
    id_token_alg_option(parser)
    _overrides(parser)


def redirect_uri_option(parser: Parser, *, default: list[str] | None) -> None:
    """Add ``--redirect-uri URI`` (repeatable): where the code flow may send the browser."""
    parser.option(
        "--redirect-uri",
        dest="redirect_uris",
        action="append",
        default=default,
        metavar="URI",
        help="Redirect URI of the code flow, matched exactly; repeatable.",
    )


def post_logout_option(parser: Parser, *, default: list[str] | None) -> None:
    """Add ``--post-logout-redirect-uri URI`` (repeatable): where logout may send the browser."""
    parser.option(
        "--post-logout-redirect-uri",
        dest="post_logout_redirect_uris",
        action="append",
        default=default,
        metavar="URI",
        help="Where RP-Initiated Logout may send the browser afterwards, matched exactly; "
        "repeatable.",
    )


def id_token_alg_option(parser: Parser) -> None:
    """Add ``--id-token-alg ALG``: the client's id_token_signed_response_alg."""
    parser.option(
        "--id-token-alg",
        choices=ID_TOKEN_ALGS,
        metavar="ALG",
        help="Algorithm of the client's ID tokens (id_token_signed_response_alg): one of the "
        "server's id_token_signing_algs.  [default: RS256]",
    )


def origin_option(parser: Parser, *, default: list[str] | None) -> None:
    """Add ``--origin URL`` (repeatable): the browser origins that may use the refresh cookie."""
    parser.option(
        "--origin",
        dest="origins",
        action="append",
        default=default,
        metavar="URL",
        help="Browser origin (https://app.example) allowed to use the refresh cookie; repeatable.",
    )


def _client_add(args: Namespace, env: Env) -> None:
    client_id: str = args.client_id
    scopes, grants, public = tuple(args.scopes), tuple(args.grants), args.public
    if public and args.secret_stdin:
        raise CLIError("a --public client has no secret; drop --secret-stdin")
    secret = (
        read_password(env, "client secret", from_stdin=True, confirm=False)
        if args.secret_stdin
        else None
    )
    warn_password_grant(env, grants)
    with _accounts(args) as accounts:
        issued = accounts.add_client(
            client_id,
            secret,
            scopes,
            grants,
            public=public,
            resource_server=args.resource_server,
            origins=args.origins,
            redirect_uris=args.redirect_uris,
            first_party=args.first_party,
            id_token_alg=args.id_token_alg,
            post_logout_redirect_uris=args.post_logout_redirect_uris,
        )
        added = accounts.get_client(client_id)
    result = client_json(added)
    if public:
        note(env, f"added public client {client_id!r} (no secret)")
    elif secret is None:
        result["client_secret"] = issued
        note(env, f"added client {client_id!r}; its secret is printed once on stdout: store it now")
    else:
        note(env, f"added client {client_id!r} with the secret read from stdin")
    emit_json(env, result)


def _client_list(args: Namespace, env: Env) -> None:
    with _accounts(args) as accounts:
        clients = accounts.list_clients()
    if args.as_json:
        emit_json(
            env,
            [
                {
                    **client_json(c),
                    "disabled": c.disabled,
                    "created_at": c.created_at.isoformat(timespec="seconds"),
                }
                for c in clients
            ],
        )
        return
    rows = [
        [
            c.client_id,
            " ".join(c.scopes) or "-",
            " ".join(c.grants) or "-",
            "public" if c.public else ("resource server" if c.resource_server else "confidential"),
            "disabled" if c.disabled else "active",
            _when(c.created_at),
        ]
        for c in clients
    ]
    columns = ["client_id", "scopes", "grants", "type", "status", "created"]
    render_table(env, columns, rows, color=use_color(args, env), title="Clients")


def _client_disable_arguments(parser: Parser) -> None:
    parser.argument("client_id", "CLIENT_ID")
    _overrides(parser)


def _client_disable(args: Namespace, env: Env) -> None:
    with _accounts(args) as accounts:
        accounts.disable_client(args.client_id)
    note(env, f"disabled client {args.client_id!r}")


CLIENT = Group(
    "client",
    help="Manage OAuth clients (applications and service accounts) of the token service.",
    epilog="Examples:\n"
    "  jwtkit client add billing --grant client_credentials --scope invoices:read\n"
    "  jwtkit client list",
    arguments=_group_options,
    commands={
        "add": Command(
            "add",
            usage="[OPTIONS] CLIENT_ID",
            help="Register CLIENT_ID; its generated secret is printed once on stdout.",
            epilog="Examples:\n"
            "  jwtkit client add web --redirect-uri https://app.example/callback --scope read\n"
            "  jwtkit client add spa --public --redirect-uri https://spa.example/cb\n"
            "  jwtkit client add billing --grant client_credentials --scope invoices:read",
            arguments=_client_add_arguments,
            run=_client_add,
        ),
        "list": Command(
            "list",
            help="List clients with their scopes, grants and status (never their secrets).",
            epilog="Example:\n  jwtkit client list --json",
            arguments=_json_flag,
            run=_client_list,
        ),
        "disable": Command(
            "disable",
            usage="[OPTIONS] CLIENT_ID",
            help="Disable CLIENT_ID: it can no longer authenticate; its tokens are revoked.",
            epilog="Example:\n  jwtkit client disable billing",
            arguments=_client_disable_arguments,
            run=_client_disable,
        ),
        "enable": _edit("CLIENT_ENABLE"),
        "set": _edit("CLIENT_SET"),
        "rotate-secret": _edit("CLIENT_ROTATE_SECRET"),
    },
    summaries={
        "enable": "Re-enable a disabled CLIENT_ID; tokens issued before stay revoked.",
        "set": "Change what CLIENT_ID may do: its scopes, grants, flags, origins, redirect URIs.",
        "rotate-secret": "Give CLIENT_ID a new secret, printed once; the old one works for "
        "--overlap more.",
    },
)
