"""Adapters giving every library the same interface: keys prepared once, then sign / verify.

``verify(token)`` must validate the signature, ``exp`` (required), ``iss`` and ``aud`` and allow
only the case's algorithm; ``benchmarks.run`` proves that for every cell by feeding each
verifier tokens that must fail (see ``CHECKS`` there) and reports any check a library skips.
Each factory imports its library lazily and raises :class:`Unsupported` when the library or
the algorithm is missing, so one absent peer is reported instead of ending the run.
"""

from __future__ import annotations

import base64
import importlib.metadata
import inspect
import itertools
import json
from collections.abc import Callable
from typing import Any

from benchmarks import floor
from benchmarks._common import (
    AUDIENCE,
    ISSUER,
    KID,
    LIFETIME,
    Material,
    Ops,
    Unsupported,
    base_claims,
    full_claims,
)

__all__ = [
    "FACADE",
    "FACADE_PEM",
    "LIBRARIES",
    "PYJWT_BASELINE",
    "UNSHARED",
    "Library",
    "version_of",
]

Factory = Callable[[Material], Ops]

FACADE = "PyJWT façade"
UNSHARED = "jwtkit unshared header"
FACADE_PEM = "PyJWT façade (PEM per call)"
#: The PyJWT row each library's ``x PyJWT`` ratio divides by (the PEM rows by each other).
PYJWT_BASELINE = {FACADE_PEM: "PyJWT (PEM per call)"}


class Library:
    """A benchmarked library: display name, distribution (for its version), factory."""

    __slots__ = ("dist", "factory", "name", "peer", "validates")

    def __init__(
        self, name: str, dist: str, factory: Factory, *, peer: bool = True, validates: bool = True
    ) -> None:
        self.name = name
        self.dist = dist
        self.factory = factory
        # ``peer``: another JWT library jwtkit must beat; ``validates``: runs the token checks.
        self.peer = peer
        self.validates = validates

    def prepare(self, material: Material) -> Ops:
        """Load the keys for one case, raising :class:`Unsupported` with the reason if needed."""
        try:
            return self.factory(material)
        except ImportError as exc:
            raise Unsupported(f"{self.dist} not installed ({exc.name})") from exc


def version_of(dist: str) -> str:
    """Return the installed version of distribution ``dist``, or ``"missing"``."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "missing"


def _need(alg: str, supported: object) -> None:
    if alg not in supported:  # type: ignore[operator]
        raise Unsupported(f"{alg} not supported")


# jwtkit ---------------------------------------------------------------------------------------


def _jwtkit_keys(m: Material) -> tuple[Any, Any]:
    from jwtkit import Key

    if m.is_hmac:
        key = Key.from_secret(m.private, alg=m.alg, kid=KID)
        return key, key
    return (
        Key.from_pem(m.private_pem, alg=m.alg, kid=KID),
        Key.from_pem(m.public_pem, alg=m.alg, kid=KID),
    )


def _verifier_kwargs(m: Material) -> dict[str, Any]:
    return {"algorithms": [m.alg], "issuer": ISSUER, "audience": AUDIENCE}


def jwtkit_objects(m: Material) -> Ops:
    """jwtkit's ``Signer`` (adds iss/aud/iat/exp itself) and ``Verifier``."""
    from jwtkit import Signer, Verifier

    private, public = _jwtkit_keys(m)
    signer = Signer(private, issuer=ISSUER, audience=AUDIENCE, lifetime=LIFETIME, jti=False)
    verifier = Verifier(public, **_verifier_kwargs(m))
    return Ops(signer.sign, verifier.verify, sign_claims=base_claims())


def jwtkit_unshared(m: Material) -> Ops:
    """jwtkit's ``Verifier`` given, on every call, a token whose header it has not just seen.

    Tokens from one issuer share their header segment, and the ``Verifier`` keeps the few it
    has checked (issue 18), so the ``jwtkit`` row (the same token every call) is the
    shared-header case. This row cycles through 64 floor-signed tokens whose headers differ
    (an extra ``n`` member), more than the verifier keeps, so every call decodes and checks
    its header: the cost for tokens that share nothing. The shared token it is timed with
    is swapped for the next of the cycle; every other token (the checks' bad ones) is
    verified as given.
    """
    from jwtkit import Verifier

    _, public = _jwtkit_keys(m)
    verifier = Verifier(public, **_verifier_kwargs(m))
    headers = ({"alg": m.alg, "typ": "JWT", "kid": KID, "n": i} for i in range(64))
    cycle = itertools.cycle([floor.sign_token(m, full_claims(), h) for h in headers])
    first: list[str] = []

    def verify(token: str) -> dict[str, Any]:
        if not first:
            first.append(token)  # the harness times the token it checks first
        return verifier.verify(next(cycle) if token is first[0] else token)

    return Ops(None, verify, note="a new header every call (64 in turn)")


def jwtkit_functions(m: Material) -> Ops:
    """jwtkit's ``encode()`` / ``decode()`` convenience functions with a loaded ``Key``."""
    from jwtkit import decode, encode

    private, public = _jwtkit_keys(m)
    kwargs = _verifier_kwargs(m)
    alg = m.alg
    return Ops(
        lambda claims: encode(claims, private, alg=alg),
        lambda token: decode(token, public, **kwargs),
    )


def jwtkit_cached(m: Material) -> Ops:
    """jwtkit's ``Verifier`` with the opt-in verified-token cache (verify only).

    The option is looked up by name (``cache_size``, or ``cache`` in early drafts) so the
    harness keeps running, with a note, on a jwtkit that does not have it.
    """
    from jwtkit import Verifier

    _, public = _jwtkit_keys(m)
    params = inspect.signature(Verifier).parameters
    name = next((n for n in ("cache_size", "cache") if n in params), None)
    if name is None:
        raise Unsupported("Verifier has no verified-token cache option")
    options: dict[str, Any] = {name: 1024, **_verifier_kwargs(m)}
    verifier = Verifier(public, **options)
    return Ops(None, verifier.verify, note="same token every call: measures cache hits")


# PyJWT ----------------------------------------------------------------------------------------

_PYJWT_OPTIONS: Any = {"require": ["exp", "iss", "aud"]}


def _pyjwt_module(facade: bool) -> Any:
    """PyJWT itself, or jwtkit's drop-in for it (``jwtkit.compat.pyjwt``, issue 16)."""
    if facade:
        import jwtkit.compat.pyjwt

        return jwtkit.compat.pyjwt
    import jwt

    return jwt


def pyjwt(m: Material, *, facade: bool = False) -> Ops:
    """PyJWT with ``cryptography`` key objects (or the secret bytes) loaded once."""
    jwt = _pyjwt_module(facade)
    _need(m.alg, jwt.algorithms.get_default_algorithms())
    return _pyjwt_ops(jwt, m.private, m.public, m.alg)


def pyjwt_pem(m: Material, *, facade: bool = False) -> Ops:
    """PyJWT given the PEM text on every call, as much application code does."""
    if m.alg not in ("RS256", "ES256"):
        raise Unsupported("measured for RS256 and ES256 only")
    return _pyjwt_ops(_pyjwt_module(facade), m.private_pem.decode(), m.public_pem.decode(), m.alg)


def pyjwt_facade(m: Material) -> Ops:
    """The same calls as the PyJWT column, through ``jwtkit.compat.pyjwt``."""
    return pyjwt(m, facade=True)


def pyjwt_facade_pem(m: Material) -> Ops:
    """The same calls as the PyJWT (PEM per call) column, through ``jwtkit.compat.pyjwt``."""
    return pyjwt_pem(m, facade=True)


def _pyjwt_ops(jwt: Any, private: Any, public: Any, alg: str) -> Ops:
    """PyJWT-API sign/verify with the given key forms (objects, or PEM text on every call)."""
    headers = {"kid": KID}

    def verify(token: str) -> dict[str, Any]:
        claims: dict[str, Any] = jwt.decode(
            token,
            public,
            algorithms=[alg],
            audience=AUDIENCE,
            issuer=ISSUER,
            options=_PYJWT_OPTIONS,
        )
        return claims

    return Ops(lambda claims: jwt.encode(claims, private, algorithm=alg, headers=headers), verify)


# joserfc --------------------------------------------------------------------------------------


def joserfc(m: Material) -> Ops:
    """joserfc with imported keys and a ``JWTClaimsRegistry`` for exp/iss/aud."""
    from joserfc import jws, jwt
    from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey

    _need(m.alg, jws.JWSRegistry.algorithms)
    kty = m.case.key.partition("-")[0]
    key_class: Any = {"oct": OctKey, "rsa": RSAKey, "ec": ECKey, "okp": OKPKey}.get(kty)
    if key_class is None:
        raise Unsupported(f"{m.alg} not supported")
    if m.is_hmac:
        private = public = key_class.import_key(m.private)
    else:
        private, public = key_class.import_key(m.private_pem), key_class.import_key(m.public_pem)
    algs = [m.alg]
    header = {"alg": m.alg, "typ": "JWT", "kid": KID}
    registry = jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": AUDIENCE},
        exp={"essential": True},
    )

    def verify(token: str) -> dict[str, Any]:
        claims: dict[str, Any] = jwt.decode(token, public, algorithms=algs).claims
        registry.validate(claims)
        return claims

    return Ops(lambda claims: jwt.encode(header, claims, private, algorithms=algs), verify)


# jwcrypto -------------------------------------------------------------------------------------


def jwcrypto(m: Material) -> Ops:
    """jwcrypto with ``JWK`` objects loaded once and ``check_claims`` for exp/iss/aud."""
    from jwcrypto import jwk, jws, jwt

    _need(m.alg, jws.default_allowed_algs)
    if m.is_hmac:
        k = base64.urlsafe_b64encode(m.private).rstrip(b"=").decode()
        private = public = jwk.JWK(kty="oct", k=k)
    else:
        private, public = jwk.JWK.from_pem(m.private_pem), jwk.JWK.from_pem(m.public_pem)
    algs = [m.alg]
    header = {"alg": m.alg, "typ": "JWT", "kid": KID}
    check = {"iss": ISSUER, "aud": AUDIENCE, "exp": None}

    def sign(claims: dict[str, Any]) -> str:
        token = jwt.JWT(header=header, claims=claims)
        token.make_signed_token(private)
        return str(token.serialize())

    def verify(token: str) -> dict[str, Any]:
        checked = jwt.JWT(jwt=token, key=public, algs=algs, check_claims=check, expected_type="JWS")
        claims: dict[str, Any] = json.loads(checked.claims)
        return claims

    return Ops(sign, verify)


# python-jose ----------------------------------------------------------------------------------


def python_jose(m: Material) -> Ops:
    """python-jose (``cryptography`` backend) with ``jwk.construct`` keys made once."""
    from jose import jwk, jwt
    from jose.constants import ALGORITHMS

    _need(m.alg, ALGORITHMS.SUPPORTED)
    if m.is_hmac:
        private = public = jwk.construct(m.private, m.alg)
    else:
        private = jwk.construct(m.private_pem.decode(), m.alg)
        public = jwk.construct(m.public_pem.decode(), m.alg)
    alg, algs, headers = m.alg, [m.alg], {"kid": KID}
    options = {"require_exp": True, "require_iss": True, "require_aud": True}

    def verify(token: str) -> dict[str, Any]:
        claims: dict[str, Any] = jwt.decode(
            token, public, algorithms=algs, audience=AUDIENCE, issuer=ISSUER, options=options
        )
        return claims

    return Ops(lambda claims: jwt.encode(claims, private, algorithm=alg, headers=headers), verify)


# Authlib --------------------------------------------------------------------------------------


def authlib(m: Material) -> Ops:
    """Authlib's ``authlib.jose`` with imported keys and essential iss/aud/exp claims."""
    import warnings

    with warnings.catch_warnings():
        # Authlib 1.7+ marks authlib.jose deprecated in favour of joserfc; it still works.
        warnings.simplefilter("ignore")
        from authlib.jose import JsonWebKey, JsonWebSignature, JsonWebToken

    _need(m.alg, JsonWebSignature.ALGORITHMS_REGISTRY)
    kty = {"oct": "oct", "rsa": "RSA", "ec": "EC", "okp": "OKP"}.get(m.case.key.partition("-")[0])
    if kty is None:
        raise Unsupported(f"{m.alg} not supported")
    if m.is_hmac:
        private = public = JsonWebKey.import_key(m.private, {"kty": "oct"})
    else:
        private = JsonWebKey.import_key(m.private_pem, {"kty": kty})
        public = JsonWebKey.import_key(m.public_pem, {"kty": kty})
    token_api = JsonWebToken([m.alg])
    header = {"alg": m.alg, "typ": "JWT", "kid": KID}
    options = {
        "iss": {"essential": True, "value": ISSUER},
        "aud": {"essential": True, "value": AUDIENCE},
        "exp": {"essential": True},
    }

    def sign(claims: dict[str, Any]) -> str:
        return token_api.encode(header, claims, private).decode("ascii")  # type: ignore[no-any-return]

    def verify(token: str) -> dict[str, Any]:
        claims = token_api.decode(token, public, claims_options=options)
        claims.validate()
        return dict(claims)

    return Ops(sign, verify)


LIBRARIES: tuple[Library, ...] = (
    Library(
        "primitive only", "cryptography", floor.make_primitive_ops, peer=False, validates=False
    ),
    Library("floor", "cryptography", floor.make_ops, peer=False),
    Library("jwtkit", "jwtkit", jwtkit_objects, peer=False),
    Library("jwtkit encode/decode", "jwtkit", jwtkit_functions, peer=False),
    Library("jwtkit cached", "jwtkit", jwtkit_cached, peer=False),
    Library(UNSHARED, "jwtkit", jwtkit_unshared, peer=False),
    Library("PyJWT", "PyJWT", pyjwt),
    # Not a peer to beat: it shows the cost of a usage pattern, not of a library.
    Library("PyJWT (PEM per call)", "PyJWT", pyjwt_pem, peer=False),
    # jwtkit's drop-in for PyJWT (issue 16), compared with the two PyJWT rows above.
    Library(FACADE, "jwtkit", pyjwt_facade, peer=False),
    Library(FACADE_PEM, "jwtkit", pyjwt_facade_pem, peer=False),
    Library("joserfc", "joserfc", joserfc),
    Library("jwcrypto", "jwcrypto", jwcrypto),
    Library("python-jose", "python-jose", python_jose),
    Library("Authlib", "Authlib", authlib),
)
