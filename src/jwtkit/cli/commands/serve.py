"""``jwtkit serve``: run the token service (jwtkit.server) with uvicorn."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from jwtkit.cli._errors import CLIError
from jwtkit.cli._store import (
    DEFAULT_STORE,
    master_key_configured,
    read_master_key_file,
    require_existing,
)
from jwtkit.cli.commands.accounts import load_server
from jwtkit.cli.status import ExitStatus

__all__ = ["serve"]


@click.command(
    epilog="\b\nExamples:\n  jwtkit serve\n"
    "  jwtkit serve --host 0.0.0.0 --port 8443 --issuer https://id.example.com "
    "--store postgresql://jwtkit@db/jwtkit"
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--issuer", help="Issuer URL put in tokens (default http://HOST:PORT).")
@click.option(
    "--store", envvar="JWTKIT_STORE", default=DEFAULT_STORE, show_default=True, metavar="URL"
)
@click.option(
    "--master-key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File holding the master key (else JWTKIT_MASTER_KEY).",
)
@click.option("--audience", help="aud of issued access tokens (default: the issuer).")
def serve(
    host: str,
    port: int,
    issuer: str | None,
    store: str,
    master_key_file: Path | None,
    audience: str | None,
) -> None:
    """Run the OAuth 2.0 token service until interrupted (Ctrl-C).

    Other settings come from JWTKIT_* environment variables (see docs/server.md).
    """
    server = load_server()
    if not master_key_configured(master_key_file):
        require_existing(store)
        raise CLIError(
            "no master key: set JWTKIT_MASTER_KEY or pass --master-key-file FILE",
            ExitStatus.STORE_ERROR,
        )
    overrides: dict[str, Any] = {"store": store}
    if issuer is not None:
        overrides["issuer"] = issuer
    elif "JWTKIT_ISSUER" not in os.environ:
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 (display)
        overrides["issuer"] = f"http://{shown}:{port}"
    if audience is not None:
        overrides["audience"] = audience
    if master_key_file is not None:
        overrides["master_key"] = read_master_key_file(master_key_file)
    try:
        settings = server.Settings.from_env(**overrides)
    except server.SettingsError as exc:
        raise CLIError(f"bad setting {exc}", ExitStatus.USAGE_ERROR) from exc
    try:
        server.serve(settings, host, port)
    except SystemExit as exc:
        # uvicorn exits by itself when it cannot start (address in use, bad host); it has
        # already logged why, and exit status 1 would claim an invalid token.
        if exc.code not in (0, None):
            raise CLIError(
                f"the token service could not start on {host}:{port} (see the log above)",
                ExitStatus.UNAVAILABLE,
            ) from None
