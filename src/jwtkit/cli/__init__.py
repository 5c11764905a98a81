"""The ``jwtkit`` command line: every everyday JWT job offline, and the operator's console.

The entry point is :func:`jwtkit.cli.main.main` (``jwtkit`` on the command line, or
``python -m jwtkit``). It parses with the standard library's argparse; the ``cli`` extra adds
rich for colour on a terminal. Nothing is imported here so that starting the command line
stays fast.
"""

from __future__ import annotations

__all__: list[str] = []
