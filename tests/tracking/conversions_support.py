"""Shared helpers of the conversion and outbound tests: a shop (program, partnerships, links, coupon),
clicks at a given time, and a local HTTP receiver for webhooks and postbacks."""

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.utils import timezone

from tests.factories import make_click, make_coupon, make_link, make_partnership, make_program
from tracking.ids import click_id_time, new_click_id


@dataclass
class Shop:
    tenant: object
    program: object
    partnership: object
    link: object
    partnership2: object
    link2: object
    coupon: object


def make_shop(tenant, **program_fields) -> Shop:
    program = make_program(tenant.advertiser, **program_fields)
    partnership = make_partnership(program, tenant.affiliate)
    partnership2 = make_partnership(program, tenant.affiliate2)
    return Shop(
        tenant=tenant, program=program, partnership=partnership,
        link=make_link(partnership, sub1="fb", sub2="summer"), partnership2=partnership2,
        link2=make_link(partnership2), coupon=make_coupon(partnership2, code=f"SAVE-{tenant.network.slug}"),
    )


def click_at(link, ago: timedelta = timedelta(minutes=5), **fields):
    """A click row `ago` before now, its id carrying that time (as the redirect makes them)."""
    when = timezone.now() - ago
    click_id = new_click_id(int(when.timestamp() * 1000))
    return make_click(link, click_id=click_id, created_at=click_id_time(click_id),
                      sub1=link.sub1, sub2=link.sub2, **fields)


def post_conversion(client, **body):
    body = {"order_id": "ORD-1", "amount": "100.00", "currency": "EUR"} | body
    return client.post("/api/v1/conversions", body, format="json")


@dataclass
class Receiver:
    """A local HTTP server that records requests and answers `status` (a list: one per request, last repeats),
    each after `delay` seconds (a receiver slower than the sender's timeout)."""

    statuses: list = field(default_factory=lambda: [200])
    delay: float = 0.0
    requests: list = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                receiver.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                          "body": body})
                if receiver.delay:
                    time.sleep(receiver.delay)
                index = min(len(receiver.requests), len(receiver.statuses)) - 1
                payload = json.dumps({"received": True}).encode()
                try:
                    self.send_response(receiver.statuses[index])
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up waiting (its timeout)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
