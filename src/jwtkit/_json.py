"""Strict JSON for JOSE headers and JWT claims (RFC 7159 as profiled by RFC 7515/7519/8725).

Parsing refuses what a lenient parser would guess at: invalid UTF-8 (and UTF-16/32, which
``json.loads`` would silently accept from bytes), duplicate member names (RFC 8725 §3.13, since
two parsers may pick different duplicates), the non-standard ``NaN``/``Infinity`` literals and
numbers too large for a double (``1e400``, which would otherwise become infinity), a top level
that is not an object, and nesting deeper than a limit. Serialization is compact
and deterministic.
"""

from __future__ import annotations

import json
import json.scanner
import math
import re
from typing import Any

__all__ = ["DEFAULT_MAX_DEPTH", "JSONError", "dumps", "loads_object"]

DEFAULT_MAX_DEPTH = 32


class JSONError(ValueError):
    """The bytes are not an acceptable JOSE JSON object; the message says why."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise JSONError("duplicate member name")
    return obj


def _reject_constant(name: str) -> Any:
    raise JSONError(f"non-standard JSON literal {name}")


def _finite_float(text: str) -> float:
    # RFC 8259 §6 lets a parser limit the range of numbers. One that overflows a double would
    # become infinity, the very value the Infinity literal is refused for (issue 19, F4). The
    # C scanner calls this for fraction and exponent literals only, never for integers.
    value = float(text)
    if math.isinf(value):
        raise JSONError("number out of range")
    return value


_decoder = json.JSONDecoder(
    object_pairs_hook=_no_duplicates, parse_constant=_reject_constant, parse_float=_finite_float
)
# The C scanner behind JSONDecoder.decode, called directly: decode() adds two regex
# whitespace scans that a compact JOSE document almost never needs.
_scan = json.scanner.make_scanner(_decoder)  # type: ignore[arg-type]
_decode = _decoder.decode
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_encoder = json.JSONEncoder(
    separators=(",", ":"), sort_keys=True, ensure_ascii=False, allow_nan=False
)


def _depth(text: str) -> int:
    """Return the deepest nesting of arrays and objects, ignoring brackets inside strings."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def loads_object(data: bytes, *, max_depth: int = DEFAULT_MAX_DEPTH) -> dict[str, Any]:
    """Parse ``data`` as a UTF-8 JSON object under the rules in the module docstring.

    Raises:
        JSONError: for every reason the bytes are not acceptable.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise JSONError("not valid UTF-8") from None
    # Counting brackets is a cheap upper bound on depth; only unusual documents pay for the
    # exact scan, and the scan runs before the recursive parser could exhaust the stack.
    if text.count("{") + text.count("[") > max_depth and _depth(text) > max_depth:
        raise JSONError(f"JSON nested deeper than {max_depth} levels")
    try:
        obj, end = _scan(text, 0)
        if end != len(text):
            obj = _decode(text)  # trailing whitespace is allowed, anything else is not
    except JSONError:
        raise
    except StopIteration:
        try:  # leading whitespace, or not JSON at all
            obj = _decode(text)
        except JSONError:
            raise
        except (ValueError, RecursionError) as exc:
            raise JSONError("not valid JSON") from exc
    except (ValueError, RecursionError) as exc:
        raise JSONError("not valid JSON") from exc
    if type(obj) is not dict:
        raise JSONError("not a JSON object")
    if "\\u" in text and _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(obj):
        raise JSONError("string with an unpaired UTF-16 surrogate (RFC 8259 §8.2)")
    return obj


def _has_lone_surrogate(obj: dict[str, Any]) -> bool:
    """Whether any string in ``obj`` holds a surrogate, which UTF-8 cannot encode."""
    try:
        _encoder.encode(obj).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def dumps(obj: Any) -> bytes:
    """Serialize ``obj`` compactly with sorted member names, as UTF-8 bytes.

    Raises:
        TypeError: a value is not JSON-serializable.
        ValueError: a float is NaN or infinite.
    """
    return _encoder.encode(obj).encode("utf-8")
