"""The Key / KeySet public API as written in the contract (issue 2).

Generation for every algorithm, import from secrets, PEM (PKCS#8, traditional, SPKI, X.509
certificate made here with ``cryptography.x509``) and JWK, ``public()``, JWK/PEM round trips,
thumbprints, immutability and equality, and JWK Set handling.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

from jwtkit import Key, KeySet, decode, encode, jws
from jwtkit.errors import InvalidKeyError, KeyNotFoundError, UnsupportedAlgorithmError
from jwtkit.jwa import ALGORITHMS
from tests.support.vectors import NOW, b64url_decode, b64url_encode

ALL_ALGS = list(ALGORITHMS)

#: alg -> (kty, crv, size in bits) of ``Key.generate(alg)``; AKP keys report their parameter
#: set as ``crv``.
GENERATED: dict[str, tuple[str, str | None, int]] = {
    "HS256": ("oct", None, 256),
    "HS384": ("oct", None, 384),
    "HS512": ("oct", None, 512),
    "RS256": ("RSA", None, 2048),
    "RS384": ("RSA", None, 2048),
    "RS512": ("RSA", None, 2048),
    "PS256": ("RSA", None, 2048),
    "PS384": ("RSA", None, 2048),
    "PS512": ("RSA", None, 2048),
    "ES256": ("EC", "P-256", 256),
    "ES384": ("EC", "P-384", 384),
    "ES512": ("EC", "P-521", 521),
    "ES256K": ("EC", "secp256k1", 256),
    "EdDSA": ("OKP", "Ed25519", 256),
    "Ed25519": ("OKP", "Ed25519", 256),
    "Ed448": ("OKP", "Ed448", 456),
    "ML-DSA-44": ("AKP", "ML-DSA-44", 0),
    "ML-DSA-65": ("AKP", "ML-DSA-65", 0),
    "ML-DSA-87": ("AKP", "ML-DSA-87", 0),
}

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "priv", "k"}


def test_algorithm_table_is_complete() -> None:
    """jwtkit implements exactly the algorithms of issue 2, and ``none`` is not one of them."""
    assert set(ALGORITHMS) == set(GENERATED)


# -------------------------------------------------------------------------------- generate


@pytest.mark.parametrize("alg", ALL_ALGS)
def test_generate_every_algorithm(alg: str, key_for: Callable[[str], Key]) -> None:
    """Generated keys have the documented type, curve and size, and sign for their alg."""
    kty, crv, size = GENERATED[alg]
    key = key_for(alg) if kty == "RSA" else Key.generate(alg, kid=f"k-{alg}")
    assert key.kty == kty
    assert key.crv == crv
    assert key.has_private
    if size:
        assert key.size == size
    if kty != "RSA":
        assert key.kid == f"k-{alg}"
    assert alg in key.algorithms()
    sig = jws.sign_bytes(alg, key, b"data")
    verifier = key if kty == "oct" else key.public()
    jws.verify_bytes(alg, verifier, b"data", sig)
    assert ALGORITHMS[alg].sig_size in (0, len(sig))


def test_generate_binds_alg() -> None:
    """``generate(alg)`` binds the key to ``alg``; EdDSA gives an Ed25519 key."""
    assert Key.generate("ES384").alg == "ES384"
    ed = Key.generate("EdDSA")
    assert ed.crv == "Ed25519"
    assert ed.alg == "EdDSA"


def test_generate_rsa_size() -> None:
    """``size`` picks the modulus length (3072 here; 4096+ is just slower)."""
    key = Key.generate("PS384", size=3072)
    assert key.size == 3072
    assert key.alg == "PS384"


def test_generate_unknown_algorithm() -> None:
    """Unknown algorithm names are UnsupportedAlgorithmError."""
    for name in ("HS1", "RS128", "ES256k", "ed25519", "", "none"):
        with pytest.raises(UnsupportedAlgorithmError):
            Key.generate(name)


def test_generated_keys_are_fresh() -> None:
    """Two generated keys differ (randomness, not a fixed seed)."""
    assert Key.generate("HS256").to_jwk(private=True) != Key.generate("HS256").to_jwk(private=True)
    assert Key.generate("ES256").thumbprint() != Key.generate("ES256").thumbprint()


def test_keys_are_made_by_the_class_methods_only() -> None:
    with pytest.raises(TypeError, match=r"Key\.generate"):
        Key()


@pytest.mark.parametrize(
    ("alg", "size", "message"),
    [("ES256", 256, "size does not apply"), ("HS256", 128, "at least 256 bits")],
)
def test_generate_refuses_sizes_that_do_not_fit(alg: str, size: int, message: str) -> None:
    with pytest.raises(InvalidKeyError, match=message):
        Key.generate(alg, size=size)


# ----------------------------------------------------------------------------- from_secret


def test_from_secret_bytes_and_str() -> None:
    """str secrets are UTF-8 encoded; alg and kid are kept."""
    text = "é" * 24  # 48 UTF-8 bytes
    key = Key.from_secret(text, alg="HS384", kid="s")
    assert key.kty == "oct"
    assert key.alg == "HS384"
    assert key.kid == "s"
    assert key.size == 48 * 8
    assert b64url_decode(key.to_jwk(private=True)["k"]) == text.encode("utf-8")
    assert Key.from_secret(text.encode("utf-8"), alg="HS384", kid="s") == key
    assert Key.from_secret(b"x" * 32).alg == "HS256"


def test_from_secret_refuses_non_hmac_alg() -> None:
    """A shared secret is only for HS*."""
    with pytest.raises((InvalidKeyError, UnsupportedAlgorithmError)):
        Key.from_secret(b"x" * 64, alg="RS256")


# -------------------------------------------------------------------------------- from_pem


def _cert_pem(public: Any, signer: Any) -> bytes:
    """A self-signed certificate for ``public`` signed by ``signer`` (cryptography.x509)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jwtkit")])
    start = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
    algorithm = (
        None
        if isinstance(signer, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey)
        else hashes.SHA256()
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(42)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=30))
        .sign(signer, algorithm)
    )
    return cert.public_bytes(serialization.Encoding.PEM)


#: Private-key factories (cryptography used directly), one per key family; called inside the
#: test so that collection stays cheap.
CRYPTO_KEYS: dict[str, tuple[Callable[[], Any], str]] = {
    "rsa": (lambda: rsa.generate_private_key(65537, 2048), "RS256"),
    "p256": (lambda: ec.generate_private_key(ec.SECP256R1()), "ES256"),
    "p384": (lambda: ec.generate_private_key(ec.SECP384R1()), "ES384"),
    "p521": (lambda: ec.generate_private_key(ec.SECP521R1()), "ES512"),
    "secp256k1": (lambda: ec.generate_private_key(ec.SECP256K1()), "ES256K"),
    "ed25519": (ed25519.Ed25519PrivateKey.generate, "Ed25519"),
    "ed448": (ed448.Ed448PrivateKey.generate, "Ed448"),
}


def _spki(private: Any) -> bytes:
    return private.public_key().public_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.mark.parametrize("family", list(CRYPTO_KEYS))
def test_from_pem_every_format(family: str) -> None:
    """PKCS#8 (plain and encrypted), traditional, SPKI and certificates all load."""
    make, alg = CRYPTO_KEYS[family]
    private = make()
    nopass = serialization.NoEncryption()
    pkcs8 = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, nopass
    )
    encrypted = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"hunter2"),
    )
    spki = _spki(private)
    reference = Key.from_pem(pkcs8)
    assert reference.has_private
    # A PEM names no algorithm: only a curve that admits exactly one (EC) binds it.
    assert reference.alg == (alg if alg.startswith("ES") else None)
    loaded = [
        Key.from_pem(pkcs8.decode("ascii")),
        Key.from_pem(encrypted, password=b"hunter2"),
        Key.from_pem(encrypted, password="hunter2"),
    ]
    if not isinstance(private, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        traditional = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, nopass
        )
        loaded.append(Key.from_pem(traditional))
    for key in loaded:
        assert key == reference
    public = Key.from_pem(spki)
    assert not public.has_private
    assert public == reference.public()
    cert = Key.from_pem(_cert_pem(private.public_key(), private))
    assert not cert.has_private
    assert cert.thumbprint() == reference.thumbprint()
    bound = Key.from_pem(pkcs8, alg=alg, kid="pem")
    assert bound.alg == alg
    assert bound.kid == "pem"
    token = jws.sign_compact(b"x", bound)
    assert jws.verify_compact(token, cert, algorithms=[alg])[1] == b"x"


def test_certificate_signed_by_other_key_gives_subject_key() -> None:
    """The key taken from a certificate is its subject key, not the issuer's."""
    subject = ec.generate_private_key(ec.SECP256R1())
    issuer = ec.generate_private_key(ec.SECP256R1())
    key = Key.from_pem(_cert_pem(subject.public_key(), issuer))
    assert key == Key.from_pem(_spki(subject))


def test_from_pem_password_errors() -> None:
    """Wrong or missing passwords are InvalidKeyError (never a cryptography exception)."""
    private = ec.generate_private_key(ec.SECP256R1())
    encrypted = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"right"),
    )
    for password in (None, b"wrong", "wrong"):
        with pytest.raises(InvalidKeyError):
            Key.from_pem(encrypted, password=password)


def test_from_pem_alg_must_fit() -> None:
    """``alg=`` must fit the key (P-256 cannot be ES384; EC cannot be RS256)."""
    pem = _spki(ec.generate_private_key(ec.SECP256R1()))
    for alg in ("ES384", "RS256", "HS256", "EdDSA"):
        with pytest.raises(InvalidKeyError):
            Key.from_pem(pem, alg=alg)


def test_from_pem_garbage() -> None:
    """Not-a-PEM input and unsupported key types are InvalidKeyError."""
    from cryptography.hazmat.primitives.asymmetric import dsa, x25519

    for data in (b"hello", "-----BEGIN NOTHING-----\nAAAA\n-----END NOTHING-----\n"):
        with pytest.raises(InvalidKeyError):
            Key.from_pem(data)
    x = (
        x25519.X25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    d = (
        dsa.generate_private_key(2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    for pem in (x, d):
        with pytest.raises(InvalidKeyError):
            Key.from_pem(pem)


def test_pem_on_an_unsupported_curve_is_refused() -> None:
    private = ec.generate_private_key(ec.SECP224R1())
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(InvalidKeyError, match="unsupported elliptic curve"):
        Key.from_pem(pem)


# -------------------------------------------------------------------------------- from_jwk


def test_from_jwk_dict_and_str_and_metadata(key_for: Callable[[str], Key]) -> None:
    """A JWK dict or its JSON text loads with kid, alg, use and key_ops."""
    jwk = key_for("ES256").public().to_jwk()
    jwk.update(kid="e1", use="sig", key_ops=["verify"], alg="ES256")
    for source in (jwk, json.dumps(jwk)):
        key = Key.from_jwk(source)
        assert (key.kid, key.alg, key.use, key.key_ops) == ("e1", "ES256", "sig", ("verify",))
        assert key.to_jwk() == jwk


def test_key_ops_limit_use(key_for: Callable[[str], Key]) -> None:
    """A private key whose key_ops lack "sign" cannot sign."""
    jwk = key_for("ES256").to_jwk(private=True)
    key = Key.from_jwk(dict(jwk, key_ops=["verify"]))
    with pytest.raises(InvalidKeyError):
        jws.sign_bytes("ES256", key, b"data")


@pytest.mark.parametrize("bad", ["not json", "[]", "1", '{"kty": 1}', '{"kty": "XYZ", "k": "AA"}'])
def test_from_jwk_malformed(bad: str) -> None:
    """Malformed JWK text or an unknown kty is InvalidKeyError."""
    with pytest.raises(InvalidKeyError):
        Key.from_jwk(bad)


def test_from_jwk_refuses_non_canonical_members(key_for: Callable[[str], Key]) -> None:
    """JWK members must be canonical unpadded base64url."""
    jwk = key_for("ES256").public().to_jwk()
    for bad in (jwk["x"] + "=", jwk["x"].replace("-", "+").replace("_", "/") + "+"):
        with pytest.raises(InvalidKeyError):
            Key.from_jwk(dict(jwk, x=bad))


@pytest.mark.parametrize(
    ("jwk", "message"),
    [
        ([], "must be a JSON object"),
        ({"kty": "oct", "k": "a" * 43, "use": 1}, "'use' must be a string"),
        ({"kty": "oct", "k": "a" * 43, "key_ops": "sign"}, "'key_ops' must be a list"),
        ({"kty": "oct", "k": "a" * 43, "alg": 256}, "'alg' must be a string"),
        ({"kty": "EC", "crv": "P-192", "x": "AA", "y": "AA"}, "unsupported EC curve"),
        ({"kty": "AKP", "alg": "ML-DSA-00", "pub": "AA"}, "unsupported AKP algorithm"),
        ({"kty": "OKP", "crv": "Ed25519", "x": "AA"}, "must be 32 bytes"),
    ],
)
def test_malformed_jwk_members_are_refused(jwk: object, message: str) -> None:
    with pytest.raises(InvalidKeyError, match=message):
        Key.from_jwk(jwk)  # type: ignore[arg-type]


def test_multi_prime_rsa_is_refused_and_d_alone_is_enough() -> None:
    jwk = Key.generate("RS256").to_jwk(private=True)
    with pytest.raises(InvalidKeyError, match="more than two primes"):
        Key.from_jwk({**jwk, "oth": []})
    minimal = {name: jwk[name] for name in ("kty", "n", "e", "d")}
    key = Key.from_jwk(minimal)
    token = encode({"exp": NOW + 60}, key.with_alg("RS256"))
    claims = decode(token, key.public().with_alg("RS256"), algorithms=["RS256"], now=NOW)
    assert claims == {"exp": NOW + 60}


def test_an_unbound_ec_key_signs_with_its_curves_algorithm() -> None:
    jwk = Key.generate("ES384").to_jwk(private=True)
    del jwk["alg"]
    key = Key.from_jwk(jwk)
    assert key.alg is None
    token = encode({"exp": NOW + 60}, key)
    assert decode(token, key, algorithms=["ES384"], now=NOW)["exp"] == NOW + 60


# ------------------------------------------------------------------- public / round trips


@pytest.mark.parametrize("alg", ALL_ALGS)
def test_jwk_round_trip(alg: str, key_for: Callable[[str], Key]) -> None:
    """to_jwk -> from_jwk gives an equal key, privately and publicly."""
    key = key_for(alg).with_kid("rt")
    private_jwk = key.to_jwk(private=True)
    assert Key.from_jwk(private_jwk) == key
    assert private_jwk["kid"] == "rt"
    assert private_jwk["alg"] == key.alg
    if key.kty == "oct":
        with pytest.raises(InvalidKeyError):
            key.to_jwk()
        with pytest.raises(InvalidKeyError):
            key.public()
        return
    public_jwk = key.to_jwk()
    assert not PRIVATE_MEMBERS & set(public_jwk)
    public = key.public()
    assert not public.has_private
    assert (public.kid, public.alg) == (key.kid, key.alg)
    assert Key.from_jwk(public_jwk) == public
    assert public.public() == public
    with pytest.raises(InvalidKeyError):
        public.to_jwk(private=True)


@pytest.mark.parametrize("alg", [a for a in ALL_ALGS if not a.startswith("HS")])
def test_pem_round_trip(alg: str, key_for: Callable[[str], Key]) -> None:
    """to_pem -> from_pem gives the same key material, with and without a password."""
    key = key_for(alg)
    public_pem = key.to_pem()
    assert public_pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert Key.from_pem(public_pem, alg=key.alg) == key.public()
    private_pem = key.to_pem(private=True)
    assert b"PRIVATE KEY" in private_pem
    assert Key.from_pem(private_pem, alg=key.alg) == key
    encrypted = key.to_pem(private=True, password="s3cret")
    assert b"ENCRYPTED PRIVATE KEY" in encrypted
    assert Key.from_pem(encrypted, password="s3cret", alg=key.alg) == key
    with pytest.raises(InvalidKeyError):
        key.public().to_pem(private=True)


def test_hmac_key_has_no_pem(key_for: Callable[[str], Key]) -> None:
    """A shared secret has no PEM form."""
    with pytest.raises(InvalidKeyError):
        key_for("HS256").to_pem(private=True)


# ----------------------------------------------------------------------------- thumbprint


def _manual_thumbprint(jwk: dict[str, Any], members: tuple[str, ...]) -> str:
    """RFC 7638 §3: required members, sorted, no whitespace, SHA-256, base64url."""
    canonical = json.dumps({m: jwk[m] for m in members}, sort_keys=True, separators=(",", ":"))
    return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


@pytest.mark.parametrize(
    ("alg", "members"),
    [
        ("HS256", ("k", "kty")),
        ("RS256", ("e", "kty", "n")),
        ("ES256", ("crv", "kty", "x", "y")),
        ("ES256K", ("crv", "kty", "x", "y")),
        ("Ed448", ("crv", "kty", "x")),
    ],
)
def test_thumbprint_matches_rfc7638(
    alg: str, members: tuple[str, ...], key_for: Callable[[str], Key]
) -> None:
    """The thumbprint is the RFC 7638 hash of the required members; kid/alg do not count."""
    key = key_for(alg)
    jwk = key.to_jwk(private=True)
    assert key.thumbprint() == _manual_thumbprint(jwk, members)
    assert key.with_kid("other").thumbprint() == key.thumbprint()
    if key.kty != "oct":
        assert key.public().thumbprint() == key.thumbprint()


@pytest.mark.parametrize("alg", ["ML-DSA-44", "ML-DSA-65", "ML-DSA-87"])
def test_akp_thumbprint_stable(alg: str, key_for: Callable[[str], Key]) -> None:
    """AKP thumbprints are stable across export/import and equal for both halves."""
    key = key_for(alg)
    thumb = key.thumbprint()
    assert len(b64url_decode(thumb)) == 32
    assert Key.from_jwk(key.to_jwk()).thumbprint() == thumb
    assert key.public().thumbprint() == thumb
    assert Key.generate(alg).thumbprint() != thumb


# ---------------------------------------------------------------- immutability & equality


def test_key_is_immutable(key_for: Callable[[str], Key]) -> None:
    """Attributes cannot be reassigned; with_kid/with_alg return new keys."""
    key = key_for("ES256")
    with pytest.raises(AttributeError):
        key.kid = "x"  # type: ignore[misc]
    renamed = key.with_kid("new")
    assert renamed.kid == "new"
    assert key.kid is None
    rebound = Key.from_pem(key.to_pem(private=True)).with_alg("ES256")
    assert rebound.alg == "ES256"
    with pytest.raises(InvalidKeyError):
        key.with_alg("ES384")
    assert key.with_alg(None).alg is None


def test_key_equality_and_hash(key_for: Callable[[str], Key]) -> None:
    """Equality compares material, kid and alg; equal keys hash alike."""
    key = key_for("ES256").with_kid("a")
    same = Key.from_jwk(key.to_jwk(private=True))
    assert key == same
    assert hash(key) == hash(same)
    assert key != key.with_kid("b")
    assert key != key.with_alg(None)
    assert key != Key.generate("ES256", kid="a")
    assert len({key, same}) == 1


def test_algorithms_per_family(key_for: Callable[[str], Key]) -> None:
    """An unbound key lists every algorithm of its family and curve."""
    rsa_key = key_for("RS256").with_alg(None)
    assert set(rsa_key.algorithms()) == {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
    assert set(key_for("Ed448").with_alg(None).algorithms()) == {"EdDSA", "Ed448"}
    assert key_for("ES512").with_alg(None).algorithms() == ("ES512",)
    short = Key.from_jwk({"kty": "oct", "k": b64url_encode(b"k" * 48)})
    assert set(short.algorithms()) == {"HS256", "HS384"}


def test_key_equality_with_other_types_is_not_implemented() -> None:
    key = Key.generate("HS256")
    assert key != "secret"
    assert key == Key.from_jwk(key.to_jwk(private=True))


# ---------------------------------------------------------------------------------- KeySet


def test_keyset_basics(key_for: Callable[[str], Key]) -> None:
    """len, iteration, ``in``, kids and get(); unknown kid is KeyNotFoundError."""
    a = key_for("ES256").public().with_kid("a")
    b = key_for("Ed25519").public().with_kid("b")
    c = key_for("RS256").public()
    ks = KeySet([a, b, c])
    assert len(ks) == 3
    assert list(ks) == [a, b, c]
    assert "a" in ks and "b" in ks and "z" not in ks
    assert ks.kids == ("a", "b")
    assert ks.get("b") == b
    assert ks.get_keyset("a") is ks
    with pytest.raises(KeyNotFoundError):
        ks.get("z")


def test_keyset_jwks_round_trip(key_for: Callable[[str], Key]) -> None:
    """to_jwks -> from_jwks (dict or text) preserves keys and order; private only on request."""
    keys = [key_for(alg).with_kid(alg) for alg in ("ES256", "RS256", "Ed448", "ML-DSA-44")]
    ks = KeySet(keys)
    public = ks.to_jwks()
    assert all(not PRIVATE_MEMBERS & set(jwk) for jwk in public["keys"])
    again = KeySet.from_jwks(json.dumps(public))
    assert [k.kid for k in again] == [k.kid for k in keys]
    assert list(again) == [k.public() for k in keys]
    private = KeySet.from_jwks(ks.to_jwks(private=True))
    assert list(private) == keys


def test_keyset_skips_unknown_and_encryption_keys(key_for: Callable[[str], Key]) -> None:
    """Unknown kty/crv, ``use: enc`` and encryption algs are skipped, not fatal."""
    good = key_for("ES256").public().with_kid("good").to_jwk()
    enc = dict(key_for("RS256").public().to_jwk(), kid="enc", use="enc")
    jwks = {
        "keys": [
            {"kty": "XYZ", "kid": "unknown", "foo": "bar"},
            {"kty": "OKP", "crv": "X25519", "kid": "x25519", "x": b64url_encode(b"\x09" * 32)},
            enc,
            dict(key_for("RS256").public().to_jwk(), kid="oaep", alg="RSA-OAEP"),
            good,
        ]
    }
    ks = KeySet.from_jwks(jwks)
    assert ks.kids == ("good",)


def test_keyset_refuses_bad_sets(key_for: Callable[[str], Key]) -> None:
    """Duplicate kids, HMAC mixed with public keys, and non-JWKS input are refused."""
    a = key_for("ES256").public().with_kid("a")
    with pytest.raises(InvalidKeyError):
        KeySet([a, key_for("RS256").public().with_kid("a")])
    with pytest.raises(InvalidKeyError):
        KeySet([a, key_for("HS256").with_kid("h")])
    for bad in ("[]", "{}", '{"keys": {}}', "nope", {"keys": "x"}):
        with pytest.raises(InvalidKeyError):
            KeySet.from_jwks(bad)
    with pytest.raises(TypeError):
        KeySet(["not a key"])  # type: ignore[list-item]


def test_keyset_malformed_supported_key_is_fatal(key_for: Callable[[str], Key]) -> None:
    """A key of a supported type that is broken or weak is an error, not silently dropped."""
    bad = dict(key_for("ES256").public().to_jwk(), x="AAAA", kid="bad")
    with pytest.raises(InvalidKeyError):
        KeySet.from_jwks({"keys": [bad]})


def test_jwks_members_must_be_objects_and_odd_key_ops_are_skipped() -> None:
    public = Key.generate("ES256", kid="a").public().to_jwk()
    with pytest.raises(InvalidKeyError, match="member must be a JSON object"):
        KeySet.from_jwks({"keys": [public, "x"]})
    wrapping = {**public, "kid": "b", "key_ops": ["wrapKey"]}
    assert KeySet.from_jwks({"keys": [public, wrapping]}).kids == ("a",)
