"""PEM import and export of asymmetric keys: private keys (PKCS#8 or traditional), public keys
(SPKI or PKCS#1) and X.509 certificates' public keys in; SPKI and PKCS#8 out.

``load`` is the seam where every failure of ``cryptography``'s parsers, a panic of its
compiled code included, becomes ``InvalidKeyError``. An encrypted PKCS#8 key has its
key-derivation cost checked before it is decrypted (``jwtkit._pkcs8``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jwtkit import _pkcs8
from jwtkit._text import utf8
from jwtkit.errors import InvalidKeyError

__all__ = ["dump", "load"]


def _loaders() -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """Return cryptography's PEM private, PEM public and DER private key loaders, importing as
    little as possible.

    ``cryptography.hazmat.primitives.serialization`` binds these very functions from its Rust
    extension, but importing that package also loads the SSH key code, dataclasses and every
    cipher: about 10 ms, most of what a ``jwtkit verify --key k.pem`` start-up may cost
    (issue 17). Taking them from the extension directly skips that; if a future cryptography
    moves them, the public package is the fallback.
    """
    try:
        from cryptography.hazmat.bindings._rust import openssl as rust_openssl

        keys = rust_openssl.keys
        return keys.load_pem_private_key, keys.load_pem_public_key, keys.load_der_private_key
    except (ImportError, AttributeError):  # pragma: no cover - only on a future cryptography
        from cryptography.hazmat.primitives import serialization as ser

        return ser.load_pem_private_key, ser.load_pem_public_key, ser.load_der_private_key


def _load_pem(data: bytes, password: bytes | None, *, max_kdf_iterations: int) -> Any:
    """Return the ``cryptography`` key object in PEM ``data``: a private key (PKCS#8 or
    traditional), a public key (SPKI or PKCS#1) or an X.509 certificate's public key.

    An encrypted PKCS#8 key has its key-derivation cost checked first (``jwtkit._pkcs8``), and
    then only the DER that was checked is decrypted, so no other block of ``data`` can slip past.

    Raises:
        InvalidKeyError: for every reason the data cannot be loaded.
    """
    load_private, load_public, load_der_private = _loaders()
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            from cryptography import x509

            return x509.load_pem_x509_certificate(data).public_key()
        if b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in data and password is not None:
            der = _pkcs8.encrypted_der(data)
            _pkcs8.check_kdf_cost(der, max_kdf_iterations)
            return load_der_private(der, password)
        if b"PRIVATE KEY-----" in data:
            if b"DEK-Info" in data:
                _pkcs8.check_dek_info(data)
            return load_private(data, password)
        return load_public(data)
    except InvalidKeyError:
        raise
    except TypeError as exc:
        raise InvalidKeyError(
            "the PEM key is encrypted: pass password="
            if password is None
            else "a password was given but the PEM key is not encrypted"
        ) from exc
    except Exception as exc:  # cryptography raises ValueError or UnsupportedAlgorithm
        raise InvalidKeyError(
            "could not load the PEM data (wrong password, corrupt or unsupported key)"
        ) from exc
    except BaseException as exc:
        # pyo3 turns a panic of cryptography's compiled code into PanicException, which
        # derives from BaseException so that ``except Exception`` cannot swallow it. Input
        # made it (issue 19, F7), so here, and only here, it is a key error.
        if type(exc).__name__ != "PanicException" or type(exc).__module__ != "pyo3_runtime":
            raise
        raise InvalidKeyError("could not load the PEM data (cryptography failed on it)") from exc


def load(data: bytes | str, password: bytes | str | None, max_kdf_iterations: int) -> Any:
    """Return the ``cryptography`` key object in PEM ``data`` (see ``_load_pem``); text
    passwords are UTF-8 encoded.

    Raises:
        InvalidKeyError: for every reason the data cannot be loaded.
    """
    raw = data.encode("ascii", "replace") if isinstance(data, str) else bytes(data)
    pwd = utf8(password, "the password") if isinstance(password, str) else password
    return _load_pem(raw, pwd, max_kdf_iterations=max_kdf_iterations)


def dump(public: Any, private: Any, password: bytes | str | None) -> bytes:
    """PEM for a ``cryptography`` key: SPKI for ``public`` when ``private`` is ``None``, else
    PKCS#8 for ``private``, encrypted with ``password`` when one is given."""
    from cryptography.hazmat.primitives import serialization as ser

    if private is None:
        return public.public_bytes(  # type: ignore[no-any-return]
            ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo
        )
    pwd = utf8(password, "the password") if isinstance(password, str) else password
    encryption: ser.KeySerializationEncryption = (
        ser.BestAvailableEncryption(pwd) if pwd else ser.NoEncryption()
    )
    return private.private_bytes(  # type: ignore[no-any-return]
        ser.Encoding.PEM, ser.PrivateFormat.PKCS8, encryption
    )
