"""Two processes opening the same empty store at once both succeed (no DDL race)."""

from __future__ import annotations

import multiprocessing as mp
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

import pytest

from jwtkit.keys import KeyManager

ROUNDS = 4


def _open_and_sign(url: str, master_key: str, barrier: Barrier, results: Queue[str]) -> None:
    barrier.wait()
    try:
        with KeyManager.open(url, master_key=master_key) as km:
            results.put(km.active_key().state)
    except Exception as exc:  # reported to the parent, which fails the test with it
        results.put(repr(exc))


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_simultaneous_first_open_of_an_empty_store(
    durable_url: str, master_key: str, round_: int
) -> None:
    ctx = mp.get_context("fork")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(target=_open_and_sign, args=(durable_url, master_key, barrier, results))
        for _ in range(2)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=60)
    assert sorted(results.get(timeout=5) for _ in procs) == ["active", "active"]
    with KeyManager.open(durable_url, master_key=master_key) as km:
        states = sorted(record.state for record in km.records())
    assert states == ["active", "pending"]
