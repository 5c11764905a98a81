"""``jwtkit serve``: run the token service (jwtkit.server) with uvicorn."""

from __future__ import annotations

import gc
import os
from argparse import Namespace
from typing import Any

from jwtkit.cli._command import Command, Parser, int_range
from jwtkit.cli._errors import CLIError
from jwtkit.cli._store import (
    add_store_options,
    master_key_configured,
    read_master_key_file,
    require_existing,
    store_params,
)
from jwtkit.cli.commands.accounts import load_server
from jwtkit.cli.env import Env
from jwtkit.cli.status import ExitStatus

__all__ = ["COMMAND"]


def _arguments(parser: Parser) -> None:
    parser.option(
        "--host",
        metavar="TEXT",
        default="127.0.0.1",
        help="Address to listen on.  [default: 127.0.0.1]",
    )
    parser.option(
        "--port",
        metavar="INTEGER RANGE",
        type=int_range(0, 65535),
        default=8000,
        help="Port to listen on (0-65535).  [default: 8000]",
    )
    parser.option(
        "--issuer", metavar="TEXT", help="Issuer URL put in tokens (default http://HOST:PORT)."
    )
    parser.option(
        "--workers",
        metavar="INTEGER RANGE",
        type=int_range(0, 256),
        help="Worker processes on the port (env JWTKIT_WORKERS; 0 or unset: one per CPU on "
        "PostgreSQL, one on SQLite). A worker that dies is replaced; SIGTERM stops gracefully.",
    )
    add_store_options(parser, store_help="Store of keys and accounts (env JWTKIT_STORE).")
    parser.option(
        "--audience", metavar="TEXT", help="aud of issued access tokens (default: the issuer)."
    )


def _run(args: Namespace, env: Env) -> None:
    """Start the token service in the foreground."""
    # The entry point turns the cyclic garbage collector off for short commands (see
    # jwtkit.cli.main.run); a server runs for days and needs it.
    gc.enable()
    host, port, issuer, audience = args.host, args.port, args.issuer, args.audience
    store, master_key_file = store_params(args)
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
    if args.workers is not None:
        overrides["workers"] = args.workers
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


COMMAND = Command(
    "serve",
    help="Run the OAuth 2.0 token service until interrupted (Ctrl-C).\n"
    "\n"
    "Other settings come from JWTKIT_* environment variables (see docs/server.md).",
    epilog="Examples:\n  jwtkit serve\n"
    "  jwtkit serve --host 0.0.0.0 --port 8443 --issuer https://id.example.com "
    "--store postgresql://jwtkit@db/jwtkit",
    arguments=_arguments,
    run=_run,
)
