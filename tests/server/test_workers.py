"""Several worker processes on one port (issue 18): the default per store, a killed worker is
replaced while the service keeps answering, and SIGTERM during requests loses nothing that was
acknowledged. Real processes, real loopback HTTP, a real SQLite file and PostgreSQL.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from jwtkit.keys import KeyManager, generate_master_key
from jwtkit.server import Accounts, Settings
from tests.support.server import FAST_ARGON2, ServiceProcess, service_env

APP, APP_SECRET = "app", "app-secret-0123456789abcdef"
USER, PASSWORD = "alice", "correct horse battery staple"


def test_the_default_worker_count_follows_the_store() -> None:
    """PostgreSQL: one worker per CPU; SQLite: one (docs/server.md says why)."""
    cpus = len(os.sched_getaffinity(0))
    assert Settings(store="postgresql://db.example/jwtkit").worker_count() == cpus
    assert Settings(store="sqlite:///jwtkit.db").worker_count() == 1
    assert Settings(store="sqlite:///jwtkit.db", workers=3).worker_count() == 3


def _store(tmp_path: Path) -> tuple[str, str]:
    store = f"sqlite:///{tmp_path / 'jwtkit.db'}"
    master_key = generate_master_key()
    with KeyManager.open(store, master_key=master_key) as km:
        km.active_key()
    from argon2 import PasswordHasher

    hasher = PasswordHasher(
        time_cost=FAST_ARGON2["argon2_time_cost"],
        memory_cost=FAST_ARGON2["argon2_memory_cost"],
        parallelism=FAST_ARGON2["argon2_parallelism"],
    )
    with Accounts.open(store, hasher=hasher) as accounts:
        grants = ("password", "refresh_token", "client_credentials")
        accounts.add_client(APP, APP_SECRET, scopes=("read",), grants=grants, first_party=True)
        accounts.add_user(USER, PASSWORD)
    return store, master_key


def _children(pid: int) -> set[int]:
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            state, ppid = stat.rpartition(")")[2].split()[:2]
            if int(ppid) == pid and state != "Z":  # A killed worker not yet reaped is gone.
                out.add(int(entry.name))
    return out


def _workers(parent: int, count: int, timeout: float = 30, without: int | None = None) -> set[int]:
    """Wait until ``parent`` has ``count`` live worker processes (the spawn helper aside),
    none of them ``without``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = {
            p for p in _children(parent)
            if "multiprocessing.resource_tracker" not in _cmdline(p)
        }  # fmt: skip
        if len(found) == count and without not in found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{parent} did not get {count} workers: {_children(parent)}")


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _post(port: int, body: str, timeout: float = 10) -> tuple[int, dict[str, object]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        auth = base64.b64encode(f"{APP}:{APP_SECRET}".encode()).decode()
        conn.request(
            "POST", "/token", body,
            {"Authorization": f"Basic {auth}",
             "Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


LOGIN = f"grant_type=password&username={USER}&password=correct+horse+battery+staple"


def _start(tmp_path: Path, workers: int, **extra: str) -> tuple[ServiceProcess, int, str, str]:
    store, master_key = _store(tmp_path)
    env = service_env(store, master_key, "http://id.test", JWTKIT_WORKERS=str(workers), **extra)
    child = ServiceProcess(env)
    url = child.wait_ready()
    return child, int(url.rsplit(":", 1)[1]), store, master_key


@pytest.mark.slow
def test_a_killed_worker_is_replaced_and_the_service_keeps_answering(tmp_path: Path) -> None:
    child, port, _, _ = _start(tmp_path, 2)
    try:
        before = _workers(child.proc.pid, 2)
        victim = min(before)
        answers: list[int] = []
        stop = threading.Event()

        def load() -> None:
            while not stop.is_set():
                try:
                    answers.append(_post(port, "grant_type=client_credentials")[0])
                except OSError:
                    answers.append(0)  # A connection the dying worker had accepted.

        thread = threading.Thread(target=load)
        thread.start()
        time.sleep(0.5)
        os.kill(victim, signal.SIGKILL)
        after = _workers(child.proc.pid, 2, without=victim)
        # Twenty more answers after the replacement, however slow a loaded machine is.
        wanted, deadline = len(answers) + 20, time.monotonic() + 60
        while len(answers) < wanted and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        thread.join()
        assert victim not in after and len(after - before) == 1
        # Every request on a fresh connection was answered; at most the one the killed
        # worker was serving was cut.
        assert answers.count(0) <= 2, answers.count(0)
        assert answers.count(200) >= len(answers) - 2 and len(answers) > 20
        assert all(_post(port, LOGIN)[0] == 200 for _ in range(20))
        assert "exited with status -9; starting another" in child.log
    finally:
        child.stop()


@pytest.mark.slow
def test_sigterm_finishes_in_flight_requests_and_loses_nothing_acknowledged(
    tmp_path: Path,
) -> None:
    # The default Argon2 cost: each login then rehashes the fast test hash at it, which keeps
    # a few logins in flight when the signal arrives.
    slow = {f"JWTKIT_{k.upper()}": str(Settings.__dataclass_fields__[k].default)
            for k in FAST_ARGON2}  # fmt: skip
    # Logins in flight count against the per-user limits until they succeed: raise the limits
    # so that twelve at once from one address are never refused 429 (that is not this test).
    limits = {"JWTKIT_LOGIN_MAX_FAILURES_PER_USER": "100",
              "JWTKIT_LOGIN_MAX_FAILURES_PER_ADDRESS": "100"}  # fmt: skip
    child, port, store, master_key = _start(tmp_path, 2, **slow, **limits)
    _workers(child.proc.pid, 2)
    results: list[tuple[float, int, str]] = []
    lock = threading.Lock()

    def login() -> None:
        # A password login hashes (Argon2id) and writes a session and a refresh token.
        try:
            status, body = _post(port, LOGIN, timeout=30)
        except OSError:
            status, body = 0, {}
        with lock:
            results.append((time.monotonic(), status, str(body.get("refresh_token", ""))))

    # Fewer than one hashing queue holds (JWTKIT_HASH_QUEUE, 16), so none is refused 429.
    threads = [threading.Thread(target=login) for _ in range(12)]
    for thread in threads:
        thread.start()
    # Signal once the first login is answered: the others are being hashed or queued then.
    deadline = time.monotonic() + 30
    while not results and time.monotonic() < deadline:
        time.sleep(0.005)
    signalled = time.monotonic()
    child.proc.send_signal(signal.SIGTERM)
    for thread in threads:
        thread.join()
    assert child.proc.wait(timeout=40) == 0
    child.stop()  # Reaps the reader thread and closes the pipe (the child is gone).
    statuses = [s for _, s, _ in results]
    # Never a 5xx or a cut answer: a request is either answered in full or never read.
    assert set(statuses) <= {0, 200}, statuses
    assert any(t > signalled and s == 200 for t, s, _ in results), "nothing was in flight"
    tokens = [tok for _, s, tok in results if s == 200]
    assert tokens and all(tokens)
    # Every acknowledged refresh token is in the store: a new service honours each one.
    env = service_env(store, master_key, "http://id.test", JWTKIT_WORKERS="1")
    again = ServiceProcess(env)
    try:
        port = int(again.wait_ready().rsplit(":", 1)[1])
        for token in tokens:
            status, body = _post(port, f"grant_type=refresh_token&refresh_token={token}")
            assert status == 200, body
    finally:
        again.stop()


@pytest.mark.slow
def test_workers_stop_when_their_supervisor_is_killed(tmp_path: Path) -> None:
    child, port, _, _ = _start(tmp_path, 2)
    workers: set[int] = set()
    try:
        workers = _workers(child.proc.pid, 2)
        assert _post(port, "grant_type=client_credentials")[0] == 200
        child.proc.kill()  # kill -9: the supervisor runs no code of its own.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in workers), "orphaned workers kept serving"
        with pytest.raises(OSError):
            _post(port, "grant_type=client_credentials", timeout=2)
    finally:
        for pid in workers:  # Never leave a worker behind, whatever failed.
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        child.stop()


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie nobody reaped yet counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"
