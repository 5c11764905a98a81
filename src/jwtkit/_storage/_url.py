"""Store URLs: ``sqlite:///path``, ``postgresql://...`` and ``memory://``, parsed once.

``sqlite:///relative.db`` names a file relative to the working directory and
``sqlite:////abs/path.db`` an absolute one (SQLAlchemy's convention). PostgreSQL URLs are libpq
URLs, passed to the driver unchanged. :func:`redact_url` is what every message shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit, urlunsplit

from jwtkit.errors import KeyStoreError

__all__ = ["StoreURL", "parse_store_url", "redact_url"]

Kind = Literal["sqlite", "postgresql", "memory"]
_HINT = "use sqlite:///PATH, postgresql://... or memory://"


@dataclass(frozen=True)
class StoreURL:
    """A parsed store URL: its kind, the SQLite file, and the text shown in messages."""

    kind: Kind
    raw: str = field(repr=False)
    path: Path | None = None

    @property
    def label(self) -> str:
        """Return the URL without any password, for messages and logs."""
        return redact_url(self.raw)


def parse_store_url(url: str) -> StoreURL:
    """Parse ``url`` into a :class:`StoreURL`.

    Raises:
        KeyStoreError: an unknown scheme, or a SQLite URL without a file.
    """
    if not isinstance(url, str):
        raise TypeError("the store URL must be a str")
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "memory":
        return StoreURL("memory", url)
    if scheme in ("postgresql", "postgres"):
        return StoreURL("postgresql", url)
    if scheme == "sqlite":
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise KeyStoreError("a sqlite:// URL has no host: use sqlite:///path/to/file.db")
        path = unquote(parts.path)
        path = path[1:] if path.startswith("/") else path
        if not path or path == ":memory:":
            raise KeyStoreError("a SQLite store URL looks like sqlite:///path/to/jwtkit.db")
        return StoreURL("sqlite", url, Path(path))
    raise KeyStoreError(f"unsupported store URL {redact_url(url)!r}: {_HINT}")


def redact_url(url: str) -> str:
    """Return ``url`` without its password (userinfo or ``password=`` query), for messages."""
    try:
        parts = urlsplit(url)
        password = parts.password
        port = parts.port
    except ValueError:
        return "<unparsable store URL>"
    netloc = parts.netloc
    if password is not None:
        host = parts.hostname or ""
        if port is not None:
            host = f"{host}:{port}"
        netloc = f"{parts.username or ''}:***@{host}"
    query = re.sub(r"(?i)(^|&)(password)=[^&]*", r"\1\2=***", parts.query)
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
