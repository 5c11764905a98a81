"""``jwtkit.server``'s curated export list, its private modules and the deprecated old names.

Like tests/core/test_public_api.py does for the core: ``__all__`` is sorted, names exactly the
contract below, and every name resolves. The modules behind it are private (issue 15); the few
old module names that the docs showed still import, with a ``DeprecationWarning``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys

import pytest

import jwtkit.server as server

CONTRACT = {
    "AccountError",
    "AccountExistsError",
    "AccountNotFoundError",
    "Accounts",
    "ClientInfo",
    "Clock",
    "ConsentInfo",
    "InvalidAccountError",
    "ResourceInfo",
    "Resources",
    "Settings",
    "SettingsError",
    "UserInfo",
    "create_app",
    "serve",
}

# Old public module -> the private module that holds its code now. Only these were shown in
# README.md or docs/, so only these keep a deprecated alias.
DEPRECATED = {
    "jwtkit.server.accesslog": "jwtkit.server._accesslog",
    "jwtkit.server.cors": "jwtkit.server._cors",
    "jwtkit.server.guard": "jwtkit.server._guard",
    "jwtkit.server.ratelimit": "jwtkit.server._ratelimit",
    "jwtkit.server.resources": "jwtkit.server._resources",
}

# Public names in the package that are not code modules: the CLI entry and the page data.
NOT_CODE = {"jwtkit.server.__main__", "jwtkit.server.pages"}


def test_all_is_sorted_and_is_the_contract() -> None:
    assert list(server.__all__) == sorted(server.__all__)
    assert set(server.__all__) == CONTRACT
    for name in server.__all__:
        assert getattr(server, name) is not None, name


def test_every_export_has_a_docstring_and_lives_in_a_private_module() -> None:
    for name in server.__all__:
        obj = getattr(server, name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue  # Clock is a type alias (a Callable), with no module or docstring.
        assert inspect.getdoc(obj), f"jwtkit.server.{name} has no docstring"
        module = obj.__module__
        assert module.startswith("jwtkit.server._"), f"{name} comes from {module}"


def test_the_only_public_submodules_are_the_deprecated_aliases() -> None:
    public = {
        f"jwtkit.server.{info.name}"
        for info in pkgutil.iter_modules(server.__path__)
        if not info.name.startswith("_")
    }
    assert public == set(DEPRECATED) | {"jwtkit.server.pages"}
    for info in pkgutil.iter_modules(server.__path__):
        name = f"jwtkit.server.{info.name}"
        assert name in DEPRECATED or name in NOT_CODE or info.name.startswith("_"), name


@pytest.mark.parametrize("old", sorted(DEPRECATED))
def test_deprecated_alias_warns_and_reexports_the_private_names(
    old: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, old, raising=False)
    with pytest.warns(DeprecationWarning, match=rf"{old} is deprecated") as caught:
        __import__(old)  # what an import statement does, so the warning's frame is ours
    alias = sys.modules[old]
    # The warning points at the importer (this file), not at the alias or importlib.
    assert caught[0].filename == __file__
    private = importlib.import_module(DEPRECATED[old])
    assert alias.__all__ == private.__all__
    for name in alias.__all__:
        assert getattr(alias, name) is getattr(private, name), f"{old}.{name}"


def test_importing_the_package_imports_no_deprecated_alias() -> None:
    import subprocess

    code = (
        "import sys, warnings\n"
        "warnings.simplefilter('error')\n"
        "import jwtkit.server, jwtkit.server.__main__\n"
        "from jwtkit.server import create_app, Settings\n"
        f"print(','.join(m for m in {sorted(DEPRECATED)!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""
