"""Run the command line as ``python -m jwtkit``."""

from __future__ import annotations

from jwtkit.cli.main import run

if __name__ == "__main__":
    run()
