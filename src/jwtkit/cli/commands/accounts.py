"""``jwtkit user`` and ``jwtkit client``: manage the token service's users and clients."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from jwtkit.cli._errors import CLIError
from jwtkit.cli._io import emit_json, note, read_password, use_color
from jwtkit.cli._render import render_table
from jwtkit.cli._store import DEFAULT_STORE, remember_store, store_overrides, store_params
from jwtkit.cli.status import ExitStatus

if TYPE_CHECKING:
    from jwtkit.server import Accounts

__all__ = ["client", "load_server", "user"]

GRANTS = ["password", "client_credentials", "refresh_token"]


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
def _accounts(ctx: click.Context) -> Iterator[Accounts]:
    server = load_server()
    accounts = server.Accounts.open(store_params(ctx)[0])
    try:
        yield accounts
    except server.AccountError as exc:
        raise CLIError(str(exc), ExitStatus.STORE_ERROR) from exc
    finally:
        accounts.close()


def _store_option(f: Any) -> Any:
    return click.option(
        "--store",
        envvar="JWTKIT_STORE",
        default=DEFAULT_STORE,
        show_default=True,
        metavar="URL",
        help="Store of the token service (env JWTKIT_STORE).",
    )(f)


def _when(value: Any) -> str:
    return str(value.strftime("%Y-%m-%d %H:%M"))


# -- users ---------------------------------------------------------------------------------


@click.group(
    epilog="\b\nExamples:\n  jwtkit user add alice --role admin\n  jwtkit user list --json"
)
@_store_option
@click.pass_context
def user(ctx: click.Context, store: str) -> None:
    """Manage the users who log in to the token service (password grant)."""
    remember_store(ctx, store, None)


@user.command(
    "add",
    epilog="\b\nExamples:\n  jwtkit user add alice --role admin --role ops\n"
    "  printf '%s\\n' \"$PW\" | jwtkit user add bob --password-stdin",
)
@click.argument("username")
@click.option("--role", "roles", multiple=True, help="Role claim for the user's tokens.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@store_overrides(master_key=False)
@click.pass_context
def user_add(
    ctx: click.Context, username: str, roles: tuple[str, ...], password_stdin: bool
) -> None:
    """Create USERNAME; the password comes from a hidden prompt (or stdin)."""
    password = read_password("password", from_stdin=password_stdin, confirm=True)
    with _accounts(ctx) as accounts:
        info = accounts.add_user(username, password, roles)
    note(f"added user {info.username!r}")
    emit_json({"username": info.username, "roles": list(info.roles)})


@user.command("list", epilog="\b\nExample:\n  jwtkit user list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@store_overrides(master_key=False)
@click.pass_context
def user_list(ctx: click.Context, as_json: bool) -> None:
    """List users, their roles and whether they are disabled."""
    with _accounts(ctx) as accounts:
        users = accounts.list_users()
    if as_json:
        emit_json(
            [
                {
                    "username": u.username,
                    "roles": list(u.roles),
                    "disabled": u.disabled,
                    "created_at": u.created_at.isoformat(timespec="seconds"),
                }
                for u in users
            ]
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
    render_table(
        ["username", "roles", "status", "created"], rows, color=use_color(ctx), title="Users"
    )


@user.command("disable", epilog="\b\nExample:\n  jwtkit user disable alice")
@click.argument("username")
@store_overrides(master_key=False)
@click.pass_context
def user_disable(ctx: click.Context, username: str) -> None:
    """Disable USERNAME: no new logins, and their refresh tokens stop working."""
    with _accounts(ctx) as accounts:
        accounts.disable_user(username)
    note(f"disabled user {username!r}")


# -- clients -------------------------------------------------------------------------------


@click.group(
    epilog="\b\nExamples:\n"
    "  jwtkit client add billing --grant client_credentials --scope invoices:read\n"
    "  jwtkit client list"
)
@_store_option
@click.pass_context
def client(ctx: click.Context, store: str) -> None:
    """Manage OAuth clients (applications and service accounts) of the token service."""
    remember_store(ctx, store, None)


@client.command(
    "add",
    epilog="\b\nExamples:\n  jwtkit client add web --grant password --grant refresh_token\n"
    "  jwtkit client add billing --grant client_credentials --scope invoices:read\n"
    "  jwtkit client add spa --public --grant password",
)
@click.argument("client_id")
@click.option("--scope", "scopes", multiple=True, help="Scope the client may request.")
@click.option("--grant", "grants", multiple=True, type=click.Choice(GRANTS), help="Grant type.")
@click.option("--public", is_flag=True, help="A client without a secret (browser/native app).")
@click.option("--secret-stdin", is_flag=True, help="Read the secret from stdin, not generated.")
@store_overrides(master_key=False)
@click.pass_context
def client_add(
    ctx: click.Context,
    client_id: str,
    scopes: tuple[str, ...],
    grants: tuple[str, ...],
    public: bool,
    secret_stdin: bool,
) -> None:
    """Register CLIENT_ID; its generated secret is printed once on stdout."""
    if public and secret_stdin:
        raise CLIError("a --public client has no secret; drop --secret-stdin")
    secret = (
        read_password("client secret", from_stdin=True, confirm=False) if secret_stdin else None
    )
    with _accounts(ctx) as accounts:
        issued = accounts.add_client(client_id, secret, scopes, grants, public=public)
    result: dict[str, Any] = {
        "client_id": client_id,
        "scopes": list(scopes),
        "grants": list(grants),
    }
    if public:
        note(f"added public client {client_id!r} (no secret)")
    elif secret is None:
        result["client_secret"] = issued
        note(f"added client {client_id!r}; its secret is printed once on stdout: store it now")
    else:
        note(f"added client {client_id!r} with the secret read from stdin")
    emit_json(result)


@client.command("list", epilog="\b\nExample:\n  jwtkit client list --json")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@store_overrides(master_key=False)
@click.pass_context
def client_list(ctx: click.Context, as_json: bool) -> None:
    """List clients with their scopes, grants and status (never their secrets)."""
    with _accounts(ctx) as accounts:
        clients = accounts.list_clients()
    if as_json:
        emit_json(
            [
                {
                    "client_id": c.client_id,
                    "scopes": list(c.scopes),
                    "grants": list(c.grants),
                    "public": c.public,
                    "disabled": c.disabled,
                    "created_at": c.created_at.isoformat(timespec="seconds"),
                }
                for c in clients
            ]
        )
        return
    rows = [
        [
            c.client_id,
            " ".join(c.scopes) or "-",
            " ".join(c.grants) or "(default)",
            "public" if c.public else "confidential",
            "disabled" if c.disabled else "active",
            _when(c.created_at),
        ]
        for c in clients
    ]
    columns = ["client_id", "scopes", "grants", "type", "status", "created"]
    render_table(columns, rows, color=use_color(ctx), title="Clients")


@client.command("disable", epilog="\b\nExample:\n  jwtkit client disable billing")
@click.argument("client_id")
@store_overrides(master_key=False)
@click.pass_context
def client_disable(ctx: click.Context, client_id: str) -> None:
    """Disable CLIENT_ID: it can no longer authenticate or refresh tokens."""
    with _accounts(ctx) as accounts:
        accounts.disable_client(client_id)
    note(f"disabled client {client_id!r}")
