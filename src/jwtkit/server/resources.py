"""Deprecated alias of ``jwtkit.server._resources``, the RFC 8707 registry (issue 15)."""

from __future__ import annotations

from jwtkit.server._deprecated import warn_moved
from jwtkit.server._resources import (
    MAX_RESOURCES,
    ResourceInfo,
    Resources,
    Target,
    check_resource_uri,
    split_resources,
)

__all__ = [
    "MAX_RESOURCES",
    "ResourceInfo",
    "Resources",
    "Target",
    "check_resource_uri",
    "split_resources",
]

warn_moved(__name__, "jwtkit.server._resources")
