"""The one exception CLI code raises to end a run with a message and an exit status."""

from __future__ import annotations

from jwtkit.cli.status import ExitStatus

__all__ = ["CLIError"]


class CLIError(Exception):
    """End the run: print ``error: <message>`` on stderr and exit with ``status``.

    Commands raise this for every user-caused failure, so that the single handler in
    :mod:`jwtkit.cli.main` prints one readable line instead of a traceback.
    """

    def __init__(self, message: str, status: ExitStatus = ExitStatus.USAGE_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
