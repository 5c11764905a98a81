"""Options and helpers shared by the commands that work on a key store (``keys``, ``serve``,
``user``, ``client``): ``--store URL`` and where the master key comes from.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jwtkit.cli._command import file_path
from jwtkit.cli._errors import CLIError
from jwtkit.cli.status import ExitStatus

if TYPE_CHECKING:
    from jwtkit.cli._command import Parser
    from jwtkit.keys import KeyManager

__all__ = [
    "DEFAULT_STORE",
    "add_store_options",
    "add_store_overrides",
    "master_key_configured",
    "open_manager",
    "read_master_key_file",
    "redact",
    "require_existing",
    "sqlite_path",
    "store_params",
]

DEFAULT_STORE = "sqlite:///jwtkit.db"


def add_store_options(
    parser: Parser, *, master_key: bool = True, store_help: str | None = None
) -> None:
    """Add ``--store URL`` (default JWTKIT_STORE) and ``--master-key-file FILE``."""
    parser.option(
        "--store",
        metavar="URL",
        default=parser.env.environ.get("JWTKIT_STORE") or DEFAULT_STORE,
        help=(
            store_help
            or "Key store: sqlite:///PATH, postgresql://... or memory:// (env JWTKIT_STORE)."
        )
        + f"  [default: {DEFAULT_STORE}]",
    )
    if master_key:
        parser.option(
            "--master-key-file",
            metavar="FILE",
            type=file_path,
            help="File holding the master key (else JWTKIT_MASTER_KEY or JWTKIT_MASTER_KEY_FILE).",
        )


def add_store_overrides(parser: Parser, *, master_key: bool = True) -> None:
    """Accept ``--store``/``--master-key-file`` after the subcommand name as well.

    ``jwtkit keys --store URL list`` and ``jwtkit keys list --store URL`` both work; the
    subcommand's value wins (its default is to leave the group's value alone).
    """
    parser.option(
        "--store",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="Store URL (default: JWTKIT_STORE, else sqlite:///jwtkit.db).",
    )
    if master_key:
        parser.option(
            "--master-key-file",
            metavar="FILE",
            type=file_path,
            default=argparse.SUPPRESS,
            help="File holding the master key (else JWTKIT_MASTER_KEY).",
        )


def store_params(args: argparse.Namespace) -> tuple[str, Path | None]:
    """Return the store URL and master key file in effect for this command."""
    return args.store, getattr(args, "master_key_file", None)


def redact(url: str) -> str:
    """Return ``url`` without a password, for messages (the storage layer's redactor)."""
    from jwtkit._storage import redact_url  # lazy: keeps this module's imports minimal

    return redact_url(url)


def sqlite_path(url: str) -> Path | None:
    """Return the file of a ``sqlite:///PATH`` URL (None for other backends or bad URLs)."""
    from jwtkit._storage import parse_store_url
    from jwtkit.errors import KeyStoreError

    try:
        return parse_store_url(url).path
    except KeyStoreError:
        return None


def require_existing(url: str) -> None:
    """Fail with a hint when a SQLite store file does not exist yet (instead of creating it)."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise CLIError(
            f"no key store at {str(path)!r}; create one with 'jwtkit keys init' "
            "(or point --store / JWTKIT_STORE at yours)",
            ExitStatus.STORE_ERROR,
        )


def read_master_key_file(path: Path) -> bytes:
    """Return the master key in ``path`` (jwtkit.keys' reader: 32 raw bytes or base64url)."""
    from jwtkit.keys import read_master_key_file as read  # lazy import

    return read(path)


def master_key_configured(master_key_file: Path | None) -> bool:
    """Return whether a master key is given by option or environment."""
    return bool(
        master_key_file
        or os.environ.get("JWTKIT_MASTER_KEY")
        or os.environ.get("JWTKIT_MASTER_KEY_FILE")
    )


def open_manager(url: str, master_key_file: Path | None, **options: Any) -> KeyManager:
    """Open the existing key store at ``url`` with the configured master key.

    Raises CLIError with a hint when no master key is configured or the store is missing;
    other KeyStoreErrors propagate to the single handler (exit status 4).
    """
    from jwtkit.keys import KeyManager  # lazy: only the store commands need it

    require_existing(url)
    if not master_key_configured(master_key_file) and not url.startswith("memory:"):
        raise CLIError(
            "no master key: set JWTKIT_MASTER_KEY or pass --master-key-file FILE",
            ExitStatus.STORE_ERROR,
        )
    return KeyManager.open(url, master_key_file=master_key_file, **options)
