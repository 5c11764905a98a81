"""The custom mutator of each kind of target, built from the PEM/DER and JSON mutators.

``byte_mutate(data, max_size)`` is libFuzzer's own mutator in a worker (``atheris.Mutate``,
which also uses the JOSE dictionary); tests pass a plain Python one.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable

from fuzz._der import mutate_pem
from fuzz._jsonmut import mutate_json

__all__ = ["Mutator", "make_mutator"]

ByteMutator = Callable[[bytes, int], bytes]
Mutator = Callable[[bytes, int, int], bytes]


def _b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _unb64url(data: bytes) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(data + b"=" * (-len(data) % 4))
    except ValueError:
        return None


def _token(data: bytes, max_size: int, seed: int, byte_mutate: ByteMutator) -> bytes:
    """Mutate a token input: the JSON inside its segments, or the bytes."""
    rng = random.Random(seed)
    if len(data) < 2 or rng.random() < 0.25:
        return byte_mutate(data, max_size)
    mode, body = data[:1], data[1:]
    if mode[0] % 3:  # header JSON \n claims JSON, signed by the target
        parts = body.split(b"\n", 1)
        index = rng.randrange(len(parts))
        parts[index] = mutate_json(parts[index], max_size, seed, byte_mutate)
        return (mode + b"\n".join(parts))[:max_size]
    segments = body.split(b".")
    index = rng.randrange(len(segments))
    decoded = _unb64url(segments[index]) if index < 2 else None
    if decoded is None:
        segments[index] = byte_mutate(segments[index], max(len(segments[index]) + 16, 1))
    else:
        segments[index] = _b64url(mutate_json(decoded, max_size, seed, byte_mutate))
    return (mode + b".".join(segments))[:max_size]


def _keyfile(data: bytes, max_size: int, seed: int, byte_mutate: ByteMutator) -> bytes:
    """Mutate a CLI key file input (mode byte, then a PEM, JSON or secret file)."""
    if len(data) < 2:
        return byte_mutate(data, max_size)
    mode, body = data[:1], data[1:]
    if random.Random(seed).random() < 0.05:
        mode = bytes([random.Random(seed + 1).randrange(16)])
    if body.lstrip().startswith(b"-----BEGIN"):
        body = mutate_pem(body, max_size - 1, seed, byte_mutate)
    elif body.lstrip().startswith(b"{"):
        body = mutate_json(body, max_size - 1, seed, byte_mutate)
    else:
        body = byte_mutate(body, max_size - 1)
    return mode + body


def make_mutator(kind: str, byte_mutate: ByteMutator) -> Mutator | None:
    """The custom mutator for a target of ``kind`` (``None``: libFuzzer's own is best)."""
    if kind == "bytes":
        return None
    mutate = {"pem": mutate_pem, "json": mutate_json, "token": _token, "keyfile": _keyfile}[kind]
    return lambda data, max_size, seed: mutate(data, max_size, seed, byte_mutate)
