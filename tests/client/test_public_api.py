"""jwtkit.client exports a sorted, complete ``__all__`` and imports only the core."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

import jwtkit.client

MODULES = [
    "jwtkit.client",
    *(
        f"jwtkit.client.{name}"
        for name in ("dependency", "jwks", "middleware", "revocation", "verifier")
    ),
]


@pytest.mark.parametrize("name", MODULES)
def test_all_is_sorted_and_resolves(name: str) -> None:
    module = importlib.import_module(name)
    assert list(module.__all__) == sorted(module.__all__)
    for exported in module.__all__:
        assert getattr(module, exported) is not None


def test_package_names() -> None:
    assert {
        "AsyncJWKSClient",
        "AsyncVerifier",
        "BearerAuthMiddleware",
        "IntrospectionRevocationCheck",
        "JWKSClient",
        "RequireToken",
    } <= set(jwtkit.client.__all__)


def test_public_callables_have_docstrings() -> None:
    for name in jwtkit.client.__all__:
        obj = getattr(jwtkit.client, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), name


def test_client_never_imports_keys_server_or_cli() -> None:
    package = Path(jwtkit.client.__file__).parent
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            for imported in names:
                # Compare whole dotted parts: "jwtkit.cli" is not a prefix of "jwtkit.client".
                layer = imported.split(".")[:2]
                assert layer not in (["jwtkit", "keys"], ["jwtkit", "server"], ["jwtkit", "cli"]), (
                    path.name,
                    imported,
                )


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="nope"):
        jwtkit.client.nope  # noqa: B018
