"""RSA prime recovery from ``n``, ``e`` and ``d`` with a bound on the work (private).

A private RSA JWK may omit ``p`` and ``q`` (RFC 7518 §6.3.2), and the primes are then
recovered from ``d``. ``cryptography``'s ``rsa_recover_prime_factors`` runs up to 500 rounds of
fresh modular exponentiations in pure Python, so a hostile key (a prime ``n`` with a matching
``d``, or a modulus of tens of thousands of bits) kept it busy for minutes (issue 19, F5). This
version refuses moduli over ``RECOVER_MAX_BITS`` before doing any work, does one
exponentiation per round and squares after it, refuses a prime ``n`` with one Fermat test, and
stops as soon as a round shows that ``d`` does not match.
"""

from __future__ import annotations

import math
import secrets

from jwtkit.errors import InvalidKeyError

__all__ = ["RECOVER_MAX_BITS", "recover_primes"]

#: The largest modulus whose primes are recovered from ``d``: each round costs a modular
#: exponentiation in Python, a few hundred milliseconds at 4096 bits and seconds at 8192.
#: Larger private JWKs must carry ``p`` and ``q``, as every common tool writes them.
RECOVER_MAX_BITS = 4096

# Rabin's method (HAC 8.2.2): for a true two-prime modulus each random base fails with
# probability at most 1/2, so 64 rounds refuse a good key with probability 2**-64.
_ROUNDS = 64


def recover_primes(n: int, e: int, d: int) -> tuple[int, int]:
    """Return the primes ``(p, q)`` of ``n`` from the exponents ``e`` and ``d``.

    The result is not checked here: the caller builds the key, and ``cryptography`` checks
    that ``p * q == n`` and that both are prime.

    Raises:
        InvalidKeyError: ``n`` is too large, the members are inconsistent, or no factor was
            found.
    """
    bits = n.bit_length()
    if bits > RECOVER_MAX_BITS:
        raise InvalidKeyError(
            f"an RSA JWK of {bits} bits must include 'p' and 'q': jwtkit recovers the primes "
            f"from 'd' only up to {RECOVER_MAX_BITS} bits"
        )
    if n < 15 or n % 2 == 0 or not 1 < e < n or not 1 < d < n:
        raise InvalidKeyError("RSA JWK members 'n', 'e' and 'd' are inconsistent")
    k = e * d - 1  # a multiple of lambda(n) when d matches
    shared = math.gcd(k, n)
    if shared != 1:
        # A prime power n = p**m always shares p with lambda(n); a true key almost never
        # does, and then the shared factor is already one of its primes.
        if shared == n:
            raise InvalidKeyError("RSA JWK members 'n', 'e' and 'd' are inconsistent")
        return _ordered(shared, n // shared)
    if pow(2, n - 1, n) == 1:
        # n is (almost certainly) prime: every round below would fail, at full cost.
        raise InvalidKeyError("the RSA modulus 'n' is not a product of two primes")
    s = (k & -k).bit_length() - 1
    t = k >> s
    for _ in range(_ROUNDS):
        x = pow(secrets.randbelow(n - 3) + 2, t, n)
        if x in (1, n - 1):
            continue  # this base shows no square root of 1
        for _ in range(s):
            y = x * x % n
            if y == 1:  # x is a square root of 1 other than +-1: it splits n
                p = math.gcd(x - 1, n)
                return _ordered(p, n // p)
            if y == n - 1:
                break
            x = y
        else:
            raise InvalidKeyError("RSA JWK member 'd' does not match 'n' and 'e'")
    raise InvalidKeyError("could not recover the RSA primes from 'd'")


def _ordered(p: int, q: int) -> tuple[int, int]:
    """The larger prime first, as ``cryptography``'s recovery returns them."""
    return (p, q) if p > q else (q, p)
