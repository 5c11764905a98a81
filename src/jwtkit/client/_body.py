"""Read a response body within a size cap, decoded or not (private; JWKS and revocation fetches).

httpx inflates ``Content-Encoding: gzip`` by itself, a whole received chunk at a time, and a
cap checked on its output comes too late: a 204 KB response once took 129 MiB (issue 12). So
the fetchers read the raw bytes, and this module decides: ``identity`` passes through;
``gzip``/``x-gzip``/``deflate`` (which servers such as S3 send for pre-compressed objects even
when asked for ``identity``) are inflated with ``zlib`` in steps that never produce more than
the cap; any other encoding, or a stack of them, is refused.
"""

from __future__ import annotations

import zlib
from typing import Final

from jwtkit.errors import JWKSFetchError

__all__ = ["CappedBody", "check_max_bytes"]

_INFLATED: Final = frozenset({"gzip", "x-gzip", "deflate"})
# zlib's window bits + 32: accept a gzip or a zlib header (RFC 9110 §8.4.1.2-3).
_AUTO_HEADER: Final = zlib.MAX_WBITS | 32


def check_max_bytes(value: object) -> int:
    """Return ``value`` as a body cap (the ``max_response_bytes`` option): an int >= 1.

    Raises:
        TypeError, ValueError: anything else.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("max_response_bytes must be an int")
    if value < 1:
        raise ValueError("max_response_bytes must be >= 1")
    return value


class CappedBody:
    """Collect a body of at most ``max_bytes`` decoded bytes from raw chunks.

    Raises (from ``feed``/``finish``):
        JWKSFetchError: (or the given subclass ``error``) the body is larger than the cap,
            uses an encoding that is not decoded, or is not valid gzip/zlib data.
    """

    def __init__(
        self,
        content_encoding: str | None,
        max_bytes: int,
        *,
        what: str,
        error: type[JWKSFetchError] = JWKSFetchError,
    ) -> None:
        self._max = max_bytes
        self._what = what
        self._error = error
        self._chunks: list[bytes] = []
        self._size = 0
        self._raw = 0
        encoding = (content_encoding or "identity").strip().lower()
        self._inflater: zlib._Decompress | None = None
        if encoding in _INFLATED:
            self._inflater = zlib.decompressobj(_AUTO_HEADER)
        elif encoding != "identity":
            raise error(f"the {what} uses Content-Encoding {encoding[:40]!r}, which is not decoded")

    def feed(self, raw: bytes) -> None:
        """Add one raw chunk as received."""
        self._raw += len(raw)
        if self._raw > self._max:
            # Compressed input is capped too: it could inflate to nothing, forever.
            raise self._too_large()
        if self._inflater is None:
            self._add(raw)
            return
        try:
            data = raw
            while data:
                # max_length bounds each step's output; the rest waits in unconsumed_tail.
                self._add(self._inflater.decompress(data, self._max - self._size + 1))
                data = self._inflater.unconsumed_tail
        except zlib.error as exc:
            raise self._error(f"the {self._what} is not valid compressed data") from exc

    def finish(self) -> bytes:
        """Return the whole decoded body."""
        if self._inflater is not None:
            if not self._inflater.eof:
                raise self._error(f"the {self._what} ends inside its compressed data")
        return b"".join(self._chunks)

    def _add(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._max:
            raise self._too_large()
        if data:
            self._chunks.append(data)

    def _too_large(self) -> JWKSFetchError:
        return self._error(f"the {self._what} is larger than max_response_bytes")
