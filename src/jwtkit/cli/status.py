"""Exit statuses of the ``jwtkit`` command, one documented number per kind of outcome."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["ExitStatus"]


class ExitStatus(IntEnum):
    """What a ``jwtkit`` run ended with; scripts branch on these numbers (see docs/cli.md).

    The numbers are stable: 0 and 1 answer "is this token good?", 2 is a mistake in the
    command line, and the rest say which part of the environment was at fault.
    """

    OK = 0
    INVALID_TOKEN = 1
    USAGE_ERROR = 2
    KEY_ERROR = 3
    STORE_ERROR = 4
    UNAVAILABLE = 5
    ABORTED = 6
    IO_ERROR = 7
    INTERNAL_ERROR = 70
