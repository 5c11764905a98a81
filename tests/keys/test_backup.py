"""Portable encrypted backups: export from one backend, restore into any other."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from jwtkit.errors import CorruptStoreError, KeyStoreError, MasterKeyError
from jwtkit.keys import KeyManager, generate_master_key

PASS = "correct horse battery staple"


def populated(url: str, master_key: str | None) -> tuple[KeyManager, list[str]]:
    """A ring with every state; returns the manager and tokens signed along the way."""
    km = KeyManager.open(url, master_key)
    signer = km.signer()
    tokens = [signer.sign({"n": 1})]
    km.rotate(force=True)
    tokens.append(signer.sign({"n": 2}))
    km.rotate(force=True)
    pending = next(r.kid for r in km.records() if r.state == "pending")
    km.revoke(pending)
    tokens.append(signer.sign({"n": 3}))
    return km, tokens


def test_round_trip_into_every_backend(store_url: str, tmp_path: Path, master_key: str) -> None:
    source, tokens = populated(f"sqlite:///{tmp_path / 'source.db'}", master_key)
    path = tmp_path / "backup.json"
    with source:
        source.export_backup(path, PASS)
        records = source.records()
        jwks = source.jwks()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    target_key = generate_master_key()
    with KeyManager.import_backup(path, PASS, into=store_url, master_key=target_key) as km:
        assert km.records() == records
        assert km.jwks() == jwks
        verifier = km.verifier()
        assert [verifier.verify(t)["n"] for t in tokens] == [1, 2, 3]
        # The restored ring keeps working.
        km.rotate(force=True)
        assert len([r for r in km.records() if r.state == "active"]) == 1


def test_backup_holds_no_plain_key_material(tmp_path: Path) -> None:
    km, _ = populated("memory://", None)
    path = tmp_path / "b.json"
    with km:
        km.export_backup(path, PASS)
        ds = [json.loads(km._vault.open(k))["d"] for k in km._store.read()[1] if k.sealed]
    text = path.read_text()
    doc = json.loads(text)
    assert doc["format"] == "jwtkit-key-backup" and doc["kdf"]["alg"] == "scrypt"
    assert ds and not any(d in text for d in ds)


def test_wrong_passphrase_is_a_master_key_error(tmp_path: Path, sqlite_url: str) -> None:
    km, _ = populated("memory://", None)
    path = tmp_path / "b.json"
    with km:
        km.export_backup(path, PASS)
    with pytest.raises(MasterKeyError, match="wrong passphrase"):
        KeyManager.import_backup(path, "not the passphrase", into=sqlite_url, master_key=None)
    assert not Path(sqlite_url[len("sqlite:///") :]).exists()


def test_tampered_backup_is_refused(tmp_path: Path) -> None:
    km, _ = populated("memory://", None)
    path = tmp_path / "b.json"
    with km:
        km.export_backup(path, PASS)
    doc = json.loads(path.read_text())
    doc["kdf"]["n"] = 2**14  # changing the header breaks the associated data
    path.write_text(json.dumps(doc))
    with pytest.raises(MasterKeyError):
        KeyManager.import_backup(path, PASS, into="memory://")


@pytest.mark.parametrize(
    "content",
    [b"", b"not json", b"[]", b'{"format": "other"}', b'{"format": "jwtkit-key-backup"}'],
)
def test_not_a_backup_is_a_corrupt_store(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "b.json"
    path.write_bytes(content)
    with pytest.raises(CorruptStoreError):
        KeyManager.import_backup(path, PASS, into="memory://")


def test_newer_backup_version_is_named(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"format": "jwtkit-key-backup", "version": 7}))
    with pytest.raises(CorruptStoreError, match="version 7"):
        KeyManager.import_backup(path, PASS, into="memory://")


def test_restore_refuses_a_non_empty_store(
    tmp_path: Path, sqlite_url: str, master_key: str
) -> None:
    km, _ = populated("memory://", None)
    path = tmp_path / "b.json"
    with km:
        km.export_backup(path, PASS)
    with KeyManager.open(sqlite_url, master_key) as existing:
        existing.active_key()
        before = existing.records()
    with pytest.raises(KeyStoreError, match="already holds"):
        KeyManager.import_backup(path, PASS, into=sqlite_url, master_key=master_key)
    with KeyManager.open(sqlite_url, master_key) as existing:
        assert existing.records() == before


def test_missing_backup_file_and_short_passphrase(tmp_path: Path) -> None:
    with pytest.raises(KeyStoreError, match="cannot read"):
        KeyManager.import_backup(tmp_path / "none.json", PASS, into="memory://")
    with KeyManager.open("memory://") as km, pytest.raises(ValueError, match="at least 8"):
        km.export_backup(tmp_path / "b.json", "short")
    assert not (tmp_path / "b.json").exists()


def test_backup_with_key_material_of_another_kid_is_refused(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from jwtkit import Key
    from jwtkit.keys import KeyRecord
    from jwtkit.keys._backup import write_backup

    now = datetime.now(UTC)
    other = Key.generate("ES256", kid="other")
    record = KeyRecord(kid="mine", alg="ES256", state="active", created_at=now, activated_at=now)
    path = tmp_path / "b.json"
    write_backup(path, PASS, [(record, other.to_jwk(private=True))], now=now)
    with pytest.raises(CorruptStoreError, match="another key"):
        KeyManager.import_backup(path, PASS, into="memory://")
    write_backup(path, PASS, [(record, None)], now=now)
    with pytest.raises(CorruptStoreError, match="no key material"):
        KeyManager.import_backup(path, PASS, into="memory://")


@pytest.fixture(scope="module")
def backup_text(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One valid backup file's text, made once for the tests that alter it."""
    path = tmp_path_factory.mktemp("backup") / "b.json"
    km, _ = populated("memory://", None)
    with km:
        km.export_backup(path, PASS)
    return path.read_text()


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("n", 2**20, "memory"),  # issue 12: with r=8 this took 1 GiB and 3.8 s
        ("r", -1, "positive integer"),  # issue 12: an uncaught OverflowError (exit 70)
        ("r", 0, "positive integer"),
        ("n", 3, "power of two"),
        ("n", 1, "power of two"),
        ("n", 2**15 + 0.0, "positive integer"),
        ("n", True, "positive integer"),
        ("n", "32768", "positive integer"),
        ("n", 2**4000, "memory"),
        ("p", 2**30, "work"),
        ("p", 8, "work"),
        ("salt", "", "salt"),
        ("salt", "A" * 200, "salt"),
    ],
    ids=lambda v: str(v)[:12],
)
def test_hostile_kdf_parameters_are_refused_before_any_work(
    tmp_path: Path, sqlite_url: str, backup_text: str, field: str, value: object, reason: str
) -> None:
    path = tmp_path / "b.json"
    doc = json.loads(backup_text)
    doc["kdf"][field] = value
    path.write_text(json.dumps(doc))
    with pytest.raises(CorruptStoreError, match=f"unacceptable KDF parameters: .*{reason}"):
        KeyManager.import_backup(path, PASS, into=sqlite_url, master_key=None)
    assert not Path(sqlite_url[len("sqlite:///") :]).exists()


def test_stronger_kdf_parameters_within_the_bounds_restore(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from jwtkit.keys._backup import write_backup
    from jwtkit.keys._masterkey import ScryptParams

    km, tokens = populated("memory://", None)
    path = tmp_path / "b.json"
    with km:
        entries = [
            (k.record, json.loads(km._vault.open(k)) if k.sealed else None)
            for k in km._store.read()[1]
        ]
    write_backup(path, PASS, entries, now=datetime.now(UTC), params=ScryptParams(n=2**16))
    assert json.loads(path.read_text())["kdf"]["n"] == 2**16
    with KeyManager.import_backup(path, PASS, into="memory://") as restored:
        assert restored.verifier().verify(tokens[0])["n"] == 1
