"""Click ids: ULIDs (48-bit Unix milliseconds + 80 random bits, Crockford base32, 26 characters).

Time-ordered, so the click's time is read from its id (partition pruning, attribution windows)
and ids sort by creation time.
"""

import os
import re
import threading
import time
from datetime import UTC, datetime

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CLICK_ID_RE = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$")


_RANDOM_CHUNK = 10 * 400
_random = threading.local()


def _forget_random():
    _random.__dict__.clear()


# A forked child must not reuse its parent's leftover random bytes (two processes, same ids).
os.register_at_fork(after_in_child=_forget_random)


def _random80() -> int:
    # os.urandom in chunks: one system call per 400 ids (a syscall per click costs more than the rest of the id).
    pool = getattr(_random, "pool", None)
    offset = getattr(_random, "offset", _RANDOM_CHUNK)
    if pool is None or offset >= _RANDOM_CHUNK:
        pool, offset = _random.pool, _random.offset = os.urandom(_RANDOM_CHUNK), 0
    _random.offset = offset + 10
    return int.from_bytes(pool[offset:offset + 10], "big")


# Ten bits (two characters) a lookup; the time part (first ten characters) is made once per millisecond.
_PAIRS = [a + b for a in ALPHABET for b in ALPHABET]
_RANDOM_SHIFTS = (70, 60, 50, 40, 30, 20, 10, 0)
_TIME_SHIFTS = (40, 30, 20, 10, 0)
_time_prefix: tuple[int, str] = (-1, "")


def _encode_ms(ms: int) -> str:
    global _time_prefix
    cached = _time_prefix
    if cached[0] != ms:
        cached = _time_prefix = (ms, "".join([_PAIRS[(ms >> shift) & 1023] for shift in _TIME_SHIFTS]))
    return cached[1]


def new_click_id(now_ms: int | None = None, *, entropy: int | None = None) -> str:
    """`entropy` (80 bits) replaces the random part: reproducible ids for demo data and benchmarks only."""
    ms = (time.time_ns() // 1_000_000 if now_ms is None else now_ms) & ((1 << 48) - 1)
    random_part = _random80() if entropy is None else entropy & ((1 << 80) - 1)
    return _encode_ms(ms) + "".join([_PAIRS[(random_part >> shift) & 1023] for shift in _RANDOM_SHIFTS])


def is_click_id(value) -> bool:
    return isinstance(value, str) and bool(_CLICK_ID_RE.match(value))


# Crockford digits -> the digits int(..., 32) reads (0-9, a-v): the time part is decoded at C speed.
_TO_BASE32 = str.maketrans(ALPHABET, "0123456789abcdefghijklmnopqrstuv")


def click_id_time(click_id: str) -> datetime:
    """When the click happened (millisecond precision, UTC). Raises ValueError for a malformed id."""
    if not is_click_id(click_id):
        raise ValueError("Malformed click id.")
    return click_id_time_unchecked(click_id)


def click_id_time_unchecked(click_id: str) -> datetime:
    """`click_id_time` of an id already checked with `is_click_id`."""
    return datetime.fromtimestamp(int(click_id[:10].translate(_TO_BASE32), 32) / 1000, tz=UTC)
