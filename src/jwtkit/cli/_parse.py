"""Parsers for command-line values: durations (``15m``) and typed ``k=v`` / ``k:=json`` items."""

from __future__ import annotations

import json
import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["format_duration", "parse_duration", "parse_item", "parse_time"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"([0-9]+)([smhdw])")


def parse_duration(text: str) -> int:
    """Return the number of seconds in ``text`` (``30s``, ``15m``, ``1h30m``, ``7d``, ``90``).

    A bare number is seconds. Raises ValueError with a hint when the text is not a duration.
    """
    value = text.strip().lower()
    if value.isascii() and value.isdigit():
        return int(value)
    total, pos = 0, 0
    for match in _PART.finditer(value):
        if match.start() != pos:
            break
        total += int(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(value) or not value:
        raise ValueError(f"{text!r} is not a duration (use e.g. 30s, 15m, 1h, 7d)")
    return total


def parse_time(text: str) -> float:
    """Return ``text`` as seconds since 1970: a number, or an ISO 8601 date or date and time.

    A time without a zone is UTC, as NumericDate is (RFC 7519 §2); ``2026-03-01`` is its
    midnight. Raises ValueError with a hint otherwise.
    """
    value = text.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if seconds == seconds and abs(seconds) != float("inf"):  # not NaN or infinite
            return seconds
    from datetime import UTC, datetime  # lazy: only --now needs it

    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time (use seconds since 1970, e.g. 1767225600, or an ISO 8601 "
            "date, e.g. 2026-01-01 or 2026-01-01T12:00:00Z)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def format_duration(seconds: float) -> str:
    """Return ``seconds`` in the largest whole unit, e.g. ``3 minutes`` or ``2 days``."""
    seconds = abs(seconds)
    for limit, size, unit in (
        (60, 1, "second"),
        (3600, 60, "minute"),
        (86400, 3600, "hour"),
        (86400 * 365, 86400, "day"),
    ):
        if seconds < limit:
            count = int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'}"
    count = int(seconds // (86400 * 365))
    return f"{count} year{'' if count == 1 else 's'}"


def parse_item(item: str) -> tuple[str, Any]:
    """Split one httpie-style item: ``name=text`` gives a string, ``name:=json`` a JSON value.

    The separator that occurs first wins, so ``url=http://x:=y`` is a string. Raises
    ValueError naming the item when it has no separator, an empty name or invalid JSON.
    """
    eq, typed = item.find("="), item.find(":=")
    if eq < 0:
        raise ValueError(f"{item!r} is not name=value or name:=json")
    if 0 <= typed < eq:
        name, raw = item[:typed], item[typed + 2 :]
        try:
            value: Any = json.loads(raw)
        except ValueError:
            raise ValueError(
                f"{name!r}: {raw!r} is not valid JSON (quote strings: use =)"
            ) from None
    else:
        name, value = item[:eq], item[eq + 1 :]
    if not name:
        raise ValueError(f"{item!r} has an empty name")
    return name, value
