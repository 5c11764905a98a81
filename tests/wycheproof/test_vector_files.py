"""The shared vectors themselves: present, intact, and never silently skipped.

``index.json`` lists every data file with its size and SHA-256; checking them here means a
truncated or edited vector file fails the suite instead of weakening it. A missing vectors
directory must make the suite fail (a collection error), never skip.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.vectors import vector_index, vectors_dir

REPO = Path(__file__).resolve().parents[2]


def test_every_indexed_vector_file_is_intact() -> None:
    """Each file in index.json exists with the recorded size and SHA-256."""
    root = vectors_dir()
    entries = vector_index()
    assert len(entries) > 50
    for entry in entries:
        data = (root / entry["path"]).read_bytes()
        assert len(data) == entry["bytes"], entry["path"]
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["path"]


def test_vectors_dir_honours_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """JWTKIT_VECTORS points the loaders elsewhere; a directory without vectors is an error."""
    real = vectors_dir()
    monkeypatch.setenv("JWTKIT_VECTORS", str(real))
    assert vectors_dir() == real
    monkeypatch.setenv("JWTKIT_VECTORS", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="JWTKIT_VECTORS"):
        vectors_dir()


def test_missing_vectors_fail_collection(tmp_path: Path) -> None:
    """With no vectors, collecting a vector module is an error (exit 2), not a skip."""
    env = dict(os.environ, JWTKIT_VECTORS=str(tmp_path / "missing"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            str(REPO / "tests" / "wycheproof" / "test_jose.py"),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stdout[-2000:]
    assert "test vectors not found" in result.stdout
