"""Keep secrets out of the access log: query-string values are redacted before they are logged.

uvicorn's access log writes each request's path with its query string. A client that wrongly
sends ``client_secret``, ``password`` or a token in the URL (issue 12) would have it written to
disk, shipped to log collectors and kept for months. :class:`RedactQuery` is a logging filter on
the ``uvicorn.access`` logger that rewrites the path argument before any handler formats it:
parameter names stay (so the mistake is visible), values are replaced by ``[redacted]`` except
for a few parameters that never carry a secret (``grant_type``, ``response_type``, ...). A
parameter without ``=``, or with a name that is not a plain word, is redacted whole.
"""

from __future__ import annotations

import logging
import re
from typing import Final
from urllib.parse import unquote_plus

__all__ = ["REDACTED", "RedactQuery", "install", "redact_query"]

REDACTED: Final = "[redacted]"
ACCESS_LOGGER: Final = "uvicorn.access"
# OAuth/OIDC parameters whose values are protocol words, never credentials or personal data.
_KEEP: Final = frozenset(
    {
        "grant_type",
        "response_type",
        "response_mode",
        "token_type_hint",
        "code_challenge_method",
        "prompt",
        "display",
        "ui_locales",
        "max_age",
        "scope",
        "client_id",
    }
)
_NAME: Final = re.compile(r"[A-Za-z0-9_.\-\[\]]{1,64}")
_MAX_VALUE: Final = 128


def redact_query(target: str) -> str:
    """Return a request target (``/path?query``) with its query values redacted."""
    path, sep, query = target.partition("?")
    if not sep:
        return target
    return f"{path}?{'&'.join(_redact_pair(pair) for pair in query.split('&'))}"


def _redact_pair(pair: str) -> str:
    name, sep, value = pair.partition("=")
    plain = unquote_plus(name)
    if not sep or not _NAME.fullmatch(plain):
        return REDACTED if pair else pair
    if plain in _KEEP and len(value) <= _MAX_VALUE:
        return f"{plain}={value}"
    return f"{plain}={REDACTED}"


class RedactQuery(logging.Filter):
    """Redact the query string of uvicorn access-log records (the path argument)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite every ``str`` argument that looks like a request target; keep the record."""
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(
                redact_query(a) if isinstance(a, str) and a.startswith("/") else a for a in args
            )
        elif isinstance(record.msg, str) and "?" in record.msg:
            # A pre-formatted line (another server, another version): redact what follows '?'.
            record.msg = " ".join(
                redact_query(w) if w.startswith("/") else w for w in record.msg.split(" ")
            )
        return True


def install(logger_name: str = ACCESS_LOGGER) -> None:
    """Attach :class:`RedactQuery` to the access logger once (idempotent).

    A filter on the logger survives uvicorn's own logging configuration (``dictConfig`` adds
    handlers and filters, it never removes a logger's filters).
    """
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactQuery) for f in logger.filters):
        logger.addFilter(RedactQuery())
