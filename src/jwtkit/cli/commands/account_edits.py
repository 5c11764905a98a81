"""``jwtkit user set/enable/logout`` and ``jwtkit client set/enable/rotate-secret``.

Changes to existing accounts, kept apart from ``accounts.py`` (which adds and lists them);
each command is a thin adapter over one :class:`jwtkit.server.Accounts` method.
"""

from __future__ import annotations

from argparse import Namespace
from datetime import UTC, datetime
from typing import Any

from jwtkit.cli._command import Command, Parser, UsageError, duration
from jwtkit.cli._io import emit_json, note, read_password
from jwtkit.cli.commands.accounts import (
    GRANTS,
    _accounts,
    _overrides,
    client_json,
    id_token_alg_option,
    origin_option,
    post_logout_option,
    redirect_uri_option,
    user_json,
    warn_password_grant,
)
from jwtkit.cli.env import Env

__all__ = [
    "CLIENT_ENABLE",
    "CLIENT_ROTATE_SECRET",
    "CLIENT_SET",
    "USER_ENABLE",
    "USER_LOGOUT",
    "USER_SET",
]

DEFAULT_OVERLAP = 86400


def _username(parser: Parser) -> None:
    parser.argument("username", "USERNAME")
    _overrides(parser)


def _client_id(parser: Parser) -> None:
    parser.argument("client_id", "CLIENT_ID")
    _overrides(parser)


# -- users ---------------------------------------------------------------------------------


def _user_set_arguments(parser: Parser) -> None:
    parser.argument("username", "USERNAME")
    parser.flag(
        "--password",
        dest="new_password",
        help="Set a new password (hidden prompt); ends the user's sessions.",
    )
    parser.flag("--password-stdin", help="Set a new password read from stdin.")
    parser.option("--name", metavar="TEXT", help="Display name ('' clears it).")
    parser.option(
        "--email",
        metavar="ADDRESS",
        help="Email address ('' clears it); a new one is unverified unless --email-verified.",
    )
    parser.flag(
        "--email-verified",
        dest="email_verified",
        action="store_const",
        const=True,
        help="The email address has been verified (the email_verified claim).",
    )
    parser.flag(
        "--no-email-verified",
        dest="email_verified",
        action="store_const",
        const=False,
        help="The email address is not verified.",
    )
    _overrides(parser)


def _user_set(args: Namespace, env: Env) -> None:
    new_password = args.new_password or args.password_stdin
    verified = getattr(args, "email_verified", None)
    if not new_password and args.name is None and args.email is None and verified is None:
        raise UsageError(
            "nothing to change: give --password, --password-stdin, --name, --email or "
            "--[no-]email-verified",
            "jwtkit user set",
        )
    password = (
        read_password(env, "new password", from_stdin=args.password_stdin, confirm=True)
        if new_password
        else None
    )
    with _accounts(args) as accounts:
        info = accounts.update_user(
            args.username, name=args.name, email=args.email, email_verified=verified
        )
        revoked = accounts.set_password(args.username, password) if password is not None else 0
    result = user_json(info)
    if password is not None:
        result["sessions_revoked"] = revoked
        note(env, f"changed the password of {args.username!r}; {revoked} session(s) revoked")
    else:
        note(env, f"updated user {args.username!r}")
    emit_json(env, result)


def _user_enable(args: Namespace, env: Env) -> None:
    with _accounts(args) as accounts:
        accounts.enable_user(args.username)
    note(env, f"enabled user {args.username!r} (tokens issued before stay revoked)")


def _user_logout(args: Namespace, env: Env) -> None:
    with _accounts(args) as accounts:
        revoked = accounts.log_out_user(args.username)
    note(env, f"logged out {args.username!r}: {revoked} session(s) revoked")
    emit_json(env, {"username": args.username, "sessions_revoked": revoked})


USER_SET = Command(
    "set",
    usage="[OPTIONS] USERNAME",
    help="Change USERNAME's password or profile. A new password ends every session of the user.",
    epilog="Examples:\n  jwtkit user set alice --password\n"
    "  printf '%s\\n' \"$PW\" | jwtkit user set alice --password-stdin\n"
    "  jwtkit user set alice --name 'Alice Liddell' --email alice@example.com",
    arguments=_user_set_arguments,
    run=_user_set,
)
USER_ENABLE = Command(
    "enable",
    usage="[OPTIONS] USERNAME",
    help="Re-enable a disabled USERNAME; tokens issued before stay revoked.",
    epilog="Example:\n  jwtkit user enable alice",
    arguments=_username,
    run=_user_enable,
)
USER_LOGOUT = Command(
    "logout",
    usage="[OPTIONS] USERNAME",
    help="End every session of USERNAME: refresh tokens and access tokens are revoked.",
    epilog="Example:\n  jwtkit user logout alice",
    arguments=_username,
    run=_user_logout,
)


# -- clients -------------------------------------------------------------------------------


def _client_set_arguments(parser: Parser) -> None:
    parser.argument("client_id", "CLIENT_ID")
    parser.option(
        "--scope",
        dest="scopes",
        action="append",
        metavar="TEXT",
        help="Scope the client may request (repeat; replaces the list).",
    )
    parser.flag("--no-scopes", help="The client may request no scope at all.")
    parser.option(
        "--grant",
        dest="grants",
        action="append",
        choices=GRANTS,
        help="Grant type (repeat; replaces the list). password is DEPRECATED (RFC 9700 2.4).",
    )
    parser.flag(
        "--default-grants", help="The default grants: authorization_code and refresh_token."
    )
    parser.flag(
        "--resource-server",
        dest="resource_server",
        action="store_const",
        const=True,
        help="May introspect every token and read the revocation list.",
    )
    parser.flag(
        "--no-resource-server",
        dest="resource_server",
        action="store_const",
        const=False,
        help="Introspects only its own tokens.",
    )
    origin_option(parser, default=None)
    parser.flag("--no-origins", help="No browser origin: the client has no cookie mode.")
    redirect_uri_option(parser, default=None)
    parser.flag("--no-redirect-uris", help="No redirect URI: the client cannot use the code flow.")
    post_logout_option(parser, default=None)
    parser.flag(
        "--no-post-logout-redirect-uris", help="Logout never sends the browser to the client."
    )
    parser.flag(
        "--first-party",
        dest="first_party",
        action="store_const",
        const=True,
        help="An application of this deployment itself (trusted: no consent page).",
    )
    parser.flag(
        "--no-first-party",
        dest="first_party",
        action="store_const",
        const=False,
        help="A third-party application (its users see the consent page).",
    )
    id_token_alg_option(parser)
    _overrides(parser)


def _client_set(args: Namespace, env: Env) -> None:
    here = "jwtkit client set"
    if args.scopes and args.no_scopes:
        raise UsageError("--scope and --no-scopes contradict each other", here)
    if args.grants and args.default_grants:
        raise UsageError("--grant and --default-grants contradict each other", here)
    if args.origins and args.no_origins:
        raise UsageError("--origin and --no-origins contradict each other", here)
    if args.redirect_uris and args.no_redirect_uris:
        raise UsageError("--redirect-uri and --no-redirect-uris contradict each other", here)
    if args.post_logout_redirect_uris and args.no_post_logout_redirect_uris:
        raise UsageError(
            "--post-logout-redirect-uri and --no-post-logout-redirect-uris contradict each other",
            here,
        )
    changes: dict[str, Any] = {
        "scopes": () if args.no_scopes else args.scopes,
        "grants": () if args.default_grants else args.grants,
        "origins": () if args.no_origins else args.origins,
        "redirect_uris": () if args.no_redirect_uris else args.redirect_uris,
        "post_logout_redirect_uris": (
            () if args.no_post_logout_redirect_uris else args.post_logout_redirect_uris
        ),
        "resource_server": getattr(args, "resource_server", None),
        "first_party": getattr(args, "first_party", None),
        "id_token_alg": args.id_token_alg,
    }
    if all(value is None for value in changes.values()):
        raise UsageError(
            "nothing to change: give --scope, --no-scopes, --grant, --default-grants, "
            "--[no-]resource-server, --origin, --no-origins, --redirect-uri, "
            "--no-redirect-uris, --post-logout-redirect-uri, --no-post-logout-redirect-uris, "
            "--[no-]first-party or --id-token-alg",
            here,
        )
    warn_password_grant(env, args.grants)
    with _accounts(args) as accounts:
        info = accounts.update_client(args.client_id, **changes)
    note(env, f"updated client {args.client_id!r}")
    emit_json(env, client_json(info))


def _client_enable(args: Namespace, env: Env) -> None:
    with _accounts(args) as accounts:
        accounts.enable_client(args.client_id)
    note(env, f"enabled client {args.client_id!r} (tokens issued before stay revoked)")


def _rotate_arguments(parser: Parser) -> None:
    parser.argument("client_id", "CLIENT_ID")
    parser.option(
        "--overlap",
        type=duration,
        default=DEFAULT_OVERLAP,
        metavar="DURATION",
        help="How long the old secret keeps working (e.g. 0, 30m, 1d).  [default: 1d]",
    )
    parser.flag("--secret-stdin", help="Read the new secret from stdin, not generated.")
    _overrides(parser)


def _client_rotate_secret(args: Namespace, env: Env) -> None:
    secret = (
        read_password(env, "client secret", from_stdin=True, confirm=False)
        if args.secret_stdin
        else None
    )
    with _accounts(args) as accounts:
        issued = accounts.rotate_client_secret(args.client_id, secret, overlap=args.overlap)
    until = datetime.now(UTC).timestamp() + args.overlap
    result: dict[str, Any] = {
        "client_id": args.client_id,
        "old_secret_valid_until": datetime.fromtimestamp(until, UTC).isoformat(timespec="seconds"),
    }
    if secret is None:
        result["client_secret"] = issued
        note(env, f"new secret for {args.client_id!r} printed once on stdout: store it now")
    else:
        note(env, f"client {args.client_id!r} now has the secret read from stdin")
    emit_json(env, result)


CLIENT_SET = Command(
    "set",
    usage="[OPTIONS] CLIENT_ID",
    help="Change what CLIENT_ID may do: its scopes, grants, flags, origins, redirect URIs.",
    epilog="Examples:\n  jwtkit client set web --scope read --scope write\n"
    "  jwtkit client set web --redirect-uri https://app.example/cb --id-token-alg ES256\n"
    "  jwtkit client set web --post-logout-redirect-uri https://app.example/bye\n"
    "  jwtkit client set spa --origin https://app.example --origin http://localhost:5173\n"
    "  jwtkit client set api --resource-server\n"
    "  jwtkit client set legacy --no-resource-server --grant client_credentials",
    arguments=_client_set_arguments,
    run=_client_set,
)
CLIENT_ENABLE = Command(
    "enable",
    usage="[OPTIONS] CLIENT_ID",
    help="Re-enable a disabled CLIENT_ID; tokens issued before stay revoked.",
    epilog="Example:\n  jwtkit client enable billing",
    arguments=_client_id,
    run=_client_enable,
)
CLIENT_ROTATE_SECRET = Command(
    "rotate-secret",
    usage="[OPTIONS] CLIENT_ID",
    help="Give CLIENT_ID a new secret, printed once; the old one works for --overlap more.",
    epilog="Examples:\n  jwtkit client rotate-secret billing\n"
    "  jwtkit client rotate-secret billing --overlap 0      # the old secret stops now",
    arguments=_rotate_arguments,
    run=_client_rotate_secret,
)
