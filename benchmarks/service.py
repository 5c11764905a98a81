"""Token-service load test (placeholder until jwtkit.server lands)."""

from __future__ import annotations

from typing import Any

__all__ = ["measure_service"]


def measure_service() -> dict[str, Any]:
    """Return the service measurements, or why they were skipped."""
    return {"skipped": "not written yet"}
