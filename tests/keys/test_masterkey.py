"""Master key sources, envelope encryption and master key rotation (rewrap)."""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path

import pytest

from jwtkit._b64 import b64decode, b64encode
from jwtkit.errors import CorruptStoreError, MasterKeyError
from jwtkit.keys import KeyManager, generate_master_key
from jwtkit.keys._masterkey import parse_master_key


def test_generate_master_key_is_32_random_bytes() -> None:
    a, b = generate_master_key(), generate_master_key()
    assert a != b
    assert len(b64decode(a.encode())) == 32


def test_raw_bytes_and_base64url_text_are_the_same_key(sqlite_url: str) -> None:
    text = generate_master_key()
    with KeyManager.open(sqlite_url, b64decode(text.encode())) as km:
        kid = km.active_key().kid
    with KeyManager.open(sqlite_url, text) as km:
        assert km.active_key().kid == kid
    with KeyManager.open(sqlite_url, text.encode()) as km:
        assert km.active_key().kid == kid


def test_padded_and_standard_alphabet_text_name_the_same_key() -> None:
    """Keys pasted from other tools (base64 with "=" and "+/", a trailing newline) are the
    same key; text that is not base64 at all is refused rather than partly decoded."""
    raw = bytes(range(200, 232))  # encodes with "-" and "_" in base64url
    url = b64encode(raw).decode()
    standard = base64.b64encode(raw).decode()
    assert "=" in standard and ("+" in standard or "/" in standard)
    expected = parse_master_key(url).ring_mac(b"probe")
    for text in (url + "=", standard, f"  {standard}\n"):
        assert parse_master_key(text).ring_mac(b"probe") == expected
    for bad in (url[:-1] + "!", url + "A", url[:20] + " " + url[20:]):
        with pytest.raises(MasterKeyError, match="32 random bytes"):
            parse_master_key(bad)


def test_master_key_from_environment(
    sqlite_url: str, master_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JWTKIT_MASTER_KEY", master_key)
    with KeyManager.open(sqlite_url) as km:
        kid = km.active_key().kid
    monkeypatch.delenv("JWTKIT_MASTER_KEY")
    with KeyManager.open(sqlite_url, master_key) as km:
        assert km.active_key().kid == kid


def test_master_key_from_file(
    sqlite_url: str, master_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "master.key"
    key_file.write_text(master_key + "\n")
    with KeyManager.open(sqlite_url, master_key_file=key_file) as km:
        kid = km.active_key().kid
    raw_file = tmp_path / "master.bin"
    raw_file.write_bytes(b64decode(master_key.encode()))
    monkeypatch.setenv("JWTKIT_MASTER_KEY_FILE", str(raw_file))
    with KeyManager.open(sqlite_url) as km:
        assert km.active_key().kid == kid
    with pytest.raises(MasterKeyError, match="cannot read"):
        KeyManager.open(sqlite_url, master_key_file=tmp_path / "missing")


def test_passphrase_form_uses_scrypt_and_stored_salt(sqlite_url: str) -> None:
    with KeyManager.open(sqlite_url, master_passphrase="long enough passphrase") as km:
        kid = km.active_key().kid
    with KeyManager.open(sqlite_url, master_passphrase="long enough passphrase") as km:
        assert km.active_key().kid == kid
    with pytest.raises(MasterKeyError, match="does not match"):
        KeyManager.open(sqlite_url, master_passphrase="another passphrase")


def test_missing_master_key_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JWTKIT_MASTER_KEY", raising=False)
    monkeypatch.delenv("JWTKIT_MASTER_KEY_FILE", raising=False)
    path = tmp_path / "keys.db"
    with pytest.raises(MasterKeyError, match="JWTKIT_MASTER_KEY") as info:
        KeyManager.open(f"sqlite:///{path}")
    assert info.value.code == "master_key_error"
    assert not path.exists()


def test_missing_master_key_on_existing_store_changes_nothing(
    sqlite_url: str, master_key: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("JWTKIT_MASTER_KEY", raising=False)
    with KeyManager.open(sqlite_url, master_key) as km:
        km.active_key()
    before = (tmp_path / "keys.db").read_bytes()
    with pytest.raises(MasterKeyError):
        KeyManager.open(sqlite_url)
    assert (tmp_path / "keys.db").read_bytes() == before


@pytest.mark.parametrize("bad", ["short", "!" * 43, b"\x00" * 31, ""])
def test_malformed_master_key(sqlite_url: str, bad: str | bytes) -> None:
    with pytest.raises(MasterKeyError):
        KeyManager.open(sqlite_url, bad)


def test_two_master_key_sources_refused(sqlite_url: str, master_key: str) -> None:
    with pytest.raises(MasterKeyError, match="only one"):
        KeyManager.open(sqlite_url, master_key, master_passphrase="long enough passphrase")


def test_wrong_master_key_names_the_problem(durable_url: str, master_key: str) -> None:
    with KeyManager.open(durable_url, master_key) as km:
        before = km.records()
    with pytest.raises(MasterKeyError, match="master key does not match"):
        KeyManager.open(durable_url, generate_master_key())
    with KeyManager.open(durable_url, master_key) as km:
        assert km.records() == before


def test_private_keys_are_not_stored_in_plain_text(
    sqlite_url: str, master_key: str, tmp_path: Path
) -> None:
    with KeyManager.open(sqlite_url, master_key) as km:
        km.active_key()
        privates = [json.loads(km._vault.open(k))["d"] for k in km._store.read()[1]]
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for d in privates:
        assert d.encode() not in data
        assert b64decode(d.encode()) not in data


def test_ciphertext_moved_to_another_kid_is_refused(
    sqlite_url: str, master_key: str, tmp_path: Path
) -> None:
    with KeyManager.open(sqlite_url, master_key) as km:
        km.active_key()
    conn = sqlite3.connect(tmp_path / "keys.db")
    rows = conn.execute("SELECT kid, sealed FROM jwtkit_keys ORDER BY kid").fetchall()
    (_, sealed_a), (kid_b, _) = rows
    with conn:
        conn.execute("UPDATE jwtkit_keys SET sealed = ? WHERE kid = ?", (sealed_a, kid_b))
    conn.close()
    with pytest.raises(CorruptStoreError):
        KeyManager.open(sqlite_url, master_key)


def test_rewrap_to_new_master_key(durable_url: str, master_key: str) -> None:
    new = generate_master_key()
    with (
        KeyManager.open(durable_url, master_key) as km,
        KeyManager.open(durable_url, master_key, refresh_interval=0) as other,
    ):
        token = km.signer().sign({"sub": "r"})
        other.active_key()
        km.rewrap(new)
        assert km.verifier().verify(token)["sub"] == "r"
        with pytest.raises(MasterKeyError, match="master key changed"):
            other.rotate(force=True)
        with pytest.raises(MasterKeyError):
            other.refresh()
    with pytest.raises(MasterKeyError):
        KeyManager.open(durable_url, master_key)
    with KeyManager.open(durable_url, new) as km:
        assert km.verifier().verify(token)["sub"] == "r"
        km.rewrap(new_passphrase="a brand new passphrase")
    with KeyManager.open(durable_url, master_passphrase="a brand new passphrase") as km:
        assert km.verifier().verify(token)["sub"] == "r"
        with pytest.raises(MasterKeyError, match="exactly one"):
            km.rewrap()


def test_hostile_kdf_parameters_in_the_store_are_refused_before_any_work(sqlite_url: str) -> None:
    # The same bounds as for backup files (issue 12): someone who can write the meta rows
    # must not make every process that opens the store with a passphrase spend 1 GiB.
    with KeyManager.open(sqlite_url, master_passphrase="long enough passphrase") as km:
        km.active_key()
    db = sqlite3.connect(sqlite_url[len("sqlite:///") :])
    kdf = json.loads(db.execute("SELECT value FROM jwtkit_meta WHERE name = 'kdf'").fetchone()[0])
    kdf["n"] = 2**20
    with db:
        db.execute("UPDATE jwtkit_meta SET value = ? WHERE name = 'kdf'", (json.dumps(kdf),))
    db.close()
    with pytest.raises(CorruptStoreError, match="meta rows are damaged"):
        KeyManager.open(sqlite_url, master_passphrase="long enough passphrase")
