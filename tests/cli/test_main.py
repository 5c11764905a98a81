"""The entry point itself: --version, --help on every verb, exit statuses, real subprocesses."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from jwtkit import __version__
from jwtkit.cli.env import Env
from jwtkit.cli.main import CLI, COMMANDS, main
from jwtkit.cli.status import ExitStatus
from tests.support.cli import JWTKIT_BIN, rfc7519_token, run_cli, run_process

VERBS = [
    ["keygen"],
    ["sign"],
    ["verify"],
    ["inspect"],
    ["keys"],
    ["keys", "init"],
    ["keys", "list"],
    ["keys", "rotate"],
    ["keys", "revoke"],
    ["keys", "jwks"],
    ["keys", "backup"],
    ["keys", "restore"],
    ["keys", "rewrap"],
    ["serve"],
    ["user"],
    ["user", "add"],
    ["user", "list"],
    ["user", "disable"],
    ["client"],
    ["client", "add"],
    ["client", "list"],
    ["client", "disable"],
]


def test_version() -> None:
    res = run_cli("--version")
    assert res.code == 0
    assert res.stdout.strip() == f"jwtkit {__version__}"


@pytest.mark.parametrize("verb", VERBS, ids=[" ".join(v) for v in VERBS])
def test_help_has_an_example(verb: list[str]) -> None:
    res = run_cli(*verb, "--help")
    assert res.code == 0, res.stderr
    assert "Example" in res.stdout
    assert "jwtkit " + verb[0] in res.stdout


def test_top_level_help_lists_every_command() -> None:
    res = run_cli("--help")
    assert res.code == 0
    for name in COMMANDS:
        assert name in res.stdout


def test_usage_errors_are_one_line() -> None:
    res = run_cli("frobnicate")
    assert res.code == ExitStatus.USAGE_ERROR
    assert res.stderr.startswith("error: ")
    assert len(res.stderr.strip().splitlines()) == 1
    res = run_cli("sign", "--exp", "later")
    assert res.code == 2
    assert res.stderr.startswith("error: Invalid value for '--exp'")


def test_main_returns_status_without_exiting(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert main(["inspect", "abc"]) == ExitStatus.INVALID_TOKEN
    assert main(["keygen", "--alg", "nope"]) == ExitStatus.USAGE_ERROR
    captured = capsys.readouterr()
    assert "error: malformed token" in captured.err


def test_exit_status_values_are_stable() -> None:
    assert [int(s) for s in ExitStatus] == [0, 1, 2, 3, 4, 5, 6, 7, 70]


def test_subprocess_round_trip(tmp_path: Path) -> None:
    assert JWTKIT_BIN.exists(), "the jwtkit console script is not installed in the venv"
    key = tmp_path / "k.pem"
    made = run_process("keygen", "--alg", "ES256", "--out", key)
    assert (key.stat().st_mode & 0o777) == 0o600
    assert made.code == 0, made.stderr
    token = run_process("sign", "--key", key, "--sub", "p").stdout.strip()
    ok = run_process("verify", "-", "--key", tmp_path / "k.pub.pem", stdin=token)
    assert ok.code == 0, ok.stderr
    assert '"sub": "p"' in ok.stdout
    bad = run_process("verify", token + "x", "--key", tmp_path / "k.pub.pem")
    assert bad.code == 1
    assert bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr


def test_subprocess_inspect_rfc_token_is_plain_when_piped() -> None:
    res = run_process("inspect", rfc7519_token()["token"])
    assert res.code == 0, res.stderr
    assert "\x1b[" not in res.stdout
    assert '"iss": "joe"' in res.stdout


def test_python_dash_m() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "jwtkit", "--version"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"jwtkit {__version__}"


def test_bare_group_shows_help_on_stderr() -> None:
    res = run_cli()
    assert res.code == 2
    assert res.stdout == ""
    assert "Commands:" in res.stderr and "error:" not in res.stderr
    keys = run_cli("keys")
    assert keys.code == 2
    assert "rotate" in keys.stderr


def _loaded_modules(args: list[str]) -> list[str]:
    """Run ``main(args)`` in a fresh interpreter and return every module it loaded."""
    probe = (
        "import sys\n"
        "from jwtkit.cli.main import main\n"
        f"status = main({args!r})\n"
        "assert status == 0, status\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1].split()


# What start-up must not pay for (issue 17): other layers and extras, click, and the parts of
# the standard library and cryptography that verify (with an EC key) and inspect never use.
# Each costs milliseconds of the 4x `python -c pass` budget. If a change needs one of them,
# import it inside the function that uses it (as jwtkit._backend does for the PEM loaders).
HEAVY = (
    "click",
    "rich",
    "jwtkit.keys",
    "jwtkit.server",
    "jwtkit.client",
    "httpx",
    "starlette",
    "uvicorn",
    "argon2",
    "cryptography.x509",
    "cryptography.hazmat.primitives.serialization",
    "cryptography.hazmat.primitives.asymmetric.rsa",
    "cryptography.hazmat.backends",
    "random",
    "base64",
    "struct",
    "dataclasses",
    "shutil",
    "pathlib",
)


@pytest.mark.parametrize("fmt", ["json", "pem"])
def test_verify_loads_no_extra_module(tmp_path: Path, fmt: str) -> None:
    """Start-up time: verify must not pull in rich, the key store, the server or httpx."""
    key = tmp_path / f"k.{fmt}"
    assert run_cli("keygen", "--out", key).code == 0
    token = run_cli("sign", "--key", key, "--aud", "api").stdout.strip()
    args = ["verify", token, "--key", str(tmp_path / f"k.pub.{fmt}"), "--aud", "api"]
    loaded = _loaded_modules(args)
    assert "jwtkit.cli.commands.verify" in loaded
    heavy = [m for m in loaded if m.startswith(HEAVY)]
    assert heavy == [], f"verify's start-up loads {heavy}: import them lazily (issue 17)"


def test_inspect_loads_no_extra_module() -> None:
    """inspect checks no signature, so it needs no cryptography at all."""
    loaded = _loaded_modules(["inspect", rfc7519_token()["token"]])
    assert "jwtkit.cli.commands.inspect" in loaded
    assert [m for m in loaded if m.startswith((*HEAVY, "cryptography"))] == []


def test_top_level_summaries_match_the_commands() -> None:
    """``jwtkit --help`` lists summaries without importing the commands: they must agree."""
    for name, (_, summary) in COMMANDS.items():
        command = CLI.find(name)
        assert command is not None
        assert command.summary == summary, name


def test_main_uses_the_streams_it_is_given() -> None:
    out, err = io.StringIO(), io.StringIO()
    env = Env(stdin=io.StringIO(""), stdout=out, stderr=err, environ={})
    assert main(["--version"], env) == 0
    assert out.getvalue() == f"jwtkit {__version__}\n"
    assert main(["inspect", "-"], env) == ExitStatus.USAGE_ERROR
    assert err.getvalue().startswith("error: no token given")


def test_debug_prints_the_traceback_and_the_line() -> None:
    res = run_cli("--debug", "inspect", "not-a-token")
    assert res.code == ExitStatus.INVALID_TOKEN
    assert "Traceback" in res.stderr
    assert res.stderr.strip().splitlines()[-1].startswith("error: malformed token")
    quiet = run_cli("inspect", "not-a-token", env={"JWTKIT_DEBUG": "0"})
    assert "Traceback" not in quiet.stderr


def test_help_goes_to_stdout_even_with_missing_arguments() -> None:
    res = run_cli("keys", "revoke", "--help")
    assert res.code == 0 and res.stderr == ""
    assert res.stdout.startswith("Usage: jwtkit keys revoke [OPTIONS] KID")
