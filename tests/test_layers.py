"""Layers import one way: core <- _storage <- keys <- server/client <- cli (STYLE.md §1).

Core modules (the top level of the package) may import only the standard library,
``cryptography`` and other core modules, so ``pip install jwtkit`` alone always works. The
storage layer (``jwtkit._storage``) may import only the core, and it is the only code that
imports a database driver (``sqlite3``, ``psycopg``, ``redis``). ``compat`` (the PyJWT drop-in)
sits on the core too, with the core's third-party rule: its ``PyJWKClient`` uses the core's
I/O-free JWKS module (``jwtkit._jwks``), never the client layer, and no other layer imports
it. Checked with ``ast``, as is the absence of import cycles (imports made at load time).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "jwtkit"
LAYERS = ("_storage", "keys", "client", "server", "cli", "compat")
# layer -> jwtkit layers it must never import
FORBIDDEN = {
    "core": set(LAYERS),
    "_storage": {"keys", "client", "server", "cli", "compat"},
    "keys": {"client", "server", "cli", "compat"},
    "client": {"_storage", "keys", "server", "cli", "compat"},
    "server": {"cli", "compat"},
    "cli": {"compat"},
    "compat": {"_storage", "keys", "client", "server", "cli"},
}
CORE_THIRD_PARTY = {"cryptography"}
STORAGE_THIRD_PARTY = CORE_THIRD_PARTY | {"psycopg", "redis"}
DRIVERS = {"sqlite3", "psycopg", "psycopg_pool", "psycopg2", "asyncpg", "redis"}


def _layer(path: Path) -> str:
    rel = path.relative_to(SRC).parts
    if rel == ("__main__.py",):
        return "cli"  # `python -m jwtkit` is the command line
    return rel[0] if len(rel) > 1 and rel[0] in LAYERS else "core"


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            if node.module == "jwtkit":
                names += [f"jwtkit.{alias.name}" for alias in node.names]
    return names


MODULES = sorted(SRC.rglob("*.py"))


def test_the_package_has_modules() -> None:
    assert len(MODULES) >= 8


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_follow_the_layers(path: Path) -> None:
    layer = _layer(path)
    for name in _imports(path):
        parts = name.split(".")
        if parts[0] == "jwtkit" and len(parts) > 1:
            assert parts[1] not in FORBIDDEN[layer], f"{layer} module imports {name}"
        elif layer in ("core", "compat") and parts[0] != "jwtkit":
            allowed = parts[0] in sys.stdlib_module_names or parts[0] in CORE_THIRD_PARTY
            assert allowed, f"{layer} module imports third-party {name}"
        elif layer == "_storage" and parts[0] != "jwtkit":
            allowed = parts[0] in sys.stdlib_module_names or parts[0] in STORAGE_THIRD_PARTY
            assert allowed, f"storage module imports third-party {name}"
        if parts[0] in DRIVERS:
            assert layer == "_storage", f"{layer} module imports the database driver {name}"


def test_the_storage_layer_is_checked() -> None:
    assert any(_layer(p) == "_storage" for p in MODULES)
    assert _imports(SRC / "_storage" / "_sqlite.py").count("sqlite3") == 1


def test_importing_the_core_loads_no_layer_or_extra() -> None:
    import subprocess

    code = (
        "import sys, jwtkit\n"
        "from jwtkit import Key, KeySet, Signer, Verifier, encode, decode\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('starlette', 'httpx', 'click', 'rich', 'psycopg', 'argon2', 'uvicorn')"
        " or m.startswith(('jwtkit._storage', 'jwtkit.keys', 'jwtkit.server', 'jwtkit.client',"
        " 'jwtkit.cli', 'sqlite3',"
        " 'cryptography.x509'))]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULE_NAMES = {_module_name(path): path for path in MODULES}


def _load_time_imports(path: Path) -> set[str]:
    """The jwtkit modules ``path`` imports when it is loaded (not in functions or TYPE_CHECKING)."""
    name = _module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If):
                test = ast.unparse(node.test)
                if test in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
                    visit(node.orelse)
                else:
                    visit(node.body)
                    visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                visit(node.orelse)
                visit(node.finalbody)
                for handler in node.handlers:
                    visit(handler.body)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name in MODULE_NAMES)
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if node.level:
                    base = package[: len(package) - node.level + 1]
                    module = ".".join([*base, *([module] if module else [])])
                for alias in node.names:
                    if f"{module}.{alias.name}" in MODULE_NAMES:
                        found.add(f"{module}.{alias.name}")
                    elif module in MODULE_NAMES:
                        found.add(module)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    found.discard(name)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                connect(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_tree_has_no_import_cycle() -> None:
    graph = {name: _load_time_imports(path) for name, path in MODULE_NAMES.items()}
    assert sum(len(edges) for edges in graph.values()) > len(graph)  # the parser sees imports
    assert _cycles(graph) == []
