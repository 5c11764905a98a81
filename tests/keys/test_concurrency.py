"""Real processes racing and dying: concurrent rotations and SIGKILL in the middle of rotations.

Children are forked with multiprocessing (real processes, each opening its own KeyManager and
connection). The parent holds no open store while children run.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import sys
from multiprocessing.synchronize import Barrier, Event
from pathlib import Path
from typing import Any

import pytest

from jwtkit.keys import KeyManager, KeyRecord

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs fork and SIGKILL")

ROUNDS = 4
KILLS = 20


def _ctx() -> Any:
    return multiprocessing.get_context("fork")


def _racer(url: str, master_key: str, barrier: Barrier, out: Any) -> None:
    with KeyManager.open(url, master_key, refresh_interval=0) as km:
        for _ in range(ROUNDS):
            barrier.wait(timeout=30)
            out.put(km.rotate(force=True).kid)


def check_ring(records: list[KeyRecord]) -> dict[str, list[str]]:
    states: dict[str, list[str]] = {}
    for r in records:
        states.setdefault(r.state, []).append(r.kid)
    assert len(states.get("active", [])) == 1, states
    assert len({r.kid for r in records}) == len(records)
    return states


def test_two_processes_rotating_at_once(durable_url: str, master_key: str) -> None:
    with KeyManager.open(durable_url, master_key) as km:
        start = [r.kid for r in km.records()] + [km.active_key().kid]
        initial = {r.kid for r in km.records()}
    assert len(initial) == 2 and start
    ctx = _ctx()
    barrier, out = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_racer, args=(durable_url, master_key, barrier, out)) for _ in "ab"]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    promoted = [out.get(timeout=5) for _ in range(2 * ROUNDS)]
    with KeyManager.open(durable_url, master_key) as km:
        records = km.records()
    states = check_ring(records)
    # Every rotation promoted a different key, and every key ever created is still there.
    assert len(set(promoted)) == len(promoted)
    assert len(records) == 2 + 2 * ROUNDS
    assert initial | set(promoted) <= {r.kid for r in records}
    assert len(states["pending"]) == 1
    assert len(states["retired"]) == 2 * ROUNDS


def _rotate_and_sign_forever(url: str, master_key: str, token_file: str, ready: Event) -> None:
    with KeyManager.open(url, master_key, refresh_interval=60) as km:
        signer = km.signer()
        with open(token_file, "a") as fh:
            ready.set()
            while True:
                km.rotate(force=True)
                fh.write(signer.sign({"sub": "k"}) + "\n")
                fh.flush()


def complete_lines(path: Path) -> list[str]:
    text = path.read_text() if path.exists() else ""
    lines = text.split("\n")
    return [line for line in lines[:-1] if line]  # the last piece may be a torn write


@pytest.mark.parametrize("kills", [KILLS])
def test_sigkill_during_rotations_leaves_a_consistent_store(
    durable_url: str, master_key: str, tmp_path: Path, kills: int
) -> None:
    if durable_url.startswith("postgresql"):
        kills //= 2  # server round trips make each round slower
    with KeyManager.open(durable_url, master_key) as km:
        km.active_key()
    token_file = tmp_path / "tokens.txt"
    ctx = _ctx()
    rng = random.Random()
    for _ in range(kills):
        ready = ctx.Event()
        child = ctx.Process(
            target=_rotate_and_sign_forever, args=(durable_url, master_key, str(token_file), ready)
        )
        child.start()
        assert ready.wait(30)
        child.join(rng.uniform(0.0, 0.06))
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
        child.join(30)
        assert child.exitcode == -signal.SIGKILL
        with KeyManager.open(durable_url, master_key) as km:
            check_ring(km.records())
    tokens = complete_lines(token_file)
    assert tokens, "the child never signed a token"
    with KeyManager.open(durable_url, master_key) as km:
        states = check_ring(km.records())
        assert len(states["pending"]) >= 1
        verifier = km.verifier()
        for token in tokens:
            assert verifier.verify(token)["sub"] == "k"
