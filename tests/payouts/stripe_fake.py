"""A recorded-response Stripe API behind the real SDK: requests go through `stripe.RequestsClient` and are
answered by `responses` with Stripe-shaped JSON; every request is kept for assertions. Transfers and accounts
honour the Idempotency-Key like Stripe: the same key with the same parameters answers the stored response (an
error too), with other parameters an `idempotency_error`."""

import hashlib
import hmac
import itertools
import json
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlparse

import responses
import stripe

API = "https://api.stripe.com"
WEBHOOK_SECRET = "whsec_test_payouts"


@dataclass
class Call:
    method: str
    path: str
    params: dict
    headers: dict


@dataclass
class FakeStripe:
    rsps: responses.RequestsMock
    calls: list = field(default_factory=list)
    transfers: dict = field(default_factory=dict)  # id -> transfer
    by_key: dict = field(default_factory=dict)  # idempotency key -> response
    key_params: dict = field(default_factory=dict)  # idempotency key -> (path, parameters) of its first request
    accounts: dict = field(default_factory=dict)  # id -> account (retrieved as stored; tests edit its state)
    # country -> error body answered (and stored under the key) instead of creating an account
    refuse_country: dict = field(default_factory=dict)
    # destination -> (status, error body) answered instead of creating a transfer
    refuse: dict = field(default_factory=dict)
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def install(self):
        self.rsps.add_callback(responses.POST, f"{API}/v1/transfers", callback=self._transfer_create)
        self.rsps.add_callback(responses.GET, re.compile(rf"{API}/v1/transfers(\?.*)?$"), callback=self._transfer_list)
        self.rsps.add_callback(responses.POST, f"{API}/v1/accounts", callback=self._account_create)
        self.rsps.add_callback(responses.POST, f"{API}/v1/account_links", callback=self._account_link)
        self.rsps.add_callback(responses.GET, re.compile(rf"{API}/v1/accounts/[A-Za-z0-9_]+$"),
                               callback=self._account_retrieve)
        return self

    def _record(self, request) -> Call:
        url = urlparse(request.url)
        body = request.body or ""
        if isinstance(body, bytes):
            body = body.decode()
        query = body if request.method == "POST" else url.query
        params = {k: v[0] if len(v) == 1 else v for k, v in parse_qs(query).items()}
        call = Call(request.method, url.path, params, dict(request.headers))
        self.calls.append(call)
        return call

    def posts(self, path="/v1/transfers") -> list[Call]:
        return [c for c in self.calls if c.method == "POST" and c.path == path]

    def _reply(self, status, body):
        return status, {"Content-Type": "application/json", "Request-Id": f"req_{next(self.counter)}"}, json.dumps(body)

    def _replayed(self, call: Call):
        """Stripe's idempotency: the stored answer for the same request, an idempotency_error for another one."""
        key = call.headers.get("Idempotency-Key")
        if key not in self.by_key:
            if key:
                self.key_params[key] = (call.path, call.params)
            return None
        if self.key_params.get(key) != (call.path, call.params):
            return self._reply(400, {"error": {
                "type": "idempotency_error",
                "message": "Keys for idempotent requests can only be used with the same parameters they were first "
                           f"used with. Try using a key other than '{key}' if you meant to execute a different "
                           "request."}})
        return self._reply(*self.by_key[key])

    def _transfer_create(self, request):
        call = self._record(request)
        key = call.headers.get("Idempotency-Key")
        replayed = self._replayed(call)
        if replayed is not None:
            return replayed
        p = call.params
        if p["destination"] in self.refuse:
            status, error = self.refuse[p["destination"]]
            return self._reply(status, {"error": error})
        transfer = {
            "id": f"tr_{next(self.counter):08d}", "object": "transfer", "amount": int(p["amount"]),
            "amount_reversed": 0, "currency": p["currency"], "destination": p["destination"],
            "transfer_group": p.get("transfer_group"), "reversed": False, "livemode": False,
            "created": int(time.time()), "description": p.get("description"),
            "metadata": {k[len("metadata["):-1]: v for k, v in p.items() if k.startswith("metadata[")},
        }
        self.transfers[transfer["id"]] = transfer
        if key:
            self.by_key[key] = (200, transfer)
        return self._reply(200, transfer)

    def _transfer_list(self, request):
        call = self._record(request)
        group = call.params.get("transfer_group")
        data = [t for t in self.transfers.values() if t["transfer_group"] == group]
        return self._reply(200, {"object": "list", "url": "/v1/transfers", "has_more": False, "data": data})

    def _account_create(self, request):
        call = self._record(request)
        key = call.headers.get("Idempotency-Key")
        replayed = self._replayed(call)
        if replayed is not None:
            return replayed
        country = call.params.get("country", "US")
        if country in self.refuse_country:
            answer = (400, {"error": self.refuse_country[country]})
        else:
            account = {"id": f"acct_{next(self.counter):010d}", "object": "account", "type": "express",
                       "country": country, "email": call.params.get("email"), "details_submitted": False,
                       "payouts_enabled": False, "charges_enabled": False,
                       "capabilities": {"transfers": "inactive"},
                       "requirements": {"currently_due": ["external_account", "individual.dob.day"],
                                        "disabled_reason": "requirements.past_due"}}
            self.accounts[account["id"]] = account
            answer = (200, account)
        if key:
            self.by_key[key] = answer
        return self._reply(*answer)

    def _account_retrieve(self, request):
        call = self._record(request)
        account = self.accounts.get(call.path.rsplit("/", 1)[-1])
        if account is None:
            return self._reply(404, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                               "message": "No such account"}})
        return self._reply(200, account)

    def _account_link(self, request):
        call = self._record(request)
        return self._reply(200, {"object": "account_link", "created": int(time.time()),
                                 "expires_at": int(time.time()) + 300,
                                 "url": f"https://connect.stripe.com/setup/e/{call.params['account']}/abc123"})


@contextmanager
def served(settings, monkeypatch):
    """The fake answering the real SDK's requests, with the platform's Stripe keys set (pytest's `settings` and
    `monkeypatch` undo it all)."""
    settings.STRIPE_SECRET_KEY = "sk_test_payouts"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    monkeypatch.setattr(stripe, "default_http_client", stripe.RequestsClient())
    monkeypatch.setattr(stripe, "max_network_retries", 0)  # a 5xx answers at once (no back-off sleeps)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeStripe(rsps).install()


def signed(event: dict, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> tuple[str, str]:
    """The body and Stripe-Signature header exactly as Stripe signs: v1 = HMAC-SHA256(secret, "<t>.<body>")."""
    body = json.dumps(event)
    t = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
    return body, f"t={t},v1={signature}"


def event(kind: str, obj: dict, event_id: str | None = None) -> dict:
    return {"id": event_id or f"evt_{abs(hash((kind, obj.get('id'), time.time_ns())))}", "object": "event",
            "api_version": "2025-01-27.acacia", "created": int(time.time()), "type": kind, "livemode": False,
            "data": {"object": obj}, "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None}}
