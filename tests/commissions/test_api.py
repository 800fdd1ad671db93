"""Commissions API: role scoping, filters, approve/reject/hold/release, bulk approve, balance, ledger; 404 across
networks on every endpoint; 401/403; illegal transitions 400 naming the state."""

from decimal import Decimal

import pytest

from commissions import ledger, services
from commissions.models import Commission, Transaction
from tests.factories import make_link, make_partnership

from .helpers import convert, program_with_link

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def book(world):
    """Network a: two affiliates with commissions; network b: one commission."""
    program, link = program_with_link(world.a, rules=[
        {"event": "sale", "kind": "percent", "payout": D("10"), "revenue": D("12")}])
    link2 = make_link(make_partnership(program, world.a.affiliate2))
    _, [c1] = convert(world.a, link, "a-1", "100.00")
    _, [c2] = convert(world.a, link, "a-2", "50.00")
    _, [c3] = convert(world.a, link2, "a-3", "10.00")
    _, link_b = program_with_link(world.b)
    _, [b1] = convert(world.b, link_b, "b-1", "100.00")
    return {"program": program, "c1": c1, "c2": c2, "c3": c3, "b1": b1}


def ids(response):
    assert response.status_code == 200, response.content
    return sorted(row["id"] for row in response.json()["results"])


def test_each_role_sees_its_own_commissions(world, book):
    everyone = sorted([book["c1"].pk, book["c2"].pk, book["c3"].pk])
    assert ids(world.a.client("owner").get("/api/v1/commissions")) == everyone
    assert ids(world.a.client("staff").get("/api/v1/commissions")) == everyone
    assert ids(world.a.client("advertiser").get("/api/v1/commissions")) == everyone
    assert ids(world.a.client("affiliate").get("/api/v1/commissions")) == sorted([book["c1"].pk, book["c2"].pk])
    assert ids(world.a.client("affiliate2").get("/api/v1/commissions")) == [book["c3"].pk]
    assert ids(world.b.client("owner").get("/api/v1/commissions/")) == [book["b1"].pk]


def test_amounts_are_quantized_strings_and_affiliates_never_see_revenue(world, book):
    row = world.a.client("owner").get(f"/api/v1/commissions/{book['c1'].pk}").json()
    assert (row["amount"], row["revenue"], row["currency"], row["order_id"]) == ("10.00", "12.00", "EUR", "a-1")
    mine = world.a.client("affiliate").get(f"/api/v1/commissions/{book['c1'].pk}").json()
    assert mine["amount"] == "10.00" and "revenue" not in mine and "revenue" not in mine["rule_snapshot"]
    theirs = world.a.client("advertiser").get(f"/api/v1/commissions/{book['c1'].pk}").json()
    assert theirs["revenue"] == "12.00" and "amount" not in theirs  # the network's margin stays private


def test_jpy_amounts_have_no_decimals(world):
    _, link = program_with_link(world.a, currency="JPY", rules=[
        {"event": "sale", "kind": "percent", "payout": D("33.333")}])
    _, [commission] = convert(world.a, link, "j-1", "1000", currency="JPY")
    body = world.a.client("affiliate").get(f"/api/v1/commissions/{commission.pk}").json()
    assert (body["amount"], body["currency"]) == ("333", "JPY")


def test_filters_by_status_program_affiliate_and_dates(world, book):
    client = world.a.client("owner")
    services.commission_approve(network=world.a.network, commission=book["c2"])
    assert ids(client.get("/api/v1/commissions?status=approved")) == [book["c2"].pk]
    assert ids(client.get(f"/api/v1/commissions?affiliate={world.a.affiliate2.pk}")) == [book["c3"].pk]
    assert len(ids(client.get(f"/api/v1/commissions?program={book['program'].pk}"))) == 3
    Commission.objects.filter(pk=book["c1"].pk).update(created_at="2026-01-10T12:00:00Z")
    assert ids(client.get("/api/v1/commissions?date_from=2026-01-10&date_to=2026-01-10")) == [book["c1"].pk]
    assert book["c1"].pk not in ids(client.get("/api/v1/commissions?date_from=2026-01-11"))
    assert client.get("/api/v1/commissions?date_from=yesterday").status_code == 400
    assert client.get("/api/v1/commissions?status=bogus").status_code == 400


def test_advertiser_approves_and_rejects(world, book):
    client = world.a.client("advertiser")
    response = client.post(f"/api/v1/commissions/{book['c1'].pk}/approve")
    assert response.status_code == 200 and response.json()["status"] == "approved"
    response = client.post(f"/api/v1/commissions/{book['c2'].pk}/reject", {"reason": "cancelled"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "rejected" and response.json()["reason"] == "cancelled"


def test_illegal_transitions_answer_400_naming_the_state(world, book):
    client = world.a.client("advertiser")
    services.commission_reject(network=world.a.network, commission=book["c1"])
    response = client.post(f"/api/v1/commissions/{book['c1'].pk}/approve")
    assert response.status_code == 400
    assert response.json()["status"] == "rejected" and "rejected" in response.json()["detail"]
    services.commission_approve(network=world.a.network, commission=book["c2"])
    services.commissions_mark_paid(network=world.a.network, commission_ids=[book["c2"].pk])
    response = client.post(f"/api/v1/commissions/{book['c2'].pk}/reject")
    assert response.status_code == 400 and "paid" in response.json()["detail"]
    response = client.post(f"/api/v1/commissions/{book['c2'].pk}/approve")
    assert response.status_code == 400 and response.json()["status"] == "paid"
    assert Commission.objects.get(pk=book["c2"].pk).status == "paid"
    assert client.post(f"/api/v1/commissions/{book['c3'].pk}/reject", {"reason": "x" * 300},
                       format="json").status_code == 400


def test_held_commissions_are_for_operators(world, book):
    pk = book["c1"].pk
    assert world.a.client("advertiser").post(f"/api/v1/commissions/{pk}/hold").status_code == 403
    assert world.a.client("staff").post(f"/api/v1/commissions/{pk}/hold", {"reason": "check"},
                                        format="json").json()["status"] == "on_hold"
    response = world.a.client("advertiser").post(f"/api/v1/commissions/{pk}/approve")
    assert response.status_code == 403 and Commission.objects.get(pk=pk).status == "on_hold"
    assert world.a.client("owner").post(f"/api/v1/commissions/{pk}/release").json()["status"] == "pending"
    assert world.a.client("owner").post(f"/api/v1/commissions/{pk}/release").status_code == 400


def test_affiliates_cannot_decide_and_anonymous_is_401(world, book, anon):
    pk = book["c1"].pk
    for path in ("approve", "reject", "hold", "release"):
        assert world.a.client("affiliate").post(f"/api/v1/commissions/{pk}/{path}").status_code == 403
    assert world.a.client("affiliate").post("/api/v1/commissions/bulk-approve", {"ids": [pk]},
                                            format="json").status_code == 403
    assert world.a.client("affiliate").get("/api/v1/ledger/transactions").status_code == 403
    assert world.a.client("advertiser").get("/api/v1/ledger/transactions").status_code == 403
    assert world.a.client("advertiser").get("/api/v1/balance").status_code == 403
    for path in ("/api/v1/commissions", f"/api/v1/commissions/{pk}", "/api/v1/balance", "/api/v1/ledger/transactions"):
        assert anon.get(path).status_code == 401
    assert anon.post(f"/api/v1/commissions/{pk}/approve").status_code == 401
    assert Commission.objects.get(pk=pk).status == "pending"


def test_another_networks_commission_is_404_everywhere(world, book):
    pk = book["b1"].pk
    client = world.a.client("owner")
    assert client.get(f"/api/v1/commissions/{pk}").status_code == 404
    for path in ("approve", "reject", "hold", "release"):
        assert client.post(f"/api/v1/commissions/{pk}/{path}").status_code == 404
    assert world.a.client("advertiser").post(f"/api/v1/commissions/{pk}/approve").status_code == 404
    assert client.get(f"/api/v1/balance?affiliate={world.b.affiliate.pk}").status_code == 404
    txn = Transaction.objects.filter(network=world.b.network).first()
    assert client.get(f"/api/v1/ledger/transactions/{txn.pk}").status_code == 404
    body = client.post("/api/v1/commissions/bulk-approve", {"ids": [pk]}, format="json").json()
    assert body["results"] == [{"id": pk, "result": "not_found", "detail": "Not found."}]
    assert Commission.objects.get(pk=pk).status == "pending"


def test_an_affiliate_cannot_read_a_colleagues_commission(world, book):
    assert world.a.client("affiliate").get(f"/api/v1/commissions/{book['c3'].pk}").status_code == 404


def test_bulk_approve_reports_each_id(world, book):
    services.commission_reject(network=world.a.network, commission=book["c2"])
    wanted = [book["c1"].pk, book["c2"].pk, book["c3"].pk, book["b1"].pk, book["c1"].pk]
    response = world.a.client("advertiser").post("/api/v1/commissions/bulk-approve", {"ids": wanted}, format="json")
    assert response.status_code == 200
    results = {row["id"]: row for row in response.json()["results"]}
    assert response.json()["approved"] == 2 and len(response.json()["results"]) == 4
    assert results[book["c1"].pk]["result"] == "approved" and results[book["c3"].pk]["status"] == "approved"
    assert results[book["c2"].pk]["result"] == "error" and results[book["c2"].pk]["status"] == "rejected"
    assert results[book["b1"].pk]["result"] == "not_found"
    for bad in ({}, {"ids": []}, {"ids": ["x"]}, {"ids": list(range(1, 502))}):
        assert world.a.client("advertiser").post("/api/v1/commissions/bulk-approve", bad,
                                                 format="json").status_code == 400


def test_balance_shows_pending_approved_and_paid_per_currency(world, book):
    network, affiliate = world.a.network, world.a.affiliate
    services.commission_approve(network=network, commission=book["c1"])
    services.commissions_mark_paid(network=network, commission_ids=[book["c1"].pk])
    ledger.ledger_payout_batched(network=network, affiliate=affiliate, currency="EUR", amount=D("10.00"))
    ledger.ledger_payout_settled(network=network, affiliate=affiliate, currency="EUR", amount=D("10.00"))
    _, link = program_with_link(world.a, name="Yen", currency="JPY")
    convert(world.a, link, "j-1", "1234", currency="JPY")
    body = world.a.client("affiliate").get("/api/v1/balance").json()
    assert body == {"affiliate": affiliate.pk, "balances": [
        {"currency": "EUR", "pending": "5.00", "approved": "0.00", "in_payment": "0.00", "paid": "10.00"},
        {"currency": "JPY", "pending": "123", "approved": "0", "in_payment": "0", "paid": "0"},
    ]}
    owner = world.a.client("owner")
    assert owner.get(f"/api/v1/balance?affiliate={affiliate.pk}").json() == body
    assert owner.get("/api/v1/balance").status_code == 400
    assert owner.get("/api/v1/balance?affiliate=abc").status_code == 400


def test_ledger_transactions_are_listed_for_operators(world, book):
    body = world.a.client("owner").get("/api/v1/ledger/transactions?kind=commission.created").json()
    assert body["count"] == 3
    entries = body["results"][-1]["entries"]
    assert sum(D(e["amount"]) for e in entries) == 0 and {e["side"] for e in entries} == {"debit", "credit"}
    assert {e["account"]["kind"] for e in entries} == {"advertiser_receivable", "affiliate_pending", "network_revenue"}
    assert world.a.client("owner").post("/api/v1/ledger/transactions", {}, format="json").status_code == 405
