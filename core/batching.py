"""Per-process batching of work items on hot paths (the click queue's writes, the commission task kicks).

`Batcher.put(item)` appends under a lock. The caller that fills a batch (`MAX_BATCH` items) writes it itself;
a timer thread writes a batch older than `MAX_AGE` seconds. There is no hand-off to another thread on the busy
path (that costs more CPU than the write). A process killed hard loses at most the unwritten batch, so each user
says what recovers it. Safe across fork: the child starts its own timer and does not inherit the parent's items.
"""

import os
import threading
import time


class Batcher:
    MAX_BATCH = 64
    MAX_AGE = 0.002
    THREAD_NAME = "batcher"

    def __init__(self):
        self._cond = threading.Condition()
        self._pending: list = []
        self._since = 0.0
        self._writing = 0
        self._pid = None

    def write(self, batch: list) -> None:
        """Write one batch (subclasses). Must not raise: a failure is the subclass's to handle or log."""
        raise NotImplementedError

    def put(self, item) -> None:
        with self._cond:
            if self._pid != os.getpid():
                self._start()
            if not self._pending:
                self._since = time.monotonic()
            self._pending.append(item)
            if len(self._pending) < self.MAX_BATCH:
                return
            batch = self._take()
        self._write_counted(batch)

    def _start(self) -> None:
        # Called with the lock held; also after a fork (the parent's thread does not exist in the child).
        self._pid = os.getpid()
        self._pending = []
        self._writing = 0
        threading.Thread(target=self._run, name=self.THREAD_NAME, daemon=True).start()

    def _take(self) -> list:
        batch, self._pending = self._pending, []
        self._writing += 1
        return batch

    def _run(self) -> None:
        while True:
            time.sleep(self.MAX_AGE)
            with self._cond:
                if not self._pending or time.monotonic() - self._since < self.MAX_AGE:
                    continue
                batch = self._take()
            self._write_counted(batch)

    def _write_counted(self, batch: list) -> None:
        try:
            self.write(batch)
        finally:
            with self._cond:
                self._writing -= 1
                self._cond.notify_all()

    def flush(self, timeout: float = 5.0) -> bool:
        """Write what is pending now and wait for writes in flight (shutdown, tests). True when all is written."""
        with self._cond:
            batch = self._take() if self._pending else None
        if batch is not None:
            self._write_counted(batch)
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._writing and time.monotonic() < deadline:
                self._cond.wait(0.05)
            return not (self._writing or self._pending)
