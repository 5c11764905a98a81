"""Load the shared test vectors (Wycheproof, RFC 7520 cookbook, RFC worked examples).

The vectors live outside the repository, in ``<repo root>/../shared/vectors`` (override with the
``JWTKIT_VECTORS`` environment variable). A missing directory is an error, never a skip: a suite
that silently stops checking the vectors would look green while testing nothing (STYLE.md §8).

One loader per file format:

* :func:`wycheproof_cases` for the Wycheproof primitive and JOSE-object files,
* :func:`rfc_example` / :func:`rfc_examples` for the ``rfc-examples/`` files written from RFC text,
* :func:`cookbook` / :func:`cookbook_files` for the RFC 7520 JOSE Cookbook copies,
* :func:`vector_index` for ``index.json`` (sizes and SHA-256 of every data file).

The vectors are only ever read; nothing here regenerates them from jwtkit's own output.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "NOW",
    "CookbookExample",
    "WycheproofCase",
    "b64url_decode",
    "b64url_encode",
    "cookbook",
    "cookbook_files",
    "rfc_example",
    "rfc_examples",
    "vector_index",
    "vectors_dir",
    "wycheproof_cases",
    "wycheproof_file",
]

#: The fixed clock every core test passes as ``now`` (2023-11-14T22:13:20Z); time is never patched.
NOW = 1_700_000_000

JSONObject = dict[str, Any]


def vectors_dir() -> Path:
    """Return the shared vectors directory, or raise if it is missing.

    Raises:
        FileNotFoundError: the directory (or its ``index.json``) does not exist; the message says
            where it was looked for and how to point the suite elsewhere.
    """
    env = os.environ.get("JWTKIT_VECTORS")
    if env:
        path = Path(env)
    else:
        path = Path(__file__).resolve().parents[2].parent / "shared" / "vectors"
    if not (path / "index.json").is_file():
        raise FileNotFoundError(
            f"jwtkit test vectors not found at {path}: check out the shared vectors next to the "
            "repository or set JWTKIT_VECTORS to their directory"
        )
    return path


@functools.cache
def _load(relpath: str) -> Any:
    """Parse one JSON file below the vectors directory (cached: the big files are read once)."""
    return json.loads((vectors_dir() / relpath).read_text(encoding="utf-8"))


def b64url_encode(data: bytes) -> str:
    """Encode bytes as unpadded base64url, independently of jwtkit's own codec."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url leniently (padding optional), independently of jwtkit's own codec."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def vector_index() -> list[JSONObject]:
    """Return the ``files`` entries of ``index.json`` (path, bytes, sha256, source, license)."""
    files: list[JSONObject] = _load("index.json")["files"]
    return files


# --------------------------------------------------------------------------------------------
# Wycheproof


@dataclass(frozen=True)
class WycheproofCase:
    """One Wycheproof test together with the group that holds its key.

    ``group_index`` identifies the group within its file so that callers can cache the key built
    from it (building an RSA 4096 key per test would dominate the runtime).
    """

    file: str
    stem: str
    group_index: int
    group: JSONObject
    test: JSONObject

    @property
    def tc_id(self) -> int:
        """The test's ``tcId`` (unique within its file)."""
        tc_id: int = self.test["tcId"]
        return tc_id

    @property
    def result(self) -> str:
        """Upstream expectation: ``valid``, ``invalid`` or ``acceptable``."""
        result: str = self.test["result"]
        return result

    @property
    def flags(self) -> tuple[str, ...]:
        """The test's flags (explained in the file's ``notes``)."""
        return tuple(self.test.get("flags", ()))

    @property
    def id(self) -> str:
        """A pytest id naming source, file and test, e.g. ``wycheproof-ecdsa_secp256r1-tc17``."""
        return f"wycheproof-{self.stem}-tc{self.tc_id}"

    def hex(self, member: str) -> bytes:
        """Return a hex-encoded byte string member of the test (``msg``, ``sig``, ``key``, ...)."""
        return binascii.unhexlify(self.test[member])


def _stem(name: str) -> str:
    """Shorten a Wycheproof file name for test ids (``ecdsa_secp256r1_sha256_p1363_test.json``
    becomes ``ecdsa_secp256r1``; other files just lose ``_test.json``)."""
    stem = name.removesuffix(".json").removesuffix("_test")
    if stem.startswith("ecdsa_"):
        stem = "_".join(stem.split("_")[:2])
    return stem


def wycheproof_file(name: str) -> JSONObject:
    """Return one parsed file from ``wycheproof/testvectors_v1``."""
    data: JSONObject = _load(f"wycheproof/testvectors_v1/{name}")
    return data


def wycheproof_cases(name: str) -> list[WycheproofCase]:
    """Flatten a Wycheproof file into one :class:`WycheproofCase` per test, in file order."""
    data = wycheproof_file(name)
    stem = _stem(name)
    return [
        WycheproofCase(name, stem, index, group, test)
        for index, group in enumerate(data["testGroups"])
        for test in group["tests"]
    ]


# --------------------------------------------------------------------------------------------
# RFC worked examples (rfc-examples/)


def rfc_example(name: str) -> JSONObject:
    """Return one ``rfc-examples/`` file by name (``rfc7515_A.1_HS256`` or with ``.json``)."""
    if not name.endswith(".json"):
        name += ".json"
    data: JSONObject = _load(f"rfc-examples/{name}")
    return data


def rfc_examples(kind: str | None = None) -> list[tuple[str, JSONObject]]:
    """Return ``(file stem, example)`` for every RFC example, optionally only one ``kind``."""
    out = []
    for path in sorted((vectors_dir() / "rfc-examples").glob("*.json")):
        example = rfc_example(path.name)
        if kind is None or example["kind"] == kind:
            out.append((path.stem, example))
    return out


# --------------------------------------------------------------------------------------------
# RFC 7520 JOSE Cookbook (cookbook/)


@dataclass(frozen=True)
class CookbookExample:
    """One cookbook file: ``section`` is the RFC 7520 section (``4.1``) or a folder name."""

    path: str
    section: str
    data: JSONObject

    @property
    def id(self) -> str:
        """A pytest id such as ``rfc7520-4.1-RS256``."""
        alg = self.data.get("input", {}).get("alg")
        suffix = f"-{alg}" if isinstance(alg, str) else ""
        return f"rfc7520-{self.section}{suffix}"


def cookbook(relpath: str) -> JSONObject:
    """Return one parsed cookbook file, e.g. ``jws/4_1.rsa_v15_signature.json``."""
    data: JSONObject = _load(f"cookbook/{relpath}")
    return data


def cookbook_files(subdir: str) -> list[CookbookExample]:
    """Return every cookbook example in ``subdir`` (``jwk``, ``jws``, ``rfc7797``, ...)."""
    out = []
    for path in sorted((vectors_dir() / "cookbook" / subdir).glob("*.json")):
        if subdir in ("jwk", "jws", "jwe"):
            section = path.name.split(".", 1)[0].replace("_", ".")
        else:
            section = f"{subdir}-{path.stem}"
        relpath = f"{subdir}/{path.name}"
        out.append(CookbookExample(relpath, section, cookbook(relpath)))
    return out
