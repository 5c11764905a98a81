"""Compatibility layers: other libraries' APIs on top of jwtkit's core (``compat.pyjwt``)."""
