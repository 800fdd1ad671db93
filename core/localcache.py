"""A per-process cache in front of slower look-ups on hot paths (the click redirect's links and programs, the
postback's API-key rows): a dict whose entries expire after `ttl` seconds, emptied whole when it reaches
`max_size` (a flood of distinct keys cannot grow it without end). Other processes' copies go stale for at most
`ttl`; the process that changes a row drops its own copy at once."""

import time

MISSING = object()


class LocalCache:
    def __init__(self, *, ttl: float, max_size: int):
        self.ttl, self.max_size = ttl, max_size
        self._data: dict = {}

    def get(self, key, default=MISSING):
        hit = self._data.get(key)
        return hit[1] if hit is not None and hit[0] > time.monotonic() else default

    def set(self, key, value) -> None:
        if len(self._data) >= self.max_size:
            self._data.clear()
        self._data[key] = (time.monotonic() + self.ttl, value)

    def pop(self, key) -> None:
        self._data.pop(key, None)

    def clear(self) -> None:
        self._data.clear()
