"""Accounts methods that change existing users and clients (issue 11), and their refusals."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

from jwtkit.server import AccountError, Accounts

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def accounts(tmp_path: Path) -> Iterator[Accounts]:
    acc = Accounts.open(f"sqlite:///{tmp_path / 'store.db'}", hasher=FAST)
    acc.add_user("alice", "s3cret-password", name="Alice", email="alice@example.com")
    acc.add_client("web", "web-secret-0123456789", scopes=("read",))
    acc.add_client("spa", public=True)
    yield acc
    acc.close()


def code(exc: pytest.ExceptionInfo[AccountError]) -> str:
    return exc.value.code


def test_profile_is_stored_validated_and_cleared(accounts: Accounts) -> None:
    info = accounts.get_user("alice")
    assert info is not None and (info.name, info.email) == ("Alice", "alice@example.com")
    assert accounts.update_user("alice", name="Alice Liddell").email == "alice@example.com"
    cleared = accounts.update_user("alice", name="", email="")
    assert (cleared.name, cleared.email) == (None, None)
    bads: tuple[dict[str, Any], ...] = (
        {"email": "no-at-sign"},
        {"email": "a@b"},
        {"email": "a b@example.com"},
        {"name": "   "},
        {"name": "x\x00"},
        {"name": "n" * 257},
    )
    for bad in bads:
        with pytest.raises(AccountError) as exc:
            accounts.update_user("alice", **bad)
        assert code(exc) == "invalid_account"
    with pytest.raises(AccountError) as exc:
        accounts.add_user("bob", "pw-bob-123", email="bob")
    assert code(exc) == "invalid_account"
    with pytest.raises(AccountError) as exc:
        accounts.update_user("nobody", name="X")
    assert code(exc) == "account_not_found"


def test_client_changes_and_their_refusals(accounts: Accounts) -> None:
    info = accounts.update_client("web", scopes=("read", "write"), grants=("password",))
    assert info.scopes == ("read", "write") and info.grants == ("password",)
    assert not info.resource_server
    assert accounts.update_client("web", resource_server=True).resource_server
    assert accounts.update_client("web").scopes == ("read", "write")  # nothing given: unchanged
    refusals: list[Callable[[], object]] = [
        lambda: accounts.update_client("web", grants=("implicit",)),
        lambda: accounts.update_client("spa", grants=("client_credentials",)),
        lambda: accounts.update_client("spa", resource_server=True),
        lambda: accounts.add_client("rs", public=True, resource_server=True),
        lambda: accounts.rotate_client_secret("spa"),
        lambda: accounts.rotate_client_secret("web", overlap=-1),
        lambda: accounts.rotate_client_secret("web", "short"),
    ]
    for refused in refusals:
        with pytest.raises(AccountError) as exc:
            refused()
        assert code(exc) == "invalid_account"
    missings: list[Callable[[], object]] = [
        lambda: accounts.update_client("nobody", scopes=()),
        lambda: accounts.rotate_client_secret("nobody"),
        lambda: accounts.log_out_user("nobody"),
        lambda: accounts.set_password("nobody", "pw-nobody-1"),
    ]
    for missing in missings:
        with pytest.raises(AccountError) as exc:
            missing()
        assert code(exc) == "account_not_found"
    assert "web-secret" not in repr(accounts.get_client("web"))
