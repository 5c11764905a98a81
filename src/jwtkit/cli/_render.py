"""Render reports and tables as plain text or, on a terminal, in colour with rich.

rich is imported only inside the coloured paths: it costs more to import than the whole
verify path, and plain output (pipes, NO_COLOR, --no-color) needs none of it.
"""

from __future__ import annotations

import json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from jwtkit.cli._report import Report
    from jwtkit.cli.env import Env

__all__ = ["NOT_VERIFIED", "render_report", "render_table"]

NOT_VERIFIED = (
    "NOT VERIFIED: this shows what the token claims; its signature and claims were not checked "
    "(use 'jwtkit verify')."
)


def _as_of(report: Report) -> str:
    """Return `` (as of DATE)`` when the report describes a --now other than the present."""
    if report.as_of is None:
        return ""
    from jwtkit.cli._report import utc_date

    return f" (as of {utc_date(report.as_of)})"


def _plain_report(report: Report) -> str:
    lines = [NOT_VERIFIED, "", "Header:", json.dumps(report.header, indent=2, ensure_ascii=False)]
    lines += ["", "Claims:", json.dumps(report.claims, indent=2, ensure_ascii=False)]
    if report.times:
        lines += ["", f"Times{_as_of(report)}:"]
        width = max(len(t.claim) for t in report.times)
        lines += [f"  {t.claim:<{width}}  {t.date}  ({t.relative})" for t in report.times]
    lines += ["", "Warnings:" if report.warnings else "Warnings: none"]
    lines += [f"  ! {w}" for w in report.warnings]
    return "\n".join(lines)


def _rich_report(env: Env, report: Report) -> None:
    from rich.console import Console
    from rich.json import JSON
    from rich.table import Table
    from rich.text import Text

    # Everything shown comes from an untrusted token: it is passed as Text, never as markup.
    console = Console(file=env.stdout, force_terminal=True, highlight=False)
    console.print(f"[bold yellow]{NOT_VERIFIED}[/]", markup=True)
    console.print("\n[bold]Header[/]")
    console.print(JSON(json.dumps(report.header, ensure_ascii=False)))
    console.print("\n[bold]Claims[/]")
    console.print(JSON(json.dumps(report.claims, ensure_ascii=False)))
    if report.times:
        title = f"Times{_as_of(report)}"
        table = Table("claim", "date", "relative", title=title, title_justify="left")
        for t in report.times:
            style = "red" if t.relative.startswith("expired") else None
            table.add_row(Text(t.claim), Text(t.date), Text(t.relative), style=style)
        console.print(table)
    if report.warnings:
        console.print("[bold red]Warnings[/]")
        for warning in report.warnings:
            console.print(Text.assemble(("  ! ", "red"), warning), soft_wrap=True)
    else:
        console.print("[green]No warnings[/]")


def render_report(env: Env, report: Report, *, color: bool) -> None:
    """Print an inspect report on stdout, coloured when ``color`` (and rich is installed)."""
    if color and _have_rich():
        _rich_report(env, report)
    else:
        env.out(_plain_report(report))


def _have_rich() -> bool:
    """Return whether rich (the ``cli`` extra) is installed; without it output stays plain."""
    import importlib.util

    return importlib.util.find_spec("rich") is not None


def render_table(
    env: Env, columns: Sequence[str], rows: Sequence[Sequence[str]], *, color: bool, title: str = ""
) -> None:
    """Print rows as an aligned table on stdout (a rich table when ``color``)."""
    if color and _have_rich():
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        table = Table(*columns, title=title or None, title_justify="left")
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))
        Console(file=env.stdout, force_terminal=True).print(table)
        return
    widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(columns)]
    for row in [list(columns), *rows]:
        env.out("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
