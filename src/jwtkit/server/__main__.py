"""``python -m jwtkit.server [HOST] [PORT]``: serve with settings from ``JWTKIT_*``."""

from __future__ import annotations

import sys

from jwtkit.errors import JWTError, KeyStoreError
from jwtkit.server._serve import serve
from jwtkit.server._settings import Settings


def main(argv: list[str]) -> int:
    """Serve on ``HOST`` (default 127.0.0.1) and ``PORT`` (default 8000); return the exit code.

    Configuration problems end in one ``error: ...`` line on stderr, not a traceback; a
    store that cannot be used exits with 4, as ``jwtkit serve`` does.
    """
    try:
        host = argv[0] if argv else "127.0.0.1"
        port = int(argv[1]) if len(argv) > 1 else 8000
        serve(Settings.from_env(), host, port)
    except KeyStoreError as exc:
        print(f"error: key store: {exc}", file=sys.stderr)
        return 4
    except (JWTError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
