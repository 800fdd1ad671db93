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
    pool = getattr(_random, "pool", b"")
    if not pool:
        pool = os.urandom(_RANDOM_CHUNK)
    _random.pool = pool[10:]
    return int.from_bytes(pool[:10], "big")


def new_click_id(now_ms: int | None = None, *, entropy: int | None = None) -> str:
    """`entropy` (80 bits) replaces the random part: reproducible ids for demo data and benchmarks only."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms << 80) | (_random80() if entropy is None else entropy & ((1 << 80) - 1))
    chars = []
    for _ in range(26):
        chars.append(ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def is_click_id(value) -> bool:
    return isinstance(value, str) and bool(_CLICK_ID_RE.match(value))


def click_id_time(click_id: str) -> datetime:
    """When the click happened (millisecond precision, UTC). Raises ValueError for a malformed id."""
    if not is_click_id(click_id):
        raise ValueError("Malformed click id.")
    ms = 0
    for char in click_id[:10]:
        ms = ms * 32 + ALPHABET.index(char)
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
