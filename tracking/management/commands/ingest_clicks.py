"""Drain the click queue into the database: a loop (the `ingester` service) or once (`--once`)."""

import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tracking import click_queue, ingest


class Command(BaseCommand):
    help = "Ingest queued clicks in batches (Redis Stream consumer groups); --once drains and exits."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="drain what is queued, then exit")
        parser.add_argument("--batch", type=int, default=2000, help="clicks per INSERT and transaction")
        parser.add_argument("--block-ms", type=int, default=1000, help="how long one read waits for new clicks")
        parser.add_argument("--stale-ms", type=int, default=60_000,
                            help="claim another consumer's unacknowledged entries after this idle time")
        parser.add_argument("--shards", default=None,
                            help="the queue shards to read, e.g. 0,2,4-7 (default: CLICK_INGEST_SHARDS, else all)")

    def handle(self, *args, once, batch, block_ms, stale_ms, shards, **options):
        if not click_queue.queue_configured():
            self.stdout.write("No click queue configured (CLICK_QUEUE_URL / REDIS_URL): clicks are written directly.")
            return
        try:
            chosen = click_queue.parse_shards(settings.CLICK_INGEST_SHARDS if shards is None else shards)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        stopping = []
        if not once:
            # Finish the batch in hand (commit, ack), then exit.
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: stopping.append(True))
            self.stdout.write(f"reading shards {','.join(map(str, chosen))} of {len(click_queue.shards())}")
        started = time.monotonic()
        total = ingest.IngestResult()
        while True:
            try:
                click_queue.drain(batch=batch, block_ms=None if once else block_ms, stale_ms=stale_ms,
                                  stop=lambda: bool(stopping), total=total, shard_indices=chosen)
            except Exception as exc:
                if once:
                    raise
                # Unacknowledged entries stay pending and are claimed again after --stale-ms.
                self.stderr.write(f"ingest failed, retrying: {exc.__class__.__name__}: {exc}")
                time.sleep(1)
                continue
            if once or stopping:
                break
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"ingested {total.inserted} clicks ({total.received} received, {total.duplicates} duplicates, "
            f"{total.bots} bots) in {elapsed:.2f}s"
        )
