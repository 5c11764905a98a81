"""docs/server.md keeps one table of every endpoint and one of every setting (issue 14).

A route or a ``Settings`` field added without its row, or a row left behind for a setting
that is gone, fails here. Rows may abbreviate the variables of one family
(`` `JWTKIT_COOKIE_NAME` / `_PATH` ``): the suffix replaces or extends the end of the name
before it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from jwtkit.server import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "server.md"


def section(heading: str) -> str:
    """Return the text of one ``## heading`` section of docs/server.md."""
    text = DOC.read_text(encoding="utf-8")
    assert f"\n## {heading}\n" in text, f"docs/server.md has no section {heading!r}"
    return text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def first_cells(table: str) -> list[str]:
    return [line.split(" | ", 1)[0] for line in table.splitlines() if line.startswith("| `")]


def paths(routes: Iterable[Any], prefix: str = "") -> Iterator[str]:
    for route in routes:
        nested = getattr(route, "routes", None)
        if nested:
            yield from paths(nested, prefix + route.path)
        else:
            yield prefix + route.path


def documented_settings(cells: list[str]) -> tuple[set[str], set[str]]:
    """Return (every name a row may mean, the names rows spell out in full)."""
    names: set[str] = set()
    full: set[str] = set()
    for cell in cells:
        base = ""
        for name in re.findall(r"`(JWTKIT_[A-Z0-9_]+|_[A-Z0-9_]+)`", cell):
            if name.startswith("JWTKIT_"):
                base = name
                names.add(name)
                full.add(name)
                continue
            parts = base.split("_")
            # The suffix replaces the last k segments (`_PATH` after ..._NAME) or, with k = 0,
            # extends the name (`_PER_ADDRESS` after ..._MAX_FAILURES).
            names.update("_".join(parts[: len(parts) - k]) + name for k in range(len(parts) - 1))
    return names, full


def test_every_route_has_a_row_in_the_endpoint_table(app: Starlette) -> None:
    cells = " ".join(first_cells(section("Endpoints")))
    for path in paths(app.routes):
        if path == "/static/{name}":
            for name in ("jwtkit.css", "theme.css", "logo", "form_post.js"):
                assert f"/static/{name}`" in cells, name
            continue
        assert re.search(rf"{re.escape(path)}`", cells), f"{path} has no row in docs/server.md"


def test_every_setting_has_a_row_in_the_settings_table() -> None:
    fields = {"JWTKIT_" + field.name.upper() for field in dataclasses.fields(Settings)}
    names, full = documented_settings(first_cells(section("Configuration")))
    assert sorted(fields - names) == [], "settings without a row in docs/server.md"
    assert sorted(full - fields) == [], "rows of docs/server.md for no setting"
