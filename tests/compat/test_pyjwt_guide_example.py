"""The guide's jwt_creator.py runs on the façade with only its import line changed (issue 16).

The example is read from the shared guide folder (never copied into the repository), run once
as written (real PyJWT) and once with ``import jwtkit.compat.pyjwt as jwt``; the verification
results must be the same. Both variants are also loaded as modules so that each one's tokens
are verified by the other's ``verify_token``.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = Path(os.environ.get("JWTKIT_GUIDE_EXAMPLES", ROOT.parent / "shared" / "guide-examples"))
FACADE_IMPORT = "import jwtkit.compat.pyjwt as jwt"
# Claims that differ between two runs (random jti, the clock); every other value must match.
VARYING = {"jti", "iat", "exp", "nbf"}


def _sources() -> tuple[str, str]:
    path = EXAMPLES / "jwt_creator.py"
    assert path.is_file(), f"{path} is missing (set JWTKIT_GUIDE_EXAMPLES)"
    original = path.read_text(encoding="utf-8")
    lines = original.splitlines(keepends=True)
    changed = [FACADE_IMPORT + "\n" if line.strip() == "import jwt" else line for line in lines]
    assert sum(a != b for a, b in zip(lines, changed, strict=True)) == 1
    return original, "".join(changed)


def _results(stdout: str) -> list[dict[str, Any]]:
    lines = [line for line in stdout.splitlines() if line.startswith("Verification: ")]
    return [ast.literal_eval(line.removeprefix("Verification: ")) for line in lines]


def _stable(result: dict[str, Any]) -> dict[str, Any]:
    payload = {k: v for k, v in result.get("payload", {}).items() if k not in VARYING}
    return {**result, "payload": payload}


def test_the_example_prints_the_same_results_on_both(tmp_path: Path) -> None:
    outputs = []
    for name, source in zip(("pyjwt.py", "facade.py"), _sources(), strict=True):
        script = tmp_path / name
        script.write_text(source, encoding="utf-8")
        done = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stderr
        assert "RS256 Token: " in done.stdout
        outputs.append(_results(done.stdout))
    real, facade = outputs
    assert len(real) == len(facade) == 1
    assert real[0]["valid"] is True
    assert [_stable(r) for r in facade] == [_stable(r) for r in real]
    assert set(facade[0]["payload"]) == set(real[0]["payload"])


def _load(name: str, source: str) -> types.ModuleType:
    module = types.ModuleType(name)
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)  # noqa: S102 - the guide's code
    return module


@pytest.mark.parametrize("signer", ["real", "facade"])
def test_tokens_cross_between_the_two_variants(signer: str) -> None:
    original, changed = _sources()
    real, facade = _load("guide_real", original), _load("guide_facade", changed)
    make, other = (real, facade) if signer == "real" else (facade, real)
    token = make.create_access_token("user-789", "alice@example.com", ["editor", "viewer"])
    mine, theirs = (
        make.verify_token(token, make.SECRET_KEY, ["HS256"]),
        other.verify_token(token, other.SECRET_KEY, ["HS256"]),
    )
    assert mine == theirs and mine["valid"] is True
    assert other.verify_token(token, "another-secret-of-32-characters!!", ["HS256"]) == (
        make.verify_token(token, "another-secret-of-32-characters!!", ["HS256"])
    )
    rsa_token, public_pem = make.create_token_with_rsa()
    # The RSA token names another issuer and audience: both reject it with the same message.
    assert other.verify_token(rsa_token, public_pem, ["RS256"]) == make.verify_token(
        rsa_token, public_pem, ["RS256"]
    )
    assert other.jwt.decode(
        rsa_token, public_pem, algorithms=["RS256"], audience="api.mycompany.com"
    ) == make.jwt.decode(rsa_token, public_pem, algorithms=["RS256"], audience="api.mycompany.com")
