"""Fixtures for the token-service tests; the helpers they use live in server_support.py.

Test modules import helpers from ``server_support`` (a unique module name), never from
``conftest``: several test folders have a conftest.py, and ``import conftest`` would resolve to
whichever one happened to be loaded first.
"""

from __future__ import annotations

from server_support import (
    app,
    client,
    clock,
    make_app,
    make_settings,
    master_key,
    svc,
    template_store,
)

__all__ = [
    "app",
    "client",
    "clock",
    "make_app",
    "make_settings",
    "master_key",
    "svc",
    "template_store",
]
