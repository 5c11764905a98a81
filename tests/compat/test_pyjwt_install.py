"""``install()`` makes ``import jwt`` load the façade, for libraries written for PyJWT.

Each case runs in a fresh interpreter: the test process itself has the real PyJWT imported
(the interoperability tests use it), which is exactly the situation install() refuses.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_install_serves_jwt_and_its_submodules() -> None:
    done = _run(
        """
        import sys
        import jwtkit.compat.pyjwt as facade
        facade.install()
        facade.install()  # idempotent
        import jwt
        from jwt import PyJWKClient
        from jwt.exceptions import InvalidTokenError
        from jwt.algorithms import RSAAlgorithm, get_default_algorithms
        import jwt.api_jwt, jwt.api_jws, jwt.api_jwk, jwt.jwks_client, jwt.utils, jwt.types
        import jwt.warnings, jwt.jwk_set_cache
        assert jwt is facade and InvalidTokenError is facade.InvalidTokenError
        assert jwt.api_jwt is sys.modules["jwtkit.compat.pyjwt.api_jwt"]
        token = jwt.encode({"sub": "a"}, "s" * 32, algorithm="HS256")
        assert jwt.decode(token, "s" * 32, algorithms=["HS256"]) == {"sub": "a"}
        real = [m for m in sys.modules if m.startswith("jwt") and "jwtkit" not in
                getattr(sys.modules[m], "__name__", "")]
        assert real == [], real
        print("ok")
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_install_refuses_when_pyjwt_is_already_imported() -> None:
    done = _run(
        """
        import jwt
        import jwtkit.compat.pyjwt as facade
        try:
            facade.install()
        except ImportError as exc:
            print(exc)
        else:
            raise SystemExit("install() accepted an imported PyJWT")
        """
    )
    assert done.returncode == 0, done.stderr
    assert "already imported" in done.stdout
    assert "before anything imports jwt" in done.stdout


def test_the_facade_imports_no_network_or_service_layer() -> None:
    done = _run(
        """
        import sys
        import jwtkit.compat.pyjwt
        bad = [m for m in sys.modules if m.split(".")[0] in
               ("httpx", "starlette", "click", "rich", "psycopg", "uvicorn", "jwt")
               or m.split(".")[:2] in (["jwtkit", "keys"], ["jwtkit", "server"],
                                        ["jwtkit", "cli"], ["jwtkit", "client"])]
        print(",".join(bad))
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
