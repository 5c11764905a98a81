"""Durations and httpie-style typed items."""

from __future__ import annotations

import pytest

from jwtkit.cli._parse import format_duration, parse_duration, parse_item


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("15m", 900),
        ("1h", 3600),
        ("7d", 604800),
        ("1h30m", 5400),
        ("2w", 1209600),
        ("90", 90),
        (" 5M ", 300),
    ],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "m", "1x", "1h 2m", "-5m", "1.5h", "h1", "\u00b2", "\u0663m"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_format_duration() -> None:
    assert format_duration(0) == "0 seconds"
    assert format_duration(1) == "1 second"
    assert format_duration(-200) == "3 minutes"
    assert format_duration(3600) == "1 hour"
    assert format_duration(86400 * 2 + 5) == "2 days"
    assert format_duration(86400 * 800) == "2 years"


def test_parse_item() -> None:
    assert parse_item("name=alice") == ("name", "alice")
    assert parse_item("n:=42") == ("n", 42)
    assert parse_item('roles:=["a","b"]') == ("roles", ["a", "b"])
    assert parse_item("ok:=true") == ("ok", True)
    assert parse_item("empty=") == ("empty", "")
    assert parse_item("url=http://x:=y") == ("url", "http://x:=y")
    assert parse_item("eq=a=b") == ("eq", "a=b")
    for bad in ("novalue", "=x", ":=1", "n:=nope"):
        with pytest.raises(ValueError):
            parse_item(bad)
