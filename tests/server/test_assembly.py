"""The service is assembled outside ``TokenService`` (issue 15): ``open_parts`` opens the
collaborators from ``Settings``, any of them can be replaced, and ``build_app`` serves the
service put together from them."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from jwtkit._storage import limits_salt
from jwtkit.server import Settings
from jwtkit.server._app import build_app, open_parts, open_service
from jwtkit.server._ratelimit import Limiter, Policy, policies
from jwtkit.server._service import TokenService
from tests.support.server import CLIENT, SECRET, USER, Clock, TestClient, basic


def wrong_password(client: TestClient) -> int:
    data = {"grant_type": "password", "username": USER, "password": "not-the-password"}
    return client.post("/token", data=data, headers=basic()).status_code


def test_a_replaced_part_is_the_one_the_app_uses(
    make_settings: Callable[..., Settings], clock: Clock
) -> None:
    settings = make_settings()
    parts = open_parts(settings, clock=clock)
    strict = policies(settings) | {"user": Policy(
        free=1, backoff_max=60.0, address_burst=100, address_period=300.0,
    )}  # fmt: skip
    limiter = Limiter(parts.limits, salt=limits_salt(parts.db), policies=strict)
    svc = TokenService(settings, dataclasses.replace(parts, limiter=limiter), clock=clock)
    try:
        assert svc.limiter is limiter and svc.authn.limiter is limiter
        svc.accounts.add_user(USER, "wonderland-rabbit-hole")
        svc.accounts.add_client(CLIENT, SECRET, scopes=("read",), grants=("password",))
        client = TestClient(build_app(svc))
        # One free failure under the replaced policy, then a refusal; the settings' own
        # policy would have answered 400 five times.
        assert [wrong_password(client) for _ in range(2)] == [400, 429]
    finally:
        svc.close()


def test_the_default_assembly_follows_the_settings(
    make_settings: Callable[..., Settings], clock: Clock
) -> None:
    svc = open_service(make_settings(), clock=clock)
    try:
        svc.accounts.add_user(USER, "wonderland-rabbit-hole")
        svc.accounts.add_client(CLIENT, SECRET, scopes=("read",), grants=("password",))
        client = TestClient(build_app(svc))
        assert [wrong_password(client) for _ in range(6)] == [400] * 5 + [429]
        assert svc.clock is clock
    finally:
        svc.close()
