"""Argon2id hashing of passwords and client secrets (argon2-cffi), and where it runs.

Every failed check costs one verification at the current cost (issue 10): unknown names and
accounts with nothing to check are verified against a dummy hash made with the current
parameters, and a stored hash with cheaper parameters than the current ones is padded with a
dummy verification, so response time reveals neither which names exist nor whose hash is old.
Successful client-secret checks are remembered (client secrets are random and presented on
every request, so there is nothing to slow down); a remembered secret is answered without
hashing.

The service runs every request that may hash in :class:`HashingExecutor`: a few threads of
its own at a lower CPU priority, with a bounded queue, so hashing never holds the threads or
the CPU that JWKS, metadata, ``/healthz`` and requests with a remembered secret need.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import hashlib
import os
import secrets
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Final, TypeVar

from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = [
    "HashingBusyError",
    "HashingExecutor",
    "SecretChecker",
    "default_hash_workers",
    "make_password_hasher",
]

T = TypeVar("T")
_MEMO_SIZE: Final = 1024
PRIORITIES: Final = ("idle", "low", "normal")


def make_password_hasher(
    *, time_cost: int | None = None, memory_cost: int | None = None, parallelism: int | None = None
) -> PasswordHasher:
    """Return an Argon2id hasher; unset costs come from ``JWTKIT_ARGON2_*`` or RFC 9106 defaults.

    The environment fallback lets tests and the CLI lower the cost without code changes.
    """

    def pick(given: int | None, var: str, default: int) -> int:
        if given is not None:
            return given
        raw = os.environ.get(var, "").strip()
        if raw.isascii() and raw.isdigit():  # isdigit() alone takes "²", which int() refuses
            return int(raw)
        return default

    return PasswordHasher(
        time_cost=pick(time_cost, "JWTKIT_ARGON2_TIME_COST", 3),
        memory_cost=pick(memory_cost, "JWTKIT_ARGON2_MEMORY_COST", 65536),
        parallelism=pick(parallelism, "JWTKIT_ARGON2_PARALLELISM", 4),
    )


def default_hash_workers(parallelism: int = 1) -> int:
    """Return how many Argon2 computations run at once by default: enough to fill the CPUs.

    One computation already runs ``parallelism`` lanes in threads of its own, so the CPUs
    divided by it (at least 1): more would add no throughput, only memory (``memory_cost``
    each) and contention with everything else (issue 10, measured in benchmarks/limits.py).
    """
    return max(1, (os.cpu_count() or 1) // max(1, parallelism))


class SecretChecker:
    """Hash and verify secrets with one PasswordHasher; the same work for every failure."""

    def __init__(self, hasher: PasswordHasher, *, max_concurrency: int | None = None) -> None:
        self.hasher = hasher
        self._dummy: str | None = None
        self._memo: OrderedDict[bytes, bytes] = OrderedDict()
        self._lock = threading.Lock()
        # Each Argon2 run holds memory_cost KiB (64 MiB by default): bound how many run at
        # once, so a burst of logins queues instead of exhausting memory.
        self._slots = threading.BoundedSemaphore(
            max_concurrency or max(2, default_hash_workers(hasher.parallelism))
        )

    def hash(self, secret: str) -> str:
        """Return the Argon2id hash of ``secret`` with the configured costs."""
        with self._slots:
            return _argon2(self.hasher.hash, secret)

    def verify(self, hashed: str | None, secret: str) -> bool:
        """Check ``secret`` against ``hashed``; with None, do the same work and say False.

        A ``hashed`` cheaper than the current parameters is padded with a dummy verification
        at the current cost, so old hashes do not answer faster than current ones.
        """
        ok = self._check(self._dummy_hash() if hashed is None else hashed, secret)
        if hashed is not None and self._cheaper(hashed):
            self._check(self._dummy_hash(), secret)
        return ok and hashed is not None

    def remembered(self, name: str, hashed: str, secret: str) -> bool:
        """Say whether ``secret`` was verified for ``name`` against this very ``hashed``."""
        key, value = _memo_key(name, secret), _digest(hashed)
        with self._lock:
            if self._memo.get(key) != value:
                return False
            self._memo.move_to_end(key)
            return True

    def maybe_remembered(self, name: str, secret: str) -> bool:
        """Say whether ``secret`` was verified for ``name`` (against some hash) recently.

        No store access, for deciding where a request runs; :meth:`remembered` is the check.
        """
        with self._lock:
            return _memo_key(name, secret) in self._memo

    def remember(self, name: str, hashed: str, secret: str) -> None:
        """Remember a verified secret (bounded: the least recently used entry goes first)."""
        with self._lock:
            self._memo[_memo_key(name, secret)] = _digest(hashed)
            self._memo.move_to_end(_memo_key(name, secret))
            while len(self._memo) > _MEMO_SIZE:
                self._memo.popitem(last=False)

    def forget(self, name: str, secret: str) -> None:
        """Drop a remembered secret (it no longer matches the stored hash)."""
        with self._lock:
            self._memo.pop(_memo_key(name, secret), None)

    def needs_rehash(self, hashed: str) -> bool:
        """Say whether ``hashed`` was made with other costs than the configured ones."""
        try:
            return self.hasher.check_needs_rehash(hashed)
        except (InvalidHashError, ValueError):
            return False

    def _check(self, hashed: str, secret: str) -> bool:
        try:
            with self._slots:
                return _argon2(self.hasher.verify, hashed, secret)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _cheaper(self, hashed: str) -> bool:
        """Say whether verifying ``hashed`` costs less than the current parameters."""
        try:
            params = extract_parameters(hashed)
        except (InvalidHashError, ValueError):
            return True  # A damaged hash fails at once: pad it like a cheap one.
        current = self.hasher
        return params.time_cost * params.memory_cost < current.time_cost * current.memory_cost

    def _dummy_hash(self) -> str:
        """Return a hash to verify against for unknown names (made on first use: it is slow)."""
        if self._dummy is None:
            self._dummy = self.hash(secrets.token_urlsafe(16))
        return self._dummy


def _memo_key(name: str, secret: str) -> bytes:
    return hashlib.sha256("\0".join((name, secret)).encode("utf-8", "surrogatepass")).digest()


def _digest(hashed: str) -> bytes:
    return hashlib.sha256(hashed.encode("utf-8", "surrogatepass")).digest()


class HashingBusyError(Exception):
    """Every hashing worker is busy and the queue is full: answer 429 and retry later."""

    retry_after = 1


# In the executor's request threads: where Argon2 computations go (see HashingExecutor).
_local = threading.local()


def _argon2(fn: Callable[..., T], /, *args: Any) -> T:
    """Run one Argon2 computation: in the low-priority threads when called from a request
    thread of a :class:`HashingExecutor`, else right here."""
    offload: Callable[..., T] | None = getattr(_local, "offload", None)
    return fn(*args) if offload is None else offload(fn, *args)


class HashingExecutor:
    """``workers`` threads for requests that may hash, and at most ``queue`` more waiting.

    :meth:`run` refuses at once (:class:`HashingBusyError`) when ``workers + queue`` jobs are
    in the executor. A job's Python code (store, limits) runs in its request thread at normal
    priority; its Argon2 computations run in ``workers`` threads of their own at the CPU
    ``priority`` (Linux; Argon2's lane threads inherit it): ``"idle"`` (``SCHED_IDLE``: only
    CPU time nothing else wants), ``"low"`` (nice +10) or ``"normal"``. So on a saturated
    machine the event loop and every other request run first. Only C code, which releases
    the GIL, runs at the low priority, so no thread ever waits for a starved holder of the
    GIL. A job whose caller went away before it started is dropped.
    """

    def __init__(self, workers: int, queue: int, *, priority: str = "idle") -> None:
        if workers < 1 or queue < 0:
            raise ValueError("need at least one worker and a queue of zero or more")
        if priority not in PRIORITIES:
            raise ValueError(f"priority must be one of {', '.join(PRIORITIES)}")
        self.workers = workers
        self.capacity = workers + queue
        self._argon2 = ThreadPoolExecutor(
            workers,
            thread_name_prefix="jwtkit-argon2",
            initializer=_lower_priority,
            initargs=(priority,),
        )
        self._pool = ThreadPoolExecutor(
            workers, thread_name_prefix="jwtkit-auth", initializer=self._mark_thread
        )
        self._lock = threading.Lock()
        self._jobs = 0

    @property
    def jobs(self) -> int:
        """Return how many jobs are running or waiting."""
        return self._jobs

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` in a request thread of the executor; return its result.

        Raises:
            HashingBusyError: the queue is full (nothing was started).
        """
        with self._lock:
            if self._jobs >= self.capacity:
                raise HashingBusyError()
            self._jobs += 1
        call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        try:
            future: Future[T] = self._pool.submit(call)
        except BaseException:
            self._done(None)
            raise
        future.add_done_callback(self._done)
        return await asyncio.wrap_future(future)

    def shutdown(self) -> None:
        """Stop the threads after the running jobs; queued jobs are cancelled."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._argon2.shutdown(wait=False, cancel_futures=True)

    def _mark_thread(self) -> None:
        _local.offload = self._offload

    def _offload(self, fn: Callable[..., T], /, *args: Any) -> T:
        return self._argon2.submit(fn, *args).result()

    def _done(self, _future: object) -> None:
        with self._lock:
            self._jobs -= 1


def _lower_priority(priority: str) -> None:
    """Lower this thread's CPU priority (Linux: per thread; threads it starts inherit it)."""
    if priority == "normal" or not sys.platform.startswith("linux"):
        return
    tid = threading.get_native_id()
    with contextlib.suppress(OSError, AttributeError):
        if priority == "idle":
            os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
            return
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + 10))
