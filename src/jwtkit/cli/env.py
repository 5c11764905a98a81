"""Where a ``jwtkit`` run reads and writes: its streams and environment, injectable for tests.

Commands never touch ``sys.stdin``/``sys.stdout`` or ``os.environ`` directly; they go through
the :class:`Env` that :func:`jwtkit.cli.main.main` was given (httpie's ``Environment``).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import TextIO

__all__ = ["Env"]


class Env:
    """The streams and environment variables one run uses (the process's by default).

    A test passes its own ``stdin``/``stdout``/``stderr`` (text streams; ``stdin`` may have a
    ``buffer`` for binary reads) and ``environ``. Hidden prompts read the terminal through
    :mod:`getpass` only when ``stdin`` is the process's own; an injected stdin answers them.
    """

    __slots__ = ("environ", "stderr", "stdin", "stdout")

    def __init__(
        self,
        *,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.stdin = sys.stdin if stdin is None else stdin
        self.stdout = sys.stdout if stdout is None else stdout
        self.stderr = sys.stderr if stderr is None else stderr
        self.environ = os.environ if environ is None else environ

    def out(self, text: str) -> None:
        """Write one line to stdout, the machine-readable channel."""
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def err(self, text: str) -> None:
        """Write one line to stderr, where every human message goes."""
        self.stderr.write(text + "\n")
        self.stderr.flush()

    def read_stdin(self) -> bytes:
        """Return all of stdin as bytes."""
        buffer = getattr(self.stdin, "buffer", None)
        return buffer.read() if buffer is not None else self.stdin.read().encode()

    def read_line(self, prompt: str = "") -> str:
        """Show ``prompt`` on stderr and return one line of stdin without its line ending.

        Raises EOFError when stdin is exhausted (there is no one to answer).
        """
        if prompt:
            self.stderr.write(prompt)
            self.stderr.flush()
        line = self.stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\r\n")

    def read_hidden(self, prompt: str) -> str:
        """Return a secret typed at a hidden prompt (the terminal, as ``getpass`` reads it)."""
        if self.stdin is sys.stdin:
            import getpass  # lazy: only prompts need it

            return getpass.getpass(prompt, stream=self.stderr)
        value = self.read_line(prompt)
        self.stderr.write("\n")
        return value

    def confirm(self, question: str) -> bool:
        """Ask a yes/no ``question`` on stderr (default no); EOFError when nobody can answer."""
        while True:
            answer = self.read_line(f"{question} [y/N]: ").strip().lower()
            if answer in ("y", "yes"):
                return True
            if answer in ("", "n", "no"):
                return False
            self.err("Error: invalid input")
