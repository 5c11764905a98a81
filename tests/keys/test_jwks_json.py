"""``KeyManager.jwks_json``: the JWKS as bytes, built once per key ring (issue 18)."""

from __future__ import annotations

import json

from jwtkit.keys import KeyManager


def test_jwks_json_is_built_once_per_ring_and_follows_changes(
    sqlite_url: str, master_key: str
) -> None:
    with KeyManager.open(sqlite_url, master_key=master_key) as km:
        km.active_key()
        first = km.jwks_json()
        assert km.jwks_json() is first  # Reused: no conversion or encoding per request.
        assert json.loads(first) == km.jwks()
        assert first == json.dumps(km.jwks(), sort_keys=True, separators=(",", ":")).encode()
        new = km.rotate(force=True)
        after = km.jwks_json()
        assert after != first and json.loads(after) == km.jwks()
        km.revoke(new.kid)
        assert new.kid not in {k["kid"] for k in json.loads(km.jwks_json())["keys"]}
