"""Version ids: 27-character, time-sortable, KSUID-like strings, as Segment's API returns.

A KSUID is 20 bytes, base62-encoded and zero-padded to 27 characters: a 4-byte big-endian
timestamp in seconds since the KSUID epoch (2014-05-13), then a 16-byte payload. Here the first
4 bytes of the payload hold the fraction of the second, so ids made within one second still
sort by time; the other 12 bytes are random. Ids sort as strings in the order they were made.
"""

from __future__ import annotations

import secrets
import string
import time

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
KSUID_EPOCH = 1_400_000_000
ID_LENGTH = 27
_MAX = 1 << 160


def _base62(number: int) -> str:
    digits = []
    while number:
        number, remainder = divmod(number, 62)
        digits.append(BASE62[remainder])
    return "".join(reversed(digits)).rjust(ID_LENGTH, "0")


def new_version_id(now: float | None = None) -> str:
    """Return a new id; `now` (a Unix time in seconds) is for tests."""
    now = time.time() if now is None else now
    seconds = int(now) - KSUID_EPOCH
    fraction = int((now - int(now)) * (1 << 32)) & 0xFFFFFFFF
    payload = (fraction << 96) | secrets.randbits(96)
    return _base62((seconds << 128) | payload)


def is_version_id(value: str) -> bool:
    """Whether `value` has the shape of a version id (not whether one exists)."""
    if len(value) != ID_LENGTH or any(char not in BASE62 for char in value):
        return False
    return _decode(value) < _MAX


def _decode(value: str) -> int:
    number = 0
    for char in value:
        number = number * 62 + BASE62.index(char)
    return number


def version_id_time(value: str) -> float:
    """The Unix time an id was made at, to the precision the id keeps."""
    number = _decode(value)
    seconds = number >> 128
    fraction = (number >> 96) & 0xFFFFFFFF
    return seconds + KSUID_EPOCH + fraction / (1 << 32)
