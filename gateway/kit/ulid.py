"""ULIDs (48 bits of Unix milliseconds, then 80 random bits) as 16 bytes and as their
26 Crockford base32 characters, lower case, as the contract shows ids.

python-ulid makes them (os.urandom's bits, increasing within a millisecond, under a
lock); ulid-transform writes and reads their text in C, a fifth of the cost of
python-ulid's pure-Python base32 (an event list shows up to 100 ids)."""

from __future__ import annotations

from ulid import ULID
from ulid_transform import bytes_to_ulid, ulid_to_bytes


def new_ulid_bytes(timestamp: float | None = None) -> bytes:
    """A new ULID at `timestamp` (Unix seconds; now if None)."""
    return (ULID() if timestamp is None else ULID.from_timestamp(timestamp)).bytes


def ulid_text(value: bytes) -> str:
    """The 26 lower-case characters of a ULID's 16 bytes."""
    return bytes_to_ulid(value).lower()


def ulid_from_text(value: str) -> bytes:
    """The 16 bytes of 26 Crockford base32 characters (either case), which the caller
    has checked."""
    return ulid_to_bytes(value.upper())
