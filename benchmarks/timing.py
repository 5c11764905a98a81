"""Interleaved timing: every cell sampled once per round, rounds in a fresh random order.

Interleaving spreads slow drifts of a shared machine (other processes, CPU frequency, cache
state) over every cell instead of charging them to whichever ran last. Each sample is a batch
of calls timed with ``time.perf_counter_ns`` with the garbage collector off, so one collection
does not land on one library; the reported value is the median over rounds, and the spread
between the quartiles is reported as noise. Each sample also records the process CPU time of
the batch: when other processes share the cores, wall time includes the moments this process
was not running at all, while CPU time does not, so the CPU-time median is the steadier figure.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "Stat",
    "Timed",
    "calibrate",
    "run_interleaved",
    "sample",
    "sample_both",
    "summarize",
]


@dataclass(slots=True)
class Timed:
    """One measured callable: its key, the call, loops per batch, per-call samples (ns).

    ``samples`` are wall-clock (``perf_counter_ns``), ``cpu_samples`` process CPU time.
    """

    key: tuple[str, ...]
    fn: Callable[[], object]
    loops: int = 1
    samples: list[float] = field(default_factory=list)
    cpu_samples: list[float] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Stat:
    """Summary of samples in microseconds per call; ``noise`` is IQR / median in percent."""

    median: float
    q1: float
    q3: float
    low: float
    high: float
    count: int

    @property
    def noise(self) -> float:
        """Inter-quartile range as a percentage of the median."""
        return 100.0 * (self.q3 - self.q1) / self.median if self.median else 0.0


def sample_both(fn: Callable[[], object], loops: int) -> tuple[float, float]:
    """Time ``loops`` calls of ``fn`` in one batch with GC disabled.

    Returns wall-clock and process-CPU nanoseconds per call.
    """
    it = range(loops)
    enabled = gc.isenabled()
    gc.disable()
    wall, cpu = time.perf_counter_ns, time.process_time_ns
    try:
        cpu_start = cpu()
        start = wall()
        for _ in it:
            fn()
        end = wall()
        cpu_end = cpu()
    finally:
        if enabled:
            gc.enable()
    return (end - start) / loops, (cpu_end - cpu_start) / loops


def sample(fn: Callable[[], object], loops: int) -> float:
    """Time ``loops`` calls of ``fn`` in one batch with GC disabled; return wall ns per call."""
    return sample_both(fn, loops)[0]


def calibrate(fn: Callable[[], object], target_ns: float, max_loops: int = 1_000_000) -> int:
    """Return how many calls make one batch last about ``target_ns`` (at least one)."""
    fn()  # Warm caches, lazy imports and prepared-key tables before timing anything.
    loops = 1
    while True:
        per_call = sample(fn, loops)
        total = per_call * loops
        if total >= target_ns / 4 or loops >= max_loops:
            return max(1, min(max_loops, round(target_ns / max(per_call, 1.0))))
        loops *= 10 if total < target_ns / 100 else 4


def run_interleaved(
    cells: Sequence[Timed],
    rounds: int,
    *,
    seed: int = 6,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Sample every cell once per round, in a new shuffled order each round."""
    order = list(cells)
    rng = random.Random(seed)
    for round_no in range(rounds):
        rng.shuffle(order)
        for cell in order:
            wall, cpu = sample_both(cell.fn, cell.loops)
            cell.samples.append(wall)
            cell.cpu_samples.append(cpu)
        if progress is not None:
            progress(round_no + 1, rounds)


def summarize(samples_ns: Sequence[float]) -> Stat:
    """Median, quartiles and range of per-call samples, converted to microseconds."""
    us = sorted(s / 1000.0 for s in samples_ns)
    if len(us) >= 2:
        q1, _, q3 = statistics.quantiles(us, n=4, method="inclusive")
    else:
        q1 = q3 = us[0]
    return Stat(statistics.median(us), q1, q3, us[0], us[-1], len(us))
