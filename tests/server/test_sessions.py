"""Issue 11: revoking or disabling something reaches every token it should, at /introspect.

Each test names the finding of the security review it keeps fixed; on the code before issue
11 every one of them failed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette

from jwtkit.server._service import TokenService
from tests.support.server import CLIENT, PASSWORD, SECRET, USER, Clock, TestClient, basic, login

DAY = 24 * 3600


def introspect(client: TestClient, token: str, *, auth: tuple[str, str] = (CLIENT, SECRET)) -> Any:
    response = client.post("/introspect", data={"token": token}, headers=basic(*auth))
    assert response.status_code == 200, response.text
    return response.json()


def refresh(client: TestClient, token: str) -> dict[str, Any]:
    data = {"grant_type": "refresh_token", "refresh_token": token}
    result: dict[str, Any] = client.post("/token", data=data, headers=basic()).json()
    return result


def active(client: TestClient, token: str) -> bool:
    return bool(introspect(client, token)["active"])


def test_access_tokens_carry_their_family(client: TestClient, svc: TokenService) -> None:
    body = login(client).json()
    claims = svc.verifier.verify(body["access_token"], now=svc.clock())
    family = svc.tokens.inspect(body["refresh_token"], now=svc.clock())
    assert family is not None and claims["jwtkit_fid"] == family.family_id
    assert "sid" not in claims  # sid belongs to the OpenID Connect browser session
    renewed = refresh(client, body["refresh_token"])
    assert svc.verifier.verify(renewed["access_token"], now=svc.clock())["jwtkit_fid"] == (
        family.family_id
    )


def test_disabled_user_access_and_refresh_tokens_are_inactive(
    client: TestClient, svc: TokenService
) -> None:
    body = login(client).json()
    svc.accounts.disable_user(USER)
    assert introspect(client, body["access_token"]) == {"active": False}
    assert introspect(client, body["refresh_token"]) == {"active": False}
    # Re-enabling brings nothing back: the user logs in anew.
    svc.accounts.enable_user(USER)
    assert not active(client, body["access_token"])
    assert not active(client, body["refresh_token"])
    assert refresh(client, body["refresh_token"])["error"] == "invalid_grant"
    again = login(client).json()
    assert active(client, again["access_token"]) and active(client, again["refresh_token"])


def test_disabled_client_tokens_are_inactive(
    client: TestClient, svc: TokenService, clock: Clock
) -> None:
    secret = svc.accounts.add_client(
        "svc", scopes=("read",), grants=("client_credentials",), resource_server=True
    )
    cc = client.post(
        "/token", data={"grant_type": "client_credentials"}, headers=basic("svc", secret)
    ).json()["access_token"]
    user_token = login(client).json()["access_token"]
    svc.accounts.disable_client(CLIENT)
    rs = ("svc", secret)
    assert introspect(client, user_token, auth=rs) == {"active": False}
    assert introspect(client, cc, auth=rs)["active"] is True
    svc.accounts.disable_client("svc")
    svc.accounts.add_client("rs2", "rs2-secret-0123456789", resource_server=True)
    rs2 = ("rs2", "rs2-secret-0123456789")
    assert introspect(client, cc, auth=rs2) == {"active": False}
    # Re-enabled a second later, the client's earlier tokens stay dead.
    clock.advance(1)
    svc.accounts.enable_client("svc")
    assert introspect(client, cc, auth=rs2) == {"active": False}
    svc.accounts.enable_client(CLIENT)
    assert introspect(client, user_token, auth=rs2) == {"active": False}


def test_reuse_kills_the_access_tokens_of_victim_and_thief(client: TestClient) -> None:
    first = login(client).json()
    thief = refresh(client, first["refresh_token"])  # the thief refreshes first
    assert refresh(client, first["refresh_token"])["error"] == "invalid_grant"  # victim: reuse
    for token in (first["access_token"], thief["access_token"], thief["refresh_token"]):
        assert introspect(client, token) == {"active": False}


def test_logout_kills_the_family_access_tokens(client: TestClient) -> None:
    body = login(client).json()
    renewed = refresh(client, body["refresh_token"])
    other = login(client).json()
    response = client.post("/revoke", data={"token": renewed["refresh_token"]}, headers=basic())
    assert response.status_code == 200
    assert not active(client, body["access_token"])
    assert not active(client, renewed["access_token"])
    assert active(client, other["access_token"])


def test_family_has_an_absolute_lifetime(make_app: Callable[..., Starlette], clock: Clock) -> None:
    """The review kept one family alive for 120 refreshes, 720 days after login."""
    client = TestClient(make_app())
    token = login(client).json()["refresh_token"]
    days = 0
    for _ in range(120):
        clock.advance(6 * DAY)
        days += 6
        answer = refresh(client, token)
        if "error" in answer:
            break
        token = answer["refresh_token"]
    assert days == 30  # the refresh on day 30 is refused: the session is over
    assert answer == {
        "error": "invalid_grant",
        "error_description": "the refresh token is invalid, expired or revoked",
    }


def test_family_lifetime_is_configurable_and_caps_the_token_expiry(
    make_app: Callable[..., Starlette], clock: Clock
) -> None:
    client = TestClient(make_app(refresh_family_lifetime=3600))
    body = login(client).json()
    clock.advance(1800)
    renewed = client.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        headers=basic(),
    )
    assert renewed.status_code == 200
    token = renewed.json()["refresh_token"]
    info = introspect(client, token)
    assert info["exp"] <= clock() + 1800 + 1
    clock.advance(1801)
    assert not active(client, token)
    assert refresh(client, token)["error"] == "invalid_grant"


def test_password_change_ends_the_other_sessions(client: TestClient, svc: TokenService) -> None:
    mine, theirs = login(client).json(), login(client).json()
    me = svc.tokens.inspect(mine["refresh_token"], now=svc.clock())
    assert me is not None
    assert svc.accounts.set_password(USER, "a-new-password-1", keep_session=me.family_id) == 1
    assert active(client, mine["access_token"]) and active(client, mine["refresh_token"])
    assert not active(client, theirs["access_token"])
    assert refresh(client, theirs["refresh_token"])["error"] == "invalid_grant"
    # An administrator's change (no session to keep) ends them all.
    assert svc.accounts.set_password(USER, PASSWORD) == 1
    assert not active(client, mine["access_token"])


def test_user_logout_reaches_sessions_without_refresh_tokens(
    client: TestClient, svc: TokenService
) -> None:
    secret = svc.accounts.add_client("plain", scopes=("read",), grants=("password",))
    data = {"grant_type": "password", "username": USER, "password": PASSWORD}
    plain = client.post("/token", data=data, headers=basic("plain", secret)).json()
    assert "refresh_token" not in plain
    web = login(client).json()
    assert svc.accounts.log_out_user(USER) == 2
    assert not active(client, plain["access_token"])
    assert not active(client, web["access_token"])
    assert refresh(client, web["refresh_token"])["error"] == "invalid_grant"
    assert active(client, login(client).json()["access_token"])


def test_only_resource_servers_see_other_clients_tokens(
    client: TestClient, svc: TokenService
) -> None:
    """The review had any confidential client read any other client's token details."""
    body = login(client).json()
    nosy = svc.accounts.add_client("nosy", scopes=(), grants=("client_credentials",))
    assert introspect(client, body["access_token"], auth=("nosy", nosy)) == {"active": False}
    assert introspect(client, body["refresh_token"], auth=("nosy", nosy)) == {"active": False}
    # Its own tokens it still sees.
    own = client.post(
        "/token", data={"grant_type": "client_credentials"}, headers=basic("nosy", nosy)
    ).json()["access_token"]
    assert introspect(client, own, auth=("nosy", nosy))["active"] is True
    svc.accounts.update_client("nosy", resource_server=True)
    details = introspect(client, body["access_token"], auth=("nosy", nosy))
    assert details["active"] is True and details["username"] == USER


def test_user_and_client_of_one_name_have_distinct_subjects(
    client: TestClient, svc: TokenService
) -> None:
    """The review found user "web" and client "web" with one `sub`, and no `username`."""
    svc.accounts.add_user(CLIENT, "web-user-password")
    data = {"grant_type": "password", "username": CLIENT, "password": "web-user-password"}
    user_token = client.post("/token", data=data, headers=basic()).json()["access_token"]
    cc = client.post("/token", data={"grant_type": "client_credentials"}, headers=basic()).json()[
        "access_token"
    ]
    as_user, as_client = introspect(client, user_token), introspect(client, cc)
    assert as_user["sub"] == CLIENT and as_user["username"] == CLIENT
    assert as_client["sub"] == "client:" + CLIENT and "username" not in as_client
    # Disabling the user "web" leaves the client "web"'s own token alone.
    svc.accounts.disable_user(CLIENT)
    assert not active(client, user_token)
    assert active(client, cc)


def test_client_secret_rotation_overlap(
    client: TestClient, svc: TokenService, clock: Clock
) -> None:
    def cc(secret: str) -> int:
        return client.post(
            "/token", data={"grant_type": "client_credentials"}, headers=basic(CLIENT, secret)
        ).status_code

    new = svc.accounts.rotate_client_secret(CLIENT, overlap=600)
    assert new != SECRET and len(new) >= 32
    assert cc(SECRET) == 200 and cc(new) == 200
    clock.advance(601)
    assert cc(SECRET) == 401 and cc(new) == 200
    newer = svc.accounts.rotate_client_secret(CLIENT, "a-chosen-secret-0123456789", overlap=0)
    assert cc(new) == 401 and cc(newer) == 200


def test_narrowed_client_scopes_apply_at_the_next_refresh(
    client: TestClient, svc: TokenService
) -> None:
    token = login(client).json()["refresh_token"]
    svc.accounts.update_client(CLIENT, scopes=("read",))
    renewed = refresh(client, token)
    assert renewed["scope"] == "read"


def test_sessions_without_refresh_tokens_are_kept_until_their_access_tokens_expire(
    client: TestClient, svc: TokenService, clock: Clock
) -> None:
    secret = svc.accounts.add_client("plain", scopes=("read",), grants=("password",))
    data = {"grant_type": "password", "username": USER, "password": PASSWORD}
    client.post("/token", data=data, headers=basic("plain", secret))

    def families() -> int:
        row = svc.db.read(lambda tx: tx.one("SELECT COUNT(*) FROM jwtkit_refresh_families"))
        assert row is not None
        return int(row[0])

    svc.maintain()
    assert families() == 1  # logout must still find it
    clock.advance(901)
    svc.maintain()
    assert families() == 0
