"""``jwtkit keys ...`` against real SQLite files (and PostgreSQL when it answers)."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import Result, run_cli
from tests.support.storage import pg_schema_or_skip


class Store:
    """A store URL plus the master key the tests learned from ``keys init``."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.master_key = ""

    def run(self, *args: str | Path, stdin: str | None = None, key: str | None = None) -> Result:
        """Run ``jwtkit keys --store URL ARGS`` with the master key in the environment."""
        env = {"JWTKIT_MASTER_KEY": key if key is not None else self.master_key}
        return run_cli("keys", "--store", self.url, *args, stdin=stdin, env=env)

    def kids(self) -> dict[str, str]:
        """Return kid -> state of every key."""
        res = self.run("list", "--json")
        assert res.code == 0, res.stderr
        return {r["kid"]: r["state"] for r in res.json()}


def _init(url: str) -> Store:
    store = Store(url)
    res = run_cli("keys", "--store", url, "init", env={"JWTKIT_MASTER_KEY": ""})
    assert res.code == 0, res.stderr
    out = res.json()
    assert "shown only this once" in res.stderr
    store.master_key = out["master_key"]
    assert out["active"]["state"] == "active"
    return store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A freshly initialised SQLite store."""
    return _init(f"sqlite:///{tmp_path / 'keys.db'}")


@pytest.fixture
def pg_store() -> Iterator[Store]:
    """A freshly initialised PostgreSQL store on its own schema."""
    for url in pg_schema_or_skip("jwtkit_cli_test"):
        yield _init(url)


def test_init_creates_store_and_prints_master_key_once(tmp_path: Path, store: Store) -> None:
    db = tmp_path / "keys.db"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert sorted(store.kids().values()) == ["active", "pending"]
    again = run_cli("keys", "--store", store.url, "init", env={"JWTKIT_MASTER_KEY": ""})
    assert again.code == 4
    assert "already exists" in again.stderr and "JWTKIT_MASTER_KEY" in again.stderr
    configured = store.run("init")
    assert configured.code == 0, configured.stderr
    assert "master_key" not in configured.json()


def test_init_with_master_key_out(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    key_file = tmp_path / "master.key"
    res = run_cli(
        "keys", "--store", url, "init", "--alg", "EdDSA", "--master-key-out", key_file,
        env={"JWTKIT_MASTER_KEY": ""},
    )  # fmt: skip
    assert res.code == 0, res.stderr
    assert "master_key" not in res.json()
    assert res.json()["active"]["alg"] == "EdDSA"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    listed = run_cli(
        "keys", "--store", url, "--master-key-file", key_file, "list",
        env={"JWTKIT_MASTER_KEY": ""},
    )  # fmt: skip
    assert listed.code == 0, listed.stderr
    assert "EdDSA" in listed.stdout and "active" in listed.stdout


def test_missing_store_and_master_key_errors(tmp_path: Path, store: Store) -> None:
    missing = run_cli("keys", "--store", f"sqlite:///{tmp_path / 'none.db'}", "list")
    assert missing.code == 4
    assert "no key store at" in missing.stderr and "jwtkit keys init" in missing.stderr
    assert not (tmp_path / "none.db").exists()
    no_key = run_cli("keys", "--store", store.url, "list", env={"JWTKIT_MASTER_KEY": ""})
    assert no_key.code == 4
    assert (
        no_key.stderr
        == "error: no master key: set JWTKIT_MASTER_KEY or pass --master-key-file FILE\n"
    )
    wrong = store.run("list", key="A" * 43)
    assert wrong.code == 4
    assert "does not match" in wrong.stderr
    bad = store.run("list", key="short")
    assert bad.code == 4
    assert "short" not in bad.stderr


def test_store_from_environment(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"JWTKIT_STORE": store.url, "JWTKIT_MASTER_KEY": store.master_key}
    res = run_cli("keys", "list", "--json", env=env)
    assert res.code == 0, res.stderr
    assert len(res.json()) == 2


def test_list_table_and_rotate(store: Store) -> None:
    before = store.kids()
    table = store.run("list")
    assert table.code == 0
    header = table.stdout.splitlines()[0].split()
    assert header[:5] == ["kid", "alg", "state", "created", "activated"]
    pending = next(k for k, s in before.items() if s == "pending")
    # The pending key was published just now: rotating must wait for the publication delay.
    early = store.run("rotate")
    assert early.code == 4
    assert early.stderr.startswith("error: the pending key ") and "--force" in early.stderr
    assert store.kids() == before
    rotated = store.run("rotate", "--force")
    assert rotated.code == 0, rotated.stderr
    assert "forced: verifiers that cached the JWKS" in rotated.stderr
    assert rotated.json()["kid"] == pending
    after = store.kids()
    assert after[pending] == "active"
    old = next(k for k, s in before.items() if s == "active")
    assert after[old] == "retired"
    assert list(after.values()).count("pending") == 1


def test_revoke_confirms_and_leaves_jwks(store: Store) -> None:
    kids = store.kids()
    active = next(k for k, s in kids.items() if s == "active")
    declined = store.run("revoke", active, stdin="maybe\nn\n")
    assert declined.code == 6
    assert "[y/N]: Error: invalid input" in declined.stderr
    assert "nothing changed" in declined.stderr
    unanswered = store.run("revoke", active, stdin="")
    assert unanswered.code == 6
    assert store.kids()[active] == "active"
    done = store.run("revoke", active, "--yes")
    assert done.code == 0, done.stderr
    assert done.json()["state"] == "revoked"
    after = store.kids()
    assert after[active] == "revoked"
    assert "active" in after.values()  # emergency rotation: the pending key took over
    published = {k["kid"] for k in store.run("jwks").json()["keys"]}
    assert active not in published
    assert published == {k for k, s in after.items() if s != "revoked"}
    unknown = store.run("revoke", "nope", "--yes")
    assert unknown.code == 4
    assert "no key with kid 'nope'" in unknown.stderr


@pytest.mark.parametrize("position", ["before", "after"])
def test_a_kid_starting_with_a_dash_is_read_as_the_kid(store: Store, position: str) -> None:
    # About one RFC 7638 thumbprint in 64 starts with '-': it must not be taken for an option.
    kid = "-y" + "A" * 41
    args = ("revoke", kid, "--yes") if position == "after" else ("revoke", "--yes", kid)
    result = store.run(*args)
    assert result.code == 4, result.stderr
    assert f"no key with kid {kid!r}" in result.stderr


def test_jwks_verifies_tokens_signed_with_exported_key(store: Store, tmp_path: Path) -> None:
    jwks = store.run("jwks")
    assert jwks.code == 0
    document = jwks.json()
    assert all("d" not in k for k in document["keys"])
    assert all(k["use"] == "sig" for k in document["keys"])
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(document))
    other = tmp_path / "other.json"
    run_cli("keygen", "--alg", "ES256", "--out", other)
    token = run_cli("sign", "--key", other).stdout.strip()
    res = run_cli("verify", token, "--jwks", path)
    assert res.code == 1
    assert res.stderr.startswith("error: no key with kid")


def test_backup_and_restore(store: Store, tmp_path: Path) -> None:
    store.run("rotate", "--force")
    original = store.kids()
    backup = tmp_path / "keys.backup"
    made = store.run("backup", "--passphrase-stdin", backup, stdin="a long passphrase\n")
    assert made.code == 0, made.stderr
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert made.json() == {"file": str(backup), "keys": 3}
    exists = store.run("backup", "--passphrase-stdin", backup, stdin="a long passphrase\n")
    assert exists.code == 2

    short = store.run("backup", "--passphrase-stdin", tmp_path / "b2", stdin="short\n")
    assert short.code == 2
    assert not (tmp_path / "b2").exists()

    target = f"sqlite:///{tmp_path / 'restored.db'}"
    wrong = run_cli(
        "keys", "--store", target, "restore", backup, "--yes", "--passphrase-stdin",
        stdin="wrong passphrase\n", env={"JWTKIT_MASTER_KEY": store.master_key},
    )  # fmt: skip
    assert wrong.code == 4, wrong.stderr
    restored = run_cli(
        "keys", "--store", target, "restore", backup, "--yes", "--passphrase-stdin",
        stdin="a long passphrase\n", env={"JWTKIT_MASTER_KEY": ""},
    )  # fmt: skip
    assert restored.code == 0, restored.stderr
    new_store = Store(target)
    new_store.master_key = restored.json()["master_key"]
    assert new_store.kids() == original

    over = store.run("restore", backup, "--yes", "--passphrase-stdin", stdin="a long passphrase\n")
    assert over.code == 4
    assert "already holds" in over.stderr


def test_restore_asks_before_writing(store: Store, tmp_path: Path) -> None:
    backup = tmp_path / "b.backup"
    store.run("backup", "--passphrase-stdin", backup, stdin="a long passphrase\n")
    target = f"sqlite:///{tmp_path / 'r.db'}"
    res = run_cli("keys", "--store", target, "restore", backup, stdin="n\n")
    assert res.code == 6
    assert not (tmp_path / "r.db").exists()


def test_rewrap(store: Store, tmp_path: Path) -> None:
    declined = store.run("rewrap", stdin="n\n")
    assert declined.code == 6
    assert store.run("list").code == 0
    res = store.run("rewrap", "--yes")
    assert res.code == 0, res.stderr
    new_key = res.json()["master_key"]
    assert new_key != store.master_key
    assert store.run("list").code == 4  # the old master key no longer opens the store
    store.master_key = new_key
    assert len(store.kids()) == 2
    key_file = tmp_path / "next.key"
    to_file = store.run("rewrap", "--yes", "--master-key-out", key_file)
    assert to_file.code == 0, to_file.stderr
    assert "master_key" not in to_file.json()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    store.master_key = key_file.read_text().strip()
    assert len(store.kids()) == 2


@pytest.mark.postgres
def test_postgres_store(pg_store: Store) -> None:
    assert sorted(pg_store.kids().values()) == ["active", "pending"]
    assert pg_store.run("rotate", "--force").code == 0
    assert sorted(pg_store.kids().values()) == ["active", "pending", "retired"]
    assert len(pg_store.run("jwks").json()["keys"]) == 3


def test_list_in_colour(store: Store) -> None:
    env = {"JWTKIT_MASTER_KEY": store.master_key}
    res = run_cli("--color", "always", "keys", "--store", store.url, "list", env=env)
    assert res.code == 0, res.stderr
    assert "\x1b[" in res.stdout
    assert "pending" in res.stdout


def test_store_options_after_the_subcommand(store: Store, tmp_path: Path) -> None:
    key_file = tmp_path / "master.key"
    key_file.write_text(store.master_key + "\n")
    env = {"JWTKIT_MASTER_KEY": "", "JWTKIT_STORE": f"sqlite:///{tmp_path / 'other.db'}"}
    res = run_cli("keys", "list", "--store", store.url, "--master-key-file", key_file, env=env)
    assert res.code == 0, res.stderr
    assert "pending" in res.stdout
    wrong_first = run_cli(
        "keys", "--store", f"sqlite:///{tmp_path / 'nope.db'}", "list", "--store", store.url,
        "--master-key-file", key_file, env=env,
    )  # fmt: skip
    assert wrong_first.code == 0, wrong_first.stderr


def test_restore_refusals_leave_nothing_behind(store: Store, tmp_path: Path) -> None:
    backup = tmp_path / "b.backup"
    store.run("backup", "--passphrase-stdin", backup, stdin="a long passphrase\n")
    existing = run_cli(
        "keys", "--store", store.url, "restore", backup, "--yes", "--passphrase-stdin",
        stdin="a long passphrase\n", env={"JWTKIT_MASTER_KEY": ""},
    )  # fmt: skip
    assert existing.code == 4
    assert "already exists" in existing.stderr
    key_out = tmp_path / "new.key"
    target = f"sqlite:///{tmp_path / 'fresh.db'}"
    wrong = run_cli(
        "keys", "--store", target, "restore", backup, "--yes", "--passphrase-stdin",
        "--master-key-out", key_out, stdin="not the passphrase\n", env={"JWTKIT_MASTER_KEY": ""},
    )  # fmt: skip
    assert wrong.code == 4
    assert not key_out.exists()
    assert not (tmp_path / "fresh.db").exists()


def test_rewrap_with_a_given_key_file(store: Store, tmp_path: Path) -> None:
    import secrets

    raw = tmp_path / "raw.key"
    raw.write_bytes(secrets.token_bytes(32))
    raw.chmod(0o600)
    res = store.run("rewrap", "--yes", "--new-master-key-file", raw)
    assert res.code == 0, res.stderr
    assert "master_key" not in res.json()
    listed = run_cli(
        "keys", "list", "--store", store.url, "--master-key-file", raw,
        env={"JWTKIT_MASTER_KEY": ""},
    )  # fmt: skip
    assert listed.code == 0, listed.stderr


@pytest.mark.parametrize(("field", "value"), [("r", -1), ("n", 2**20)])
def test_restore_of_hostile_kdf_parameters_is_a_store_error(
    store: Store, tmp_path: Path, field: str, value: int
) -> None:
    # Issue 12: r=-1 ended in an uncaught OverflowError (exit 70), n=2^20 in 1 GiB of work.
    backup = tmp_path / "b.backup"
    store.run("backup", "--passphrase-stdin", backup, stdin="a long passphrase\n")
    doc = json.loads(backup.read_text())
    doc["kdf"][field] = value
    backup.write_text(json.dumps(doc))
    target = f"sqlite:///{tmp_path / 'r.db'}"
    res = run_cli(
        "keys", "--store", target, "restore", backup, "--yes", "--passphrase-stdin",
        stdin="a long passphrase\n", env={"JWTKIT_MASTER_KEY": store.master_key},
    )  # fmt: skip
    assert res.code == 4, res.stderr
    assert res.stderr.count("\n") == 1
    assert "unacceptable KDF parameters" in res.stderr
    assert not (tmp_path / "r.db").exists()


# -- jwtkit sign --store (issue 17) ---------------------------------------------------------


def _sign_store(store: Store, *args: str | Path) -> Result:
    env = {"JWTKIT_MASTER_KEY": store.master_key}
    return run_cli("sign", "--store", store.url, *args, env=env)


def test_sign_with_the_store_active_key(tmp_path: Path, store: Store) -> None:
    from jwtkit import decode_unverified

    active = next(k for k, s in store.kids().items() if s == "active")
    signed = _sign_store(store, "--sub", "alice", "--aud", "api", "--jti", "--exp", "10m")
    assert signed.code == 0, signed.stderr
    token = signed.stdout.strip()
    header, claims = decode_unverified(token)
    assert header["kid"] == active and header["typ"] == "JWT"
    assert claims["exp"] - claims["iat"] == 600 and "jti" in claims
    jwks = tmp_path / "jwks.json"
    jwks.write_text(store.run("jwks").stdout)
    ok = run_cli("verify", token, "--jwks", jwks, "--aud", "api")
    assert ok.code == 0, ok.stderr
    assert ok.json()["sub"] == "alice"
    # After a rotation the store signs with the new key, as the token service does.
    rotated = store.run("rotate", "--force").json()["kid"]
    again = _sign_store(store, "--header", "typ=at+jwt").stdout.strip()
    assert decode_unverified(again)[0] == {"alg": "ES256", "kid": rotated, "typ": "at+jwt"}


def test_sign_with_the_store_keeps_its_rules(store: Store, tmp_path: Path) -> None:
    too_long = _sign_store(store, "--exp", "2h")
    assert too_long.code == 2
    assert "longest token lifetime (1 hour)" in too_long.stderr
    for args in (["--no-exp"], ["--claim", "exp:=4102444800"]):
        refused = _sign_store(store, *args)
        assert refused.code == 2 and "lifetime comes from --exp" in refused.stderr
    for args in (["--key", str(tmp_path / "k.json")], ["--kid", "x"]):
        refused = _sign_store(store, *args)
        assert refused.code == 2 and "store's active key" in refused.stderr
    assert _sign_store(store, "--alg", "ES256").code == 0
    other = _sign_store(store, "--alg", "EdDSA")
    assert other.code == 4 and other.stderr.startswith("error: key store: ")
    no_key = run_cli("sign", "--store", store.url, env={"JWTKIT_MASTER_KEY": ""})
    assert no_key.code == 4 and "no master key" in no_key.stderr
