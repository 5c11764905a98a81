"""One warning for the old public module names that now live in private modules (issue 15).

Until 0.x the server's modules had no underscore, so the docs pointed at a few of them. Those
names stay importable for a while; each import warns once with where the code is now.
"""

from __future__ import annotations

import warnings

__all__ = ["warn_moved"]


def warn_moved(old: str, new: str) -> None:
    """Warn that module ``old`` is deprecated and that ``new`` (private) holds its code now."""
    warnings.warn(
        f"{old} is deprecated: import from jwtkit.server, or know that {new} is private "
        "and may change without notice",
        DeprecationWarning,
        stacklevel=3,
    )
