"""``VerifyRules``: the verify options, checked and normalized once (issue 15, step 3).

``Verifier``, ``decode``, ``KeyManager.verifier`` and ``AsyncVerifier`` all take the same
options; each turns them into one ``VerifyRules``, so their types, defaults and validation
live here alone. The pipeline (``_pipeline``) reads the header rules from it and the claims
checks (``_claims``) the claim rules.

It is a frozen, slotted class written out rather than a ``dataclasses.dataclass``: ``jwtkit
verify`` must start without importing ``dataclasses`` (which loads ``inspect``, milliseconds;
issue 17). It behaves as a frozen dataclass does (immutable, compared and hashed by its
fields), and its attributes are plain slots, the fastest to read on the hot path (a
``NamedTuple``'s are measurably slower there).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime, timedelta
from typing import cast

from jwtkit._json import DEFAULT_MAX_DEPTH
from jwtkit._pipeline import DEFAULT_MAX_TOKEN_SIZE, normalize_typ
from jwtkit.errors import UnsupportedAlgorithmError
from jwtkit.jwa import Algorithm, get_algorithm

__all__ = [
    "DEFAULT_MAX_TOKEN_SIZE",
    "DEFAULT_REQUIRE",
    "Names",
    "Seconds",
    "Time",
    "VerifyRules",
    "allowed_algorithms",
    "seconds",
]

DEFAULT_REQUIRE = ("exp",)

Time = int | float | datetime
Seconds = int | float | timedelta
Names = str | Collection[str]

_ALLOWED_CACHE: dict[tuple[str, ...], dict[str, Algorithm]] = {}


def allowed_algorithms(algorithms: Iterable[str]) -> dict[str, Algorithm]:
    """Validate an ``algorithms=`` allow-list into ``{name: Algorithm}`` (memoized).

    Raises:
        TypeError: not a collection of names (a single string is refused: "HS256" would
            otherwise allow "H", "S", ...).
        ValueError: the list is empty.
        UnsupportedAlgorithmError: a name is unknown, or is ``none``.
    """
    kind = type(algorithms)
    if kind is not list and kind is not tuple:  # the usual kinds skip the slower ABC check
        if isinstance(algorithms, str | bytes) or not isinstance(algorithms, Iterable):
            raise TypeError("algorithms must be a list of algorithm names, e.g. ['ES256']")
    names = tuple(algorithms)
    cached = _ALLOWED_CACHE.get(names)
    if cached is not None:
        return cached
    if not names:
        raise ValueError("algorithms must name at least one algorithm")
    allowed: dict[str, Algorithm] = {}
    for name in names:
        if isinstance(name, str) and name.lower() == "none":
            raise UnsupportedAlgorithmError("alg 'none' can never be allowed")
        allowed[name] = get_algorithm(name)
    if len(_ALLOWED_CACHE) < 256:
        _ALLOWED_CACHE[names] = allowed
    return allowed


def seconds(value: Seconds, name: str) -> float:
    """A non-negative duration as float seconds.

    Raises:
        ValueError: not a non-negative number of seconds or a ``timedelta``.
    """
    amount = value.total_seconds() if isinstance(value, timedelta) else value
    if isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0:
        raise ValueError(f"{name} must be a non-negative number of seconds or a timedelta")
    return float(amount)


def _names(value: Names | None, what: str) -> frozenset[str] | None:
    if value is None:
        return None
    if type(value) is str:
        return frozenset((value,))
    names = frozenset(value)
    if not names or not all(isinstance(name, str) for name in names):
        raise TypeError(f"{what} must be a string or a non-empty collection of strings")
    return names


_FIELDS = (
    "algorithms",
    "issuer",
    "audience",
    "subject",
    "leeway",
    "require",
    "max_age",
    "typ",
    "max_token_size",
    "max_depth",
)


class _Draft:
    """The slots of ``VerifyRules``, still assignable: ``VerifyRules.__new__`` fills one in
    and then makes it a ``VerifyRules`` (same layout), which refuses every later assignment.
    Plain slot stores cost a tenth of ``object.__setattr__`` calls, and ``decode`` builds
    rules on every call."""

    __slots__ = (*_FIELDS, "allowed")

    algorithms: tuple[str, ...]
    issuer: frozenset[str] | None
    audience: frozenset[str] | None
    subject: str | None
    leeway: float
    require: tuple[str, ...]
    max_age: float | None
    typ: str | None  # normalized (``normalize_typ``)
    max_token_size: int
    max_depth: int
    allowed: Mapping[str, Algorithm]  # derived from ``algorithms``


class VerifyRules(_Draft):
    """What a token must satisfy, beyond its signature: the options of ``Verifier``.

    ``algorithms`` is the allow-list (required, never ``none``). ``issuer`` and ``audience``
    may each be one string or several; ``subject`` is one string. ``require`` names claims
    that must be present (``exp`` by default; ``max_age`` adds ``iat``). ``leeway`` and
    ``max_age`` are seconds or ``timedelta``. ``typ`` is the expected header type (RFC 8725
    §3.11). ``max_token_size`` and ``max_depth`` bound the token and its JSON nesting.

    The attributes hold the normalized values (frozensets of names, float seconds), and
    ``allowed`` the allow-list as ``{name: Algorithm}``.

    Raises:
        TypeError, ValueError, UnsupportedAlgorithmError: an option is malformed.
    """

    __slots__ = ()

    def __new__(
        cls,
        *,
        algorithms: Iterable[str],
        issuer: Names | None = None,
        audience: Names | None = None,
        subject: str | None = None,
        leeway: Seconds = 0,
        require: Iterable[str] = DEFAULT_REQUIRE,
        max_age: Seconds | None = None,
        typ: str | None = None,
        max_token_size: int = DEFAULT_MAX_TOKEN_SIZE,
        max_depth: int = DEFAULT_MAX_DEPTH,
    ) -> VerifyRules:
        draft = object.__new__(_Draft)
        draft.allowed = allowed = allowed_algorithms(algorithms)
        draft.algorithms = tuple(allowed)
        draft.issuer = None if issuer is None else _names(issuer, "issuer")
        draft.audience = None if audience is None else _names(audience, "audience")
        if subject is not None and not isinstance(subject, str):
            raise TypeError("subject must be a string")
        draft.subject = subject
        draft.leeway = 0.0 if leeway == 0 and type(leeway) is int else seconds(leeway, "leeway")
        draft.max_age = age = None if max_age is None else seconds(max_age, "max_age")
        if require is not DEFAULT_REQUIRE or age is not None:
            if isinstance(require, str | bytes) or not isinstance(require, Iterable):
                raise TypeError("require must be a collection of claim names")
            required = {*require}
            if not all(isinstance(name, str) for name in required):
                raise TypeError("require must be a collection of claim names")
            if age is not None:
                required.add("iat")
            require = tuple(sorted(required))
        draft.require = tuple(require)
        draft.typ = None if typ is None else normalize_typ(typ)
        draft.max_token_size = max_token_size
        draft.max_depth = max_depth
        draft.__class__ = cls  # from here on frozen
        return cast("VerifyRules", draft)

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in _FIELDS)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"VerifyRules is frozen: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"VerifyRules is frozen: cannot delete {name!r}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VerifyRules):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in _FIELDS)
        return f"VerifyRules({shown})"
