"""jwtkit's benchmark harness (issue 6): jwtkit against a hand-written floor and every peer.

Run ``python -m benchmarks.run`` (``--quick`` for a smoke run); results land in
``benchmarks/results/``. Nothing here is part of the installed package.
"""
