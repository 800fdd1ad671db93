"""What a walk through the pages in Polish and Indonesian found in English (or as a raw code) and now reads in the
person's language: the operator overview's figures and menu, a held commission's reason on the fraud review."""

import zoneinfo
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from commissions.compute import conversion_status
from commissions.models import Commission
from core.words import reason_shown
from network.audit_words import audit_sentence
from network.models import AuditLog, PartnerGroup, User
from payouts.models import PayoutBatch
from programs.models import Program
from reports.selectors import rate_percent
from tests.commissions.helpers import convert, program_with_link
from tests.factories import make_link, make_partnership, make_program
from tests.pages import web_client
from tests.payouts.helpers import earn
from tracking.models import Conversion

OVERVIEW = {
    "pl": ["Aktywni partnerzy", "Oczekujący partnerzy", "Operatorzy", "Koszt reklamodawców", "Marża sieci",
           "Kliknięcia", "Konwersje", "Partie w toku", "Wypłaty czekające na Twoje oznaczenie", ">Webhooki<",
           "Wstrzymane do weryfikacji</span>"],
    "id": ["Afiliasi aktif", "Afiliasi tertunda", "Biaya pengiklan", "Margin jaringan", "Klik", "Konversi",
           "Batch yang berjalan", "Pembayaran menunggu tanda Anda", ">Webhook<"],
}
ENGLISH = ["Active affiliates", "Pending affiliates", ">Operators<", "Advertiser cost", "Network margin",
           ">Clicks <", ">Conversions <", "Running batches", "Payouts awaiting your mark", ">Webhooks<"]


def as_reader(member, lang):
    User.objects.filter(pk=member.membership.user_id if hasattr(member, "membership") else member.user_id).update(
        language=lang)
    return web_client(member)


@pytest.mark.parametrize("lang", ["pl", "id"])
def test_the_operator_overview_names_its_figures_and_menu_in_the_persons_language(world, lang):
    page = as_reader(world.a.owner, lang).get("/operator/").content.decode()
    for text in OVERVIEW[lang]:
        assert text in page, text
    for text in ENGLISH:
        assert text not in page, text


def test_the_overview_charts_label_reads_in_polish(world):
    chart = as_reader(world.a.owner, "pl").get("/operator/charts/kpis.json?metric=payout").json()
    assert chart["label"] == "Wypłata (EUR)"
    assert as_reader(world.a.owner, "en").get("/operator/charts/kpis.json?metric=profit").json()["label"] == (
        "Network margin (EUR)")


def test_a_held_commissions_reason_is_stored_in_english_and_shown_with_its_signals_titles(world):
    conversion = Conversion(status=Conversion.Status.HELD, fraud_signals=["duplicate_click", "bot_click"])
    status, reason = conversion_status(conversion)
    assert (status, reason) == (Commission.Status.ON_HOLD, "Held for review: duplicate_click, bot_click")
    rejected = Conversion(status=Conversion.Status.REJECTED, fraud_signals=["velocity"])
    assert conversion_status(rejected)[1] == "Rejected by the fraud policy: velocity"
    with translation.override("pl"):
        assert reason_shown(reason) == "Wstrzymana do weryfikacji: Zduplikowane kliknięcie, Kliknięcie bota"
        assert reason_shown("Held for review: cap of 2 conversions per day") == (
            "Held for review: cap of 2 conversions per day")  # not a list of signals: shown as stored
        assert reason_shown("Order cancelled") == "Order cancelled"
    with translation.override("id"):
        assert reason_shown("Rejected by the fraud policy: velocity") == (
            "Ditolak oleh kebijakan penipuan: Kecepatan IP")
    with translation.override("en"):
        assert reason_shown(reason) == "Held for review: Duplicate click, Bot click"


def test_the_fraud_review_shows_a_held_reason_in_polish_without_the_signals_code(world):
    held = earn(world.a, "12.00", approve=False)
    Commission.objects.filter(pk=held.pk, network=world.a.network).update(
        status=Commission.Status.ON_HOLD, reason="Held for review: duplicate_click")
    page = as_reader(world.a.owner, "pl").get("/operator/fraud/").content.decode()
    assert "Wstrzymana do weryfikacji: Zduplikowane kliknięcie" in page
    assert "duplicate_click" not in page and "Held for review" not in page


def test_a_programs_terms_read_as_one_polish_sentence_in_the_marketplace(world):
    make_program(world.a.advertiser, name="Cloud Plan", rules=[
        {"event": "sale", "kind": "percent", "payout": Decimal("30"), "recurring_months": 12}])
    make_program(world.a.advertiser, name="Forever Plan", rules=[
        {"event": "sale", "kind": "percent", "payout": Decimal("20"), "recurring_months": None}])
    page = as_reader(world.a.affiliate, "pl").get("/partner/marketplace/").content.decode()
    assert "30 % za sprzedaż, cyklicznie przez 12 miesięcy" in page
    assert "20 % za sprzedaż, cyklicznie" in page
    assert "recurring" not in page and " per sprzeda" not in page
    english = as_reader(world.a.affiliate, "en").get("/partner/marketplace/").content.decode()
    assert "30 % per sale, recurring for 12 months" in english and "20 % per sale, recurring" in english


def test_the_postback_macros_are_explained_in_indonesian(world):
    page = as_reader(world.a.affiliate, "id").get("/partner/postback/").content.decode()
    assert "id pesanan pengiklan" in page and "komisi Anda" in page and "sub ID 1 dari tautan atau klik" in page
    assert "the advertiser&#x27;s order id" not in page and "your commission" not in page


def test_a_batchs_skipped_balance_says_why_in_polish_not_its_code(world):
    batch = PayoutBatch.objects.create(network=world.a.network, status=PayoutBatch.Status.COMPLETED, skipped=[
        {"affiliate": world.a.affiliate.pk, "currency": "EUR", "amount": "12.00", "reason": "no_method"},
        {"affiliate": world.a.affiliate.pk, "currency": "USD", "amount": "3.00", "reason": "below_threshold"}])
    page = as_reader(world.a.owner, "pl").get(f"/operator/payouts/batches/{batch.pk}/").content.decode()
    assert "Brak metody wypłaty" in page and "Poniżej minimalnej wypłaty" in page
    assert "no_method" not in page and "below_threshold" not in page


def test_the_report_charts_label_names_its_grouping_in_the_readers_words(world):
    page = as_reader(world.a.owner, "pl").get("/operator/reports/?group_by=week").content.decode()
    assert "(podział: tydzień)" in page and "per week" not in page and "według week" not in page


def test_a_signal_badges_tooltip_explains_it_instead_of_showing_its_code(world):
    program, link = program_with_link(world.a)
    conversion, _ = convert(world.a, link, "HELD-1", "50")
    Conversion.objects.filter(pk=conversion.pk, network=world.a.network).update(
        status=Conversion.Status.HELD, fraud_signals=["duplicate_click"])
    page = as_reader(world.a.advertiser, "pl").get("/advertiser/conversions/").content.decode()
    assert 'title="Ten sam odwiedzający właśnie kliknął ten link.">Zduplikowane kliknięcie<' in page
    assert 'title="duplicate_click"' not in page


def test_audit_details_name_states_changes_and_times_in_the_readers_words(world):
    with translation.override("pl"):
        assert audit_sentence({"previous": "on_hold", "reason": "Order cancelled"}) == (
            "Poprzednio: wstrzymano, powód: Order cancelled.")
        assert audit_sentence({"trigger": "manual", "period": "demo:first-batch"}) == (
            "Rozpoczęto ręcznie, okres demo:first-batch.")
        changed = audit_sentence({"changed": {"targeting": "{'devices': ['desktop']}", "caps": "{'action': 'hold'}"},
                                  "rules_added": 2})
        assert changed == "Zmieniono: caps, targeting, dodane reguły: 2." and "{" not in changed
    with translation.override("en"), timezone.override(zoneinfo.ZoneInfo("Europe/Riga")):
        assert audit_sentence({"previous": "pending"}) == "Was pending."
        assert audit_sentence({"at": "2026-12-03T21:39:05+00:00", "amount_before": "19.8", "amount": "16.5",
                               "currency": "EUR"}) == (
            "Amount €16.50, amount before €19.80, at Dec 3, 2026, 11:39\u202fPM.")


def test_the_audit_log_names_what_an_entry_is_about_in_polish(world):
    AuditLog.objects.create(network=world.a.network, action="commission.approved",
                            target_type="commissions.commission", target_id="7", data={"previous": "pending"})
    page = as_reader(world.a.owner, "pl").get("/operator/audit/").content.decode()
    assert "Prowizja #7" in page and "Poprzednio: oczekuje." in page
    assert "commissions.commission" not in page


@pytest.mark.parametrize(("member", "label"), [("owner", "Strony sekcji Operator sieci"),
                                               ("advertiser", "Strony sekcji Reklamodawca")])
def test_the_menus_label_names_the_section_in_polish(world, member, label):
    page = as_reader(getattr(world.a, member), "pl").get(
        {"owner": "/operator/", "advertiser": "/advertiser/"}[member]).content.decode()
    assert f'aria-label="{label}"' in page


def test_a_conversion_rate_is_written_with_the_locales_decimal_sign():
    with translation.override("pl"):
        assert rate_percent("0.0252", 2) == "2,52" and rate_percent("0.0250", 1) == "2,5"
    with translation.override("en"):
        assert rate_percent("0.0252", 2) == "2.52"


def test_the_scripts_words_come_from_the_page_in_polish(world):
    program, _ = program_with_link(world.a)
    other = make_program(world.a.advertiser, name="Open Program")
    client = as_reader(world.a.affiliate, "pl")
    overview = client.get("/partner/").content.decode()
    assert 'data-label-clicks="Kliknięcia" data-label-earnings="Zarobki"' in overview
    assert 'data-copied-label="Skopiowano"' in client.get("/partner/links/").content.decode()
    market = client.get("/partner/marketplace/").content.decode()
    assert f'id="apply-{other.pk}" data-closed-message="Ten program nie przyjmuje już zgłoszeń."' in market
    reports = client.get("/partner/reports/").content.decode()
    assert 'data-label-clicks="Kliknięcia" data-label-none="(brak)"' in reports


def test_a_programs_blocked_countries_are_named_in_the_readers_language(world):
    make_program(world.a.advertiser, name="Far Shop", targeting={"countries_blocked": ["CN", "VN"]})
    page = as_reader(world.a.affiliate, "pl").get("/partner/marketplace/").content.decode()
    assert "Chiny (CN), Wietnam (VN)" in page and "China (CN)" not in page
    page = as_reader(world.a.affiliate, "id").get("/partner/marketplace/").content.decode()
    assert "Tiongkok (CN)" in page
    page = as_reader(world.a.affiliate, "en").get("/partner/marketplace/").content.decode()
    assert "China (CN), Vietnam (VN)" in page


def test_a_batch_that_paid_nobody_says_why_truly(world):
    skipped = PayoutBatch.objects.create(network=world.a.network, status=PayoutBatch.Status.COMPLETED, skipped=[
        {"affiliate": world.a.affiliate.pk, "currency": "EUR", "amount": "225.58", "reason": "no_method"}])
    empty = PayoutBatch.objects.create(network=world.a.network, status=PayoutBatch.Status.COMPLETED)
    client = as_reader(world.a.owner, "pl")
    page = client.get(f"/operator/payouts/batches/{skipped.pk}/").content.decode()
    assert "Ta partia nikomu nie zapłaciła: pominęła każde zatwierdzone saldo; powód poniżej." in page
    assert "nie osiągnęło minimum" not in page
    page = client.get(f"/operator/payouts/batches/{empty.pk}/").content.decode()
    assert "Ta partia nikomu nie zapłaciła: żaden partner nie miał zatwierdzonego salda." in page


def test_the_advertisers_partner_list_has_one_group_form(world):
    program, _ = program_with_link(world.a)
    PartnerGroup.objects.create(network=world.a.network, name="gold")
    page = as_reader(world.a.advertiser, "id").get("/advertiser/partners/").content.decode()
    assert page.count('<form id="group-assign"') == 1
    assert page.count("Masukkan afiliasi yang dicentang ke grup ini") == 1


def test_a_caps_counts_group_their_digits_the_indonesian_way(world):
    program, _ = program_with_link(world.a)
    Program.objects.filter(pk=program.pk, network=world.a.network).update(
        caps={"conversions_day": 300, "conversions_month": 5000, "action": "hold"})
    page = as_reader(world.a.affiliate, "id").get("/partner/").content.decode()
    assert "Tersisa 5.000 dari 5.000 konversi bulan ini" in page and "5000" not in page


def test_a_batchs_progress_counts_use_the_locales_separators(world):
    batch = PayoutBatch.objects.create(network=world.a.network, status=PayoutBatch.Status.COMPLETED, total=1200,
                                       done=1200)
    client = as_reader(world.a.owner, "id")
    assert "<strong>1.200</strong>" in client.get(f"/operator/payouts/batches/{batch.pk}/").content.decode()
    assert "<td>1.200/1.200</td>" in client.get("/operator/payouts/batches/").content.decode()


def test_a_held_commissions_explanation_names_its_signals_in_polish(world):
    program, link = program_with_link(world.a)
    conversion, [commission] = convert(world.a, link, "HELD-2", "80")
    Conversion.objects.filter(pk=conversion.pk, network=world.a.network).update(
        status=Conversion.Status.HELD, fraud_signals=["bot_click", "too_fast"])
    Commission.objects.filter(pk=commission.pk, network=world.a.network).update(status=Commission.Status.ON_HOLD)
    page = as_reader(world.a.advertiser, "pl").get(f"/advertiser/commissions/{commission.pk}/").content.decode()
    assert "sygnały oszustwa: Kliknięcie bota, Zbyt szybko" in page
    assert "bot_click" not in page and "too_fast" not in page


def test_a_self_referrals_day_is_written_the_locales_way(world):
    from tracking.fraud_words import sentence

    detail = {"code": "self_referral", "match": "member_address", "seen_at": "2026-12-04T10:00:00+00:00"}
    with translation.override("pl"):
        assert "4 gru 2026" in sentence(detail, zone="Europe/Warsaw") and "Gru" not in sentence(detail)


def test_a_scheduled_batchs_period_reads_as_words(world):
    with translation.override("pl"):
        assert audit_sentence({"trigger": "schedule", "period": "monthly:2026-12"}) == (
            "Rozpoczęto według harmonogramu, miesiąc 2026-12.")
    assert audit_sentence({"trigger": "schedule", "period": "weekly:2026-W48"}) == "Started scheduled, week 2026-W48."
    batch = PayoutBatch.objects.create(network=world.a.network, status=PayoutBatch.Status.COMPLETED,
                                       trigger=PayoutBatch.Trigger.SCHEDULE, period_key="monthly:2026-11")
    client = as_reader(world.a.owner, "id")
    assert "(bulan 2026-11)" in client.get(f"/operator/payouts/batches/{batch.pk}/").content.decode()
    page = client.get("/operator/payouts/batches/").content.decode()
    assert "bulan 2026-11" in page and "monthly:2026-11" not in page


def test_a_cap_a_commission_went_past_is_explained_in_polish_and_stored_in_english(world):
    from commissions.explain import commission_explanation

    program = make_program(world.a.advertiser, rules=[{"event": "sale", "kind": "fixed", "payout": Decimal("10")}],
                           caps={"conversions_day": 1, "action": "hold"})
    link = make_link(make_partnership(program, world.a.affiliate))
    convert(world.a, link, "CAP-1", "50.00")
    _, [held] = convert(world.a, link, "CAP-2", "50.00")
    assert held.status == Commission.Status.ON_HOLD and "the program's cap of 1 conversions per day" in held.reason
    with translation.override("pl"):
        reason = commission_explanation(held, party="affiliate")["cap"]["reason"]
    assert "osiągnięto limit programu — konwersje dziennie: 1 (" in reason and "cap of" not in reason


def test_a_batchs_progress_is_one_sentence_in_polish(world):
    batch = PayoutBatch.objects.create(network=world.a.network, status=PayoutBatch.Status.COMPLETED, total=3, done=2)
    page = as_reader(world.a.owner, "pl").get(f"/operator/payouts/batches/{batch.pk}/").content.decode()
    assert "Wysłano <strong>2</strong> z <strong>3</strong> wypłat" in page


def test_a_cap_reason_reads_in_the_persons_language_on_the_commission_lists(world):
    program = make_program(world.a.advertiser, rules=[{"event": "sale", "kind": "fixed", "payout": Decimal("10")}],
                           caps={"conversions_day": 1, "payout_month": "500.00", "action": "hold"})
    link = make_link(make_partnership(program, world.a.affiliate))
    convert(world.a, link, "CAP-1", "50.00")
    _, [held] = convert(world.a, link, "CAP-2", "50.00")
    day = timezone.localtime(held.created_at, zoneinfo.ZoneInfo(world.a.network.timezone)).date().isoformat()
    assert held.reason == f"Held for review: the program's cap of 1 conversions per day ({day}) was reached"
    polish = f"Wstrzymana do weryfikacji: osiągnięto limit programu — konwersje dziennie: 1 ({day})"
    for member, path in ((world.a.affiliate, "/partner/commissions/"),
                         (world.a.advertiser, "/advertiser/commissions/")):
        page = as_reader(member, "pl").get(path).content.decode()
        assert polish in page and "cap of 1 conversions" not in page, path
    with translation.override("id"):
        # Joined to a fraud hold's reason, each part in the reader's words; a budget's limit and currency kept.
        assert reason_shown("Held for review: bot_click; the partnership's cap of a payout budget of 500.00 EUR per "
                            "month (2026-12) was reached") == (
            "Ditahan untuk ditinjau: Klik bot; batas kemitraan sebesar anggaran pembayaran 500.00 EUR per bulan "
            "(2026-12) tercapai")
        assert reason_shown("Rejected: the program's cap of 3 conversions per month (2026-12) was reached") == (
            "Ditolak: batas program sebesar 3 konversi per bulan (2026-12) tercapai")
    assert reason_shown("Held for review: typed by a person; the program's cap") == (
        "Held for review: typed by a person; the program's cap")  # no writer's text: as stored
