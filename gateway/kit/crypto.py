from __future__ import annotations

import hmac


def hmac_sha256_hex(key: str, message: str) -> str:
    return hmac.digest(key.encode(), message.encode(), "sha256").hex()  # one C call


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def hash_api_secret(pepper: str, secret: str) -> str:
    # API secrets carry 256 bits of entropy, so a keyed fast hash is enough: a slow
    # password hash would add nothing but latency. The pepper keeps a stolen table
    # of hashes useless without the server's configuration.
    return hmac_sha256_hex(pepper, secret)
