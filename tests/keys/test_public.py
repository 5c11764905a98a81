"""The public surface of jwtkit.keys: small, sorted, documented, and importable without psycopg."""

from __future__ import annotations

import inspect
import subprocess
import sys

import jwtkit.keys
from jwtkit.errors import JWTError, KeyStoreError


def test_all_is_sorted_and_small() -> None:
    assert jwtkit.keys.__all__ == sorted(jwtkit.keys.__all__)
    assert set(jwtkit.keys.__all__) == {
        "KeyManager",
        "KeyRecord",
        "RotationPolicy",
        "generate_master_key",
        "read_master_key_file",
    }


def test_public_callables_have_docstrings() -> None:
    for name in jwtkit.keys.__all__:
        obj = getattr(jwtkit.keys, name)
        assert inspect.getdoc(obj), name
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if not attr.startswith("_") and callable(member):
                    assert inspect.getdoc(member), f"{name}.{attr}"


def test_importing_keys_does_not_import_psycopg() -> None:
    code = "import sys, jwtkit.keys; print('psycopg' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_key_store_errors_are_not_token_errors() -> None:
    from jwtkit.errors import InvalidTokenError

    assert issubclass(KeyStoreError, JWTError)
    assert not issubclass(KeyStoreError, InvalidTokenError)
