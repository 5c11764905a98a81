"""One module per ``jwtkit`` command; each is a thin adapter over library calls."""

from __future__ import annotations

__all__: list[str] = []
