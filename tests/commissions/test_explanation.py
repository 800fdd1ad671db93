"""Every commission explains itself: the API's `explanation` and the three detail pages (click, attribution, rule,
tier, calculation, reversals, status history with who acted), each party seeing only its own fields; 404 across
networks; list pages and the e-mail link to the page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from commissions import services
from commissions.emails import commission_email
from commissions.explain import commission_explanation
from commissions.models import Commission
from network.auth import SESSION_NETWORK_KEY
from tests.factories import make_affiliate, make_click, make_group, make_link, make_partnership
from tests.pages import web_client

from .helpers import convert, program_with_link

pytestmark = pytest.mark.django_db
D = Decimal
MARGIN_RULE = [{"event": "sale", "kind": "percent", "payout": D("10"), "revenue": D("12")}]


def keys(value) -> set:
    """Every key anywhere in a nested body."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys(v)}
    return set()


@pytest.fixture
def sale(world):
    """Network a (Riga time): a 100 € sale through a click of the affiliate's link (sub1=fb, Germany), rule 10 %
    payout / 12 % revenue; network b: a commission of its own."""
    network = world.a.network
    network.timezone = "Europe/Riga"
    network.save(update_fields=["timezone"])
    program, link = program_with_link(world.a, rules=MARGIN_RULE)
    clicked = timezone.now() - timedelta(hours=3)
    click = make_click(link, created_at=clicked, sub1="fb", country="DE", is_unique=False)
    conversion, [commission] = convert(world.a, link, "o-1", "100.00", click_id=click.click_id, clicked_at=clicked,
                                       sub1="fb", country="DE")
    _, link_b = program_with_link(world.b)
    _, [other] = convert(world.b, link_b, "b-1", "100.00")
    return {"program": program, "link": link, "click": click, "conversion": conversion, "commission": commission,
            "other": other}


def explanation(world, role, commission):
    response = world.a.client(role).get(f"/api/v1/commissions/{commission.pk}")
    assert response.status_code == 200, response.content
    return response.json()["explanation"]


# --- API ------------------------------------------------------------------------------------------------------
def test_affiliate_explanation_has_the_click_rule_and_calculation_but_no_revenue_or_margin(world, sale):
    e = explanation(world, "affiliate", sale["commission"])
    assert e["party"] == "affiliate" and e["timezone"] == "Europe/Riga"
    assert e["click"]["click_id"] == sale["click"].click_id and e["click"]["stored"] is True
    assert e["click"]["sub_ids"] == {"sub1": "fb"} and e["click"]["country"] == "DE"
    assert e["click"]["signals"] == ["duplicate_click"]
    assert e["click"]["link"]["code"] == sale["link"].code
    assert e["click"]["clicked_at"].endswith(("+02:00", "+03:00"))  # the network's zone, not UTC
    assert e["attribution"]["method"] == "click" and e["attribution"]["within_window"] is True
    assert e["attribution"]["window_days"] == sale["program"].attribution_window_days
    assert e["rule"]["source"] == "default" and "default rule" in e["rule"]["reason"]
    assert e["calculation"]["formula"] == "€100.00 × 10% = €10.00"
    assert e["commission"]["amount"] == "10.00"
    assert not keys(e) & {"revenue", "remaining_revenue", "revenue_rate", "revenue_formula", "margin",
                          "reversed_revenue", "customer_id", "user_agent", "ip_truncated"}
    assert e["history"][0]["action"] == "created" and e["history"][0]["status"] == "pending"


def test_advertiser_explanation_shows_revenue_but_not_the_payout_or_margin_under_a_margin(world, sale):
    e = explanation(world, "advertiser", sale["commission"])
    assert e["commission"]["revenue"] == "12.00" and e["calculation"]["revenue_formula"] == "€100.00 × 12% = €12.00"
    assert e["rule"]["revenue"] == "12" and e["commission"]["affiliate"]["name"] == world.a.affiliate.name
    assert not keys(e) & {"margin", "formula", "user_agent"}
    assert "amount" not in e["commission"] and "amount" not in e["calculation"]
    assert "payout" not in e["rule"] and "rate" not in e["calculation"]


def test_advertiser_under_a_margin_sees_no_payout_rate_in_the_rule_or_tiers(world):
    _, link = program_with_link(world.a, rules=[{"event": "sale", "kind": "percent", "payout": D("5"),
                                                 "revenue": D("9"),
                                                 "tiers": [{"min_conversions": 0, "payout": "8"}]}])
    _, [commission] = convert(world.a, link, "m-1", "100.00")
    body = world.a.client("advertiser").get(f"/api/v1/commissions/{commission.pk}").json()
    e = body["explanation"]
    assert e["rule"]["tiers"] == [{"min_conversions": 0}] and "rate" not in e["tier"] and e["tier"]["reached"] == 1
    assert not {"payout", "rate", "tiers"} & set(body["rule_snapshot"])
    assert "8%" not in str(e) and "5%" not in str(e) and "€8.00" not in str(e)
    page = web_client(world.a.advertiser).get(f"/advertiser/commissions/{commission.pk}/").content.decode()
    assert "payout 5%" not in page and "8%" not in page and "€9.00" in page
    mine = explanation(world, "affiliate", commission)
    assert mine["rule"]["tiers"] == [{"min_conversions": 0, "payout": "8"}] and mine["tier"]["rate"] == "8"


def test_advertiser_sees_the_payout_when_the_network_keeps_no_margin(world):
    _, link = program_with_link(world.a)
    _, [commission] = convert(world.a, link, "o-9", "50.00")
    e = explanation(world, "advertiser", commission)
    assert e["commission"]["amount"] == e["commission"]["revenue"] == "5.00"
    assert e["calculation"]["formula"] == "€50.00 × 10% = €5.00"


def test_operator_explanation_shows_payout_revenue_and_margin(world, sale):
    e = explanation(world, "owner", sale["commission"])
    assert (e["commission"]["amount"], e["commission"]["revenue"], e["commission"]["margin"]) == (
        "10.00", "12.00", "2.00")
    assert e["calculation"]["margin"] == "2.00" and e["party"] == "operator"


def test_list_responses_carry_no_explanation(world, sale):
    rows = world.a.client("affiliate").get("/api/v1/commissions").json()["results"]
    assert rows and all("explanation" not in row for row in rows)


def test_another_networks_commission_answers_404_on_the_api(world, sale):
    for role in ("owner", "advertiser", "affiliate"):
        assert world.a.client(role).get(f"/api/v1/commissions/{sale['other'].pk}").status_code == 404
    assert world.a.client("affiliate2").get(f"/api/v1/commissions/{sale['commission'].pk}").status_code == 404


def test_affiliate_override_rule_says_why_it_won(world):
    program, link = program_with_link(world.a)
    program.rules.create(network_id=program.network_id, event="sale", kind="percent", payout=D("20"),
                         affiliate=world.a.affiliate)
    _, [commission] = convert(world.a, link, "o-2", "100.00")
    e = explanation(world, "affiliate", commission)
    assert e["rule"]["source"] == "affiliate_override" and "precedence" in e["rule"]["reason"]
    assert e["calculation"]["formula"] == "€100.00 × 20% = €20.00"


def test_group_rule_names_the_group(world):
    vip = make_group(world.a.network, "vip", world.a.affiliate)
    program, link = program_with_link(world.a)
    program.rules.create(network_id=program.network_id, event="sale", kind="percent", payout=D("15"), group=vip)
    _, [commission] = convert(world.a, link, "o-3", "100.00")
    e = explanation(world, "advertiser", commission)
    assert e["rule"]["source"] == "group" and e["rule"]["group"] == "vip" and "vip" in e["rule"]["reason"]


def test_tier_reached_and_its_basis(world):
    _, link = program_with_link(world.a, rules=[{"event": "sale", "kind": "percent", "payout": D("5"),
                                                 "tiers": [{"min_conversions": 1, "payout": "8"},
                                                           {"min_conversions": 5, "payout": "12"}]}])
    _, [first] = convert(world.a, link, "t-1", "100.00")
    services.commission_approve(network=world.a.network, commission=first)
    _, [second] = convert(world.a, link, "t-2", "100.00")
    assert explanation(world, "affiliate", first)["tier"]["reached"] == 0
    tier = explanation(world, "affiliate", second)["tier"]
    assert (tier["reached"], tier["conversions_in_period"], tier["basis"], tier["rate"]) == (1, 1, "conversions", "8")
    assert "tier 1" in tier["reason"]


def test_an_amount_basis_tier_is_explained_by_the_sales_in_the_period(world):
    rule = {"event": "sale", "kind": "percent", "payout": D("5"), "tier_basis": "amount",
            "tiers": [{"min_amount": "150", "payout": "8"}]}
    _, link = program_with_link(world.a, rules=[rule])
    convert(world.a, link, "t-1", "100.00")
    _, [second] = convert(world.a, link, "t-2", "100.00")
    _, [third] = convert(world.a, link, "t-3", "100.00")
    assert second.amount == D("5.00") and third.amount == D("8.00")
    below, reached = explanation(world, "affiliate", second)["tier"], explanation(world, "affiliate", third)["tier"]
    assert (below["reached"], below["basis"], below["amount_in_period"]) == (0, "amount", "100.00")
    assert "(150)" in below["reason"]
    assert (reached["reached"], reached["min_conversions"], reached["rate"]) == (1, "150", "8")
    rule_part = explanation(world, "affiliate", third)["rule"]
    assert rule_part["tier_basis"] == "amount" and rule_part["tiers"][0]["min_amount"] == "150"
    page = web_client(world.a.affiliate).get(f"/partner/commissions/{third.pk}/").content.decode()
    assert "From sales in the period" in page and "€150.00" in page


def test_tier_basis_and_amount_in_period_from_the_snapshot_are_shown(world, sale):
    commission = sale["commission"]
    snapshot = {**commission.rule_snapshot, "tiers": [{"min_conversions": 0, "payout": "10"}],
                "tier_basis": "amount", "amount_in_period": "1500"}
    Commission.objects.filter(pk=commission.pk).update(rule_snapshot=snapshot)
    tier = explanation(world, "affiliate", commission)["tier"]
    assert tier["basis"] == "amount" and tier["amount_in_period"] == "1500.00"


def test_status_history_says_who_acted_and_why(world, sale):
    commission = sale["commission"]
    client = world.a.client("advertiser")
    assert client.post(f"/api/v1/commissions/{commission.pk}/reject", {"reason": "Order cancelled"},
                       format="json").status_code == 200
    history = explanation(world, "affiliate", commission)["history"]
    assert [(h["action"], h["status"]) for h in history] == [("created", "pending"), ("rejected", "rejected")]
    assert history[1]["actor"] == "the advertiser" and history[1]["reason"] == "Order cancelled"
    operator_view = explanation(world, "owner", commission)["history"]
    assert world.a.advertiser.email in operator_view[1]["actor"]  # names only for operators


def test_automatic_approval_and_payment_appear_in_the_history(world, sale):
    commission = sale["commission"]
    services.commission_approve(network=world.a.network, commission=commission)
    services.commissions_mark_paid(network=world.a.network, commission_ids=[commission.pk], actor=world.a.owner.user)
    history = explanation(world, "affiliate", commission)["history"]
    assert [(h["action"], h["actor"]) for h in history] == [
        ("created", "automatic"), ("approved", "automatic"), ("paid", "the network")]


def test_reversals_carry_amount_refund_and_reason(world, sale):
    services.commissions_reverse_for_refund(conversion=sale["conversion"], amount=D("100.00"))
    e = explanation(world, "affiliate", sale["commission"])
    assert e["reversals"]["full"] is True and e["reversals"]["reversed_amount"] == "10.00"
    assert e["reversals"]["refunded_base"] == "100.00" and "100.00" in e["reversals"]["reason"]
    assert e["reversals"]["reversed_at"] is not None and "reversed_revenue" not in e["reversals"]
    assert e["history"][-1]["action"] == "reversed" and e["history"][-1]["status"] == "reversed"
    assert explanation(world, "advertiser", sale["commission"])["reversals"]["reversed_revenue"] == "12.00"
    assert e["adjustments"] == []


def test_partial_refund_is_a_partial_reversal(world, sale):
    services.commissions_reverse_for_refund(conversion=sale["conversion"], amount=D("25.00"))
    e = explanation(world, "owner", sale["commission"])
    assert e["reversals"]["full"] is False and e["reversals"]["reversed_amount"] == "2.50"
    assert e["commission"]["margin"] == "1.50"  # what remains: 9.00 revenue - 7.50 payout
    assert e["history"][-1]["action"] == "partially_reversed"


def test_referrer_of_a_second_tier_commission_sees_no_detail_of_the_referred_sale(world):
    referrer = world.a.affiliate2
    referred, _issued = make_affiliate(world.a.network, "Referred", "referred@alpha.test", referred_by=referrer)
    program, _ = program_with_link(world.a, second_tier_percent=D("10"))
    link = make_link(make_partnership(program, referred), sub1="secret")
    _, commissions = convert(world.a, link, "o-4", "100.00", sub1="secret", click_id="", country="FR")
    second = next(c for c in commissions if c.tier == 2)
    e = explanation(world, "affiliate2", second)
    assert e["click"] is None and e["attribution"] is None and e["commission"]["order_id"] == ""
    assert e["rule"]["source"] == "second_tier" and e["calculation"]["formula"] == "€10.00 × 10% = €1.00"
    assert "secret" not in str(e)


def test_a_renewal_explains_the_customer_attribution(world):
    _, link = program_with_link(world.a, rules=[{"event": "sale", "kind": "percent", "payout": D("10"),
                                                 "recurring_months": None}])
    convert(world.a, link, "r-1", "30.00", customer_id="cus_1")
    _, [renewal] = convert(world.a, link, "r-2", "30.00", customer_id="cus_1", attribution="customer")
    e = explanation(world, "affiliate", renewal)
    assert e["attribution"]["method"] == "customer" and e["attribution"]["first_conversion_at"] is not None
    assert "renewal" in e["attribution"]["reason"] and "customer_id" not in e["attribution"]
    assert e["rule"]["recurring"] == "renewals pay for as long as the customer pays"
    assert explanation(world, "advertiser", renewal)["attribution"]["customer_id"] == "cus_1"


def test_unknown_party_is_refused(sale):
    with pytest.raises(ValueError):
        commission_explanation(sale["commission"], party="visitor")


# --- pages ----------------------------------------------------------------------------------------------------
PAGES = {"affiliate": "/partner/commissions/{}/", "advertiser": "/advertiser/commissions/{}/",
         "owner": "/operator/commissions/{}/"}


def test_each_party_page_shows_its_parts(world, sale):
    pk = sale["commission"].pk
    pages = {role: web_client(getattr(world.a, role)).get(url.format(pk)) for role, url in PAGES.items()}
    for response in pages.values():
        assert response.status_code == 200
        html = response.content.decode()
        for part in ("explain-click", "explain-attribution", "explain-rule", "explain-calculation",
                     "explain-adjustments", "explain-history", "Europe/Riga"):
            assert part in html
        assert "<script>" not in html
    partner = pages["affiliate"].content.decode()
    assert "€100.00 × 10% = €10.00" in partner and "€12.00" not in partner and "Revenue" not in partner
    assert "sub1=fb" in partner and ">Duplicate click<" in partner and ">duplicate_click<" not in partner
    advertiser = pages["advertiser"].content.decode()
    assert "€100.00 × 12% = €12.00" in advertiser and "€10.00" not in advertiser and "margin" not in advertiser
    operator = pages["owner"].content.decode()
    assert "€2.00" in operator and "Network margin" in operator


def test_pages_answer_404_for_another_networks_or_another_affiliates_commission(world, sale):
    for role, url in PAGES.items():
        client = web_client(getattr(world.a, role))
        assert client.get(url.format(sale["other"].pk)).status_code == 404
        assert client.get(url.format("9" * 18)).status_code == 404
    assert web_client(world.a.affiliate2).get(PAGES["affiliate"].format(sale["commission"].pk)).status_code == 404


def test_pages_refuse_other_roles(world, sale):
    pk = sale["commission"].pk
    assert web_client(world.a.affiliate).get(PAGES["advertiser"].format(pk)).status_code == 403
    assert web_client(world.a.advertiser).get(PAGES["owner"].format(pk)).status_code == 403
    response = Client().get(PAGES["affiliate"].format(pk))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_commission_lists_link_to_the_detail_page(world, sale):
    pk = sale["commission"].pk
    advertiser = web_client(world.a.advertiser).get("/advertiser/commissions/").content.decode()
    assert f'href="/advertiser/commissions/{pk}/"' in advertiser
    conversion = web_client(world.a.advertiser).get(f"/advertiser/conversions/{sale['conversion'].pk}/")
    assert conversion.status_code == 200 and f'href="/advertiser/commissions/{pk}/"' in conversion.content.decode()
    partner = web_client(world.a.affiliate).get("/partner/commissions/").content.decode()
    assert f'href="/partner/commissions/{pk}/"' in partner
    services.commission_hold(network=world.a.network, commission=sale["commission"], reason="check")
    operator = web_client(world.a.owner).get("/operator/fraud/").content.decode()
    assert f'href="/operator/commissions/{pk}/"' in operator


def test_the_email_links_to_the_partner_page(world, sale, settings, django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://app.example.net"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.commission_approve(network=world.a.network, commission=sale["commission"])
    [message] = [m for m in mail.outbox if m.to == [world.a.affiliate.email]]
    assert f"https://app.example.net/partner/commissions/{sale['commission'].pk}/" in message.body
    _subject, body = commission_email(sale["commission"], "commission.created")
    assert f"/partner/commissions/{sale['commission'].pk}/" in body


def test_cpc_commission_explains_clicks_times_rate(world):
    from commissions.tasks import cpc_accrue_task
    from tracking.models import ClickRollup

    _, link = program_with_link(world.a, rules=[
        {"event": "click", "kind": "fixed", "payout": D("0.05"), "revenue": D("0.08")}])
    hour = (timezone.now() - timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    ClickRollup.objects.create(network_id=link.network_id, hour=hour, program_id=link.program_id,
                               affiliate_id=link.affiliate_id, clicks=40, unique_clicks=40)
    assert cpc_accrue_task() == 1
    commission = Commission.objects.get(network=world.a.network, kind="click")
    e = explanation(world, "affiliate", commission)
    assert e["click"] is None and e["attribution"] is None
    assert e["calculation"]["kind"] == "per_click" and e["calculation"]["formula"] == "40 × €0.05 = €2.00"
    assert explanation(world, "advertiser", commission)["calculation"]["revenue_formula"] == "40 × €0.08 = €3.20"


def test_a_held_commission_says_why_it_was_born_on_hold(world):
    _, link = program_with_link(world.a)
    _, [commission] = convert(world.a, link, "h-1", "100.00", status="held", fraud_signals=["too_fast"])
    assert commission.status == "on_hold"
    e = explanation(world, "advertiser", commission)
    assert e["history"][0]["status"] == "on_hold" and e["history"][0]["reason"] == "fraud signals: Too fast"
    assert e["attribution"]["fraud_signals"] == ["too_fast"]


def test_a_link_attribution_without_click_id_names_the_link(world):
    _, link = program_with_link(world.a)
    _, [commission] = convert(world.a, link, "l-1", "100.00")
    e = explanation(world, "affiliate", commission)
    assert e["click"]["link"]["code"] == link.code and e["click"]["stored"] is False
    assert link.code in e["attribution"]["reason"]


def test_the_email_link_opens_its_network_for_a_member_of_two(world, sale):
    """The affiliate also partners in network b and last used b: the e-mail's link still opens network a's page."""
    make_affiliate(world.b.network, "Same Blog", world.a.affiliate.email)
    _subject, body = commission_email(sale["commission"], "commission.created")
    path = body[body.index("/partner/commissions/"):].split()[0]
    assert path.endswith(f"?network={world.a.network.slug}")
    client = Client()
    client.force_login(world.a.affiliate.membership.user)
    session = client.session
    session[SESSION_NETWORK_KEY] = world.b.network.pk
    session.save()
    plain = path.split("?")[0]
    assert client.get(plain).status_code == 404  # the session's network b has no such commission
    assert client.get(path).status_code == 200
    assert client.get(plain).status_code == 200  # the link switched the session to network a


def test_the_true_ups_stored_reasons_are_shown_in_the_readers_language_and_other_reasons_as_written():
    from django.utils import translation

    from core.words import reason_shown

    with translation.override("pl"):
        assert reason_shown("Tier true-up 2026-10: rate 8 -> 10") == "Wyrównanie poziomu za 2026-10: stawka 8 -> 10"
        assert reason_shown("Tier true-up 2026-W41 again, order A 7 corrected: rate 10 -> 8") == (
            "Ponowne wyrównanie poziomu za 2026-W41, skorygowane zamówienie A 7: stawka 10 -> 8")
        assert reason_shown("Duplicate order, see ticket 12") == "Duplicate order, see ticket 12"
    with translation.override("en"):  # the API's language: the text as stored
        assert reason_shown("Tier true-up 2026-10: rate 8 -> 10") == "Tier true-up 2026-10: rate 8 -> 10"
