"""A structure-aware mutator for JSON documents (JWKs, JWK Sets, JOSE headers and claims).

Byte mutation mostly breaks the syntax, and the strict parser then stops the input early. This
mutator parses the document, replaces one value with a hostile one of another type or at a
numeric edge (a list where a name belongs, an integer no float holds, ``1e400``, a lone
surrogate escape, deep nesting, a JOSE member name), or renames, drops or duplicates a
member, and writes the JSON back, so the mutants reach the code that reads the members.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["DICTIONARY", "HOSTILE_TEXT", "NAMES", "mutate_json"]

ByteMutator = Callable[[bytes, int], bytes]

DICTIONARY = Path(__file__).with_name("jose.dict")
#: JOSE member names and the values that select behaviour, from the libFuzzer dictionary.
NAMES = tuple(
    match.group(1)
    for match in re.finditer(r'^(?:member|value)_\w+="([^"\\]*)"$', DICTIONARY.read_text(), re.M)
)
_HOSTILE: tuple[Any, ...] = (
    [], {}, "", None, True, False, 0, -1, 1.5, 2**31, 2**53 + 1, 2**64, -(2**64), 10**400,
    -(10**400), "A", "_" * 400, ["sig"], {"kty": "RSA"}, [[[[[[[[[[]]]]]]]]]], "AQAB",
)  # fmt: skip
#: Raw JSON text that Python's ``json.dumps`` would never write.
HOSTILE_TEXT = (
    "1e400", "-1e400", "NaN", "Infinity", '"\\ud800"', '"\\udc80x"', '"\\u0000"', "-0",
    "1E+2", "0.0000000000000000000001", "[" * 40 + "]" * 40, '"\\ud83d\\ude00"',
)  # fmt: skip
_MARK = "\x00fuzz-raw-{}\x00"


def _places(value: Any, out: list[tuple[Any, Any]], depth: int = 0) -> None:
    """Collect (container, key or index) for the values inside ``value``, 48 levels deep."""
    if depth > 48:
        return
    if isinstance(value, dict):
        for key in list(value):
            out.append((value, key))
            _places(value[key], out, depth + 1)
    elif isinstance(value, list):
        for index in range(len(value)):
            out.append((value, index))
            _places(value[index], out, depth + 1)


def mutate_json(data: bytes, max_size: int, seed: int, mutate: ByteMutator) -> bytes:
    """Return a mutant of the JSON document ``data`` (plain byte mutation if it is not JSON)."""
    rng = random.Random(seed)
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return mutate(data, max_size)
    if rng.random() < 0.2 or not isinstance(doc, dict | list):
        return mutate(data, max_size)
    raw: list[str] = []
    for _ in range(1 + int(rng.expovariate(1.5))):
        _mutate_once(doc, rng, raw)
    try:
        text = json.dumps(doc, separators=(",", ":"), ensure_ascii=rng.random() < 0.5)
    except (ValueError, TypeError, RecursionError):
        return mutate(data, max_size)
    for index, snippet in enumerate(raw):
        text = text.replace(json.dumps(_MARK.format(index)), snippet)
    if rng.random() < 0.1 and text.startswith("{") and len(text) > 2:
        # A repeated member name (RFC 8725 §3.13), which a dict cannot hold.
        name = rng.choice(NAMES)
        text = "{" + json.dumps(name) + ":" + json.dumps(rng.choice(NAMES)) + "," + text[1:]
    return text.encode("utf-8", "surrogatepass")[:max_size]


def _mutate_once(doc: Any, rng: random.Random, raw: list[str]) -> None:
    """Change one value or member of ``doc`` in place."""
    places: list[tuple[Any, Any]] = []
    _places(doc, places)
    if not places:
        if isinstance(doc, dict):
            doc[rng.choice(NAMES)] = rng.choice(_HOSTILE)
        return
    container, key = rng.choice(places)
    roll = rng.random()
    if roll < 0.45:
        container[key] = rng.choice(_HOSTILE)
    elif roll < 0.6:
        raw.append(rng.choice(HOSTILE_TEXT))
        container[key] = _MARK.format(len(raw) - 1)
    elif roll < 0.7 and isinstance(container, dict):
        container[rng.choice(NAMES)] = container.pop(key)
    elif roll < 0.8:
        if isinstance(container, dict):
            del container[key]
        else:
            container.pop(key)
    elif roll < 0.9:
        value = container[key]
        container[key] = [value, value] if rng.random() < 0.5 else {rng.choice(NAMES): value}
    elif isinstance(container[key], str):
        container[key] = rng.choice(NAMES) if rng.random() < 0.5 else container[key][::-1]
    else:
        container[key] = str(container[key])
