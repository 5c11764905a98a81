"""Sign and verify a token with every algorithm jwtkit supports, then show a rejected one.

Run it with ``python examples/quickstart.py``.
"""

from __future__ import annotations

import time

from jwtkit import Key, Signer, Verifier, decode_unverified
from jwtkit.errors import InvalidTokenError
from jwtkit.jwa import ALGORITHMS


def main() -> None:
    """Print one line per algorithm: token size and the verified subject."""
    print(f"{'alg':<10} {'token bytes':>11}  {'1st verify':>10}  subject")
    for alg in ALGORITHMS:
        key = Key.generate(alg)
        kid = key.thumbprint()
        key = key.with_kid(kid)
        signer = Signer(key, issuer="https://id.example", audience="api")
        token = signer.sign({"sub": "alice", "scope": "read"})
        public = key if key.kty == "oct" else key.public()
        verifier = Verifier(public, algorithms=[alg], issuer="https://id.example", audience="api")
        start = time.perf_counter()
        claims = verifier.verify(token)
        micros = (time.perf_counter() - start) * 1e6
        print(f"{alg:<10} {len(token):>11}  {micros:>8.0f}µs  {claims['sub']}")

    key = Key.generate("ES256")
    token = Signer(key, audience="api").sign({"sub": "alice"})
    header, _ = decode_unverified(token)
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    try:
        Verifier(key.public(), algorithms=["ES256"], audience="api").verify(tampered)
    except InvalidTokenError as exc:
        print(f"\ntampered {header['alg']} token rejected: {type(exc).__name__} ({exc.code})")


if __name__ == "__main__":
    main()
