"""Click ids: ULIDs (48-bit Unix milliseconds + 80 random bits, Crockford base32, 26 characters).

Time-ordered, so the click's time is read from its id (partition pruning, attribution windows)
and ids sort by creation time: within one process strictly (ids of the same millisecond follow each other by
a random step, so they stay unguessable), between processes to the millisecond.
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


_RANDOM_LIMIT = 1 << 80
_order_lock = threading.Lock()
_newest = [-1, 0]  # (milliseconds, random part) of this process's newest id


def _after_newest(ms: int) -> tuple[int, int]:
    """A random part that sorts this id after the process's newest one (same millisecond, or a clock that
    stepped back by less than a second: that millisecond again, the random part moved on by a random step of
    up to 2**40). A larger step back is taken as it is: the click's time matters more than the order."""
    fresh = _random80()
    with _order_lock:
        if 0 <= _newest[0] - ms < 1000:
            ms, fresh = _newest[0], _newest[1] + 1 + (fresh >> 40)
            if fresh >= _RANDOM_LIMIT:  # 2**40 ids in one millisecond: the next one
                ms, fresh = ms + 1, _random80()
        _newest[0], _newest[1] = ms, fresh
    return ms, fresh


def new_click_id(now_ms: int | None = None, *, entropy: int | None = None) -> str:
    """`now_ms` and `entropy` (80 bits) fix the time and the random part: demo data and benchmarks only."""
    if now_ms is None and entropy is None:
        ms, random_part = _after_newest(time.time_ns() // 1_000_000)
    else:
        ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
        random_part = _random80() if entropy is None else entropy & (_RANDOM_LIMIT - 1)
    ms &= (1 << 48) - 1
    return _encode_ms(ms) + "".join([_PAIRS[(random_part >> shift) & 1023] for shift in _RANDOM_SHIFTS])


# The latest time a click id may carry: a day before datetime's end, so that reading its time and the windows
# around it (a day either side) stay dates. 48 bits reach year 10889; such an id was never made here.
_MAX_TIME_MS = int(datetime(9999, 12, 30, tzinfo=UTC).timestamp() * 1000)


def is_click_id(value) -> bool:
    """The 26-character format, with a time up to year 9999 (Crockford digits sort like their values)."""
    return isinstance(value, str) and bool(_CLICK_ID_RE.match(value)) and value[:10] <= _MAX_TIME_PREFIX


# Crockford digits -> the digits int(..., 32) reads (0-9, a-v): the time part is decoded at C speed.
_TO_BASE32 = str.maketrans(ALPHABET, "0123456789abcdefghijklmnopqrstuv")


_MAX_TIME_PREFIX = "".join(ALPHABET[(_MAX_TIME_MS >> shift) & 31] for shift in range(45, -1, -5))


def click_id_time(click_id: str) -> datetime:
    """When the click happened (millisecond precision, UTC). Raises ValueError for a malformed id."""
    if not is_click_id(click_id):
        raise ValueError("Malformed click id.")
    return click_id_time_unchecked(click_id)


def click_id_time_unchecked(click_id: str) -> datetime:
    """`click_id_time` of an id already checked with `is_click_id`."""
    return datetime.fromtimestamp(int(click_id[:10].translate(_TO_BASE32), 32) / 1000, tz=UTC)
