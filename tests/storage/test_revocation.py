"""The revocation SQL of issue 11 on each durable backend, seen by a second instance.

Sessions (families) with and without refresh tokens, the one grace retry, cut-offs of users
and clients, the revocation snapshot and the per-token lookup, the secret rotation and the
purge: written through one ``Database`` and read through another on the same store, as two
service instances would.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jwtkit._storage import Database, RevocationRows
from jwtkit.server import Accounts
from jwtkit.server._accounts import make_password_hasher
from jwtkit.server._revocations import RevocationState
from jwtkit.server._tokens import RefreshError, TokenStore

FAST = make_password_hasher(time_cost=1, memory_cost=8, parallelism=1)
NOW = 1_900_000_000.0
HORIZON = 3660.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def two(store_url: str) -> Iterator[tuple[Database, Database]]:
    first = Database.open(store_url)
    second = Database.open(store_url)
    try:
        yield first, second
    finally:
        first.close()
        second.close()


def test_sessions_cut_offs_and_the_list_across_instances(two: tuple[Database, Database]) -> None:
    db_a, db_b = two
    clock = Clock()
    accounts = Accounts(db_a, hasher=FAST, clock=clock)
    accounts.add_user("alice", "alice-password-1")
    accounts.add_user("bob", "bob-password-1")
    accounts.add_client("web", "web-secret-0123456789", scopes=("read",))
    tokens_a = TokenStore(db_a, lifetime=3600, grace_seconds=30)
    tokens_b = TokenStore(db_b, lifetime=3600, grace_seconds=30)
    login = tokens_a.issue(client_id="web", username="alice", scope=("read",), now=NOW,
                           access_until=NOW + 900)  # fmt: skip
    plain = tokens_a.issue(client_id="web", username="alice", scope=(), now=NOW,
                           access_until=NOW + 900, refresh=False)  # fmt: skip
    bobs = tokens_a.issue(client_id="web", username="bob", scope=(), now=NOW,
                          access_until=NOW + 900)  # fmt: skip
    assert plain.token == "" and plain.family_id

    # The one grace retry, across instances: the same successor, then reuse.
    first = tokens_a.rotate(login.token, client_id="web", now=NOW + 1, access_until=NOW + 901)
    again = tokens_b.rotate(login.token, client_id="web", now=NOW + 2, access_until=NOW + 902)
    assert again.token == first.token and again.family_id == login.family_id
    with pytest.raises(RefreshError, match="reused"):
        tokens_b.rotate(login.token, client_id="web", now=NOW + 3)

    clock.now = NOW + 10
    assert accounts.log_out_user("bob") == 1
    accounts.disable_client("web")
    state = RevocationState(db_b, horizon=HORIZON)
    listed = state.current(now=NOW + 20).to_json()
    assert set(listed["families"]) == {login.family_id, plain.family_id, bobs.family_id}
    assert listed["families"][login.family_id] == NOW + 902
    assert listed["subjects"] == {
        "bob": {"before": NOW + 10, "until": NOW + 10 + HORIZON},
        "client:web": {"before": NOW + 10 + HORIZON, "until": NOW + 10 + HORIZON},
    }
    found = RevocationRows(db_b).lookup(
        jti=None, family_id=plain.family_id, username="bob", client_id="web"
    )
    assert found.family_until == NOW + 900
    assert found.user is not None and not found.user.disabled
    assert found.client is not None and found.client.disabled
    assert state.is_revoked({"sub": "alice", "client_id": "web", "iat": int(NOW)})
    # Past the horizon nothing is listed, and the spent sessions are purged.
    assert state.current(now=NOW + 10 + HORIZON + 1).to_json() == {
        "jti": {}, "families": {}, "subjects": {}
    }  # fmt: skip
    tokens_a.purge(now=NOW + 4000)
    count = db_b.read(lambda tx: tx.one("SELECT COUNT(*) FROM jwtkit_refresh_families"))
    assert count is not None and count[0] == 0


def test_secret_rotation_and_client_changes_across_instances(
    two: tuple[Database, Database],
) -> None:
    db_a, db_b = two
    clock = Clock()
    writer = Accounts(db_a, hasher=FAST, clock=clock)
    reader = Accounts(db_b, hasher=FAST, clock=clock)
    writer.add_client("web", "web-secret-0123456789")
    new = writer.rotate_client_secret("web", overlap=60)
    assert reader.authenticate_client("web", "web-secret-0123456789") is not None
    assert reader.authenticate_client("web", new) is not None
    clock.now += 61
    assert reader.authenticate_client("web", "web-secret-0123456789") is None
    writer.update_client("web", scopes=("a", "b"), grants=("password",), resource_server=True)
    info = reader.get_client("web")
    assert info is not None and info.resource_server and info.scopes == ("a", "b")
    writer.add_user("alice", "alice-password-1", name="Alice", email="alice@example.com")
    assert writer.set_password("alice", "alice-password-2") == 0
    user = reader.get_user("alice")
    assert user is not None and user.email == "alice@example.com"
    assert reader.authenticate_user("alice", "alice-password-2") is not None
