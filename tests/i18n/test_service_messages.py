"""The messages of the services behind a page speak the person's language: the PayPal/bank result import, the
payout settings' checks, the ledger's own refusals, the Stripe billing form and the amounts a conversion refuses.
Messages a row keeps for later (a Stripe event's error, a payout's failure reason, Stripe's among them) are shown in
the reader's language, and the PayPal file's note speaks its recipient's. The API answers in English (its contract)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from commissions import ledger
from commissions.models import Account
from network.models import User
from payouts import batches
from payouts.batches import payout_batch_run, payout_batch_start
from payouts.emails import payout_email
from payouts.masspay import paypal_csv
from payouts.models import MethodKind, Payout
from tests.factories import make_conversion, make_program
from tests.pages import web_client
from tests.payouts import stripe_fake
from tests.payouts.helpers import earn, method
from tests.tracking.conversions_support import make_shop
from tests.tracking.stripe_support import charge, checkout_session, deliver, event
from tracking.models_stripe import StripeEvent, StripeIntegration

pytestmark = pytest.mark.django_db


def speaks(member, code):
    User.objects.filter(pk=member.membership.user_id if hasattr(member, "membership") else member.user_id).update(
        language=code)
    return web_client(member)


def payout_form(**overrides):
    return {"schedule_kind": "weekly", "weekday": "4", "day": "1", "thresholds": "EUR 50.00", "fee_kind": "none",
            "fee_flat": "", "fee_percent": "0", "fee_paid_by": "affiliate"} | overrides


@pytest.fixture
def batch(world):
    earn(world.a, "30.00")
    method(world.a.affiliate, MethodKind.PAYPAL)
    return payout_batch_run(batch_id=payout_batch_start(network=world.a.network).pk)


def _upload(text: str | bytes):
    raw = text if isinstance(text, bytes) else text.encode()
    return {"file": SimpleUploadedFile("results.csv", raw, content_type="text/csv")}


def test_the_result_import_reads_in_russian_on_the_page_and_english_in_the_api(world, batch):
    client = speaks(world.a.owner, "ru")
    url = f"/operator/payouts/batches/{batch.pk}/results"
    page = client.post(url, _upload("Customer ID,Status\npayout-999999,Completed\n"))
    assert page.status_code == 400
    body = page.content.decode()
    assert "строка 2: В этом пакете нет выплаты через PayPal или банк «payout-999999»." in body
    assert "in this batch" not in body
    body = client.post(url, _upload("Name,Amount\nx,1\n")).content.decode()
    assert "Нужна строка заголовков со столбцом ссылки" in body and "file:" not in body
    assert "Файл не является текстом в кодировке UTF-8." in client.post(url, _upload(b"\xff\xfe")).content.decode()

    payout = Payout.objects.get(network_id=world.a.network.pk, batch=batch)
    response = client.post(url, _upload(f"Customer ID,Status\n{payout.reference},Completed\n"), follow=True)
    assert "Файл результатов применён: 1 строка." in response.content.decode()

    api = world.a.client("owner").post(f"/api/v1/payout-batches/{batch.pk}/results",
                                       _upload("Customer ID,Status\npayout-999999,Completed\n"), format="multipart")
    assert api.status_code == 400
    assert api.json() == {"line 2": ["No PayPal or bank payout “payout-999999” in this batch."]}


def test_the_payout_settings_checks_read_in_latvian_and_the_api_stays_english(world):
    client = speaks(world.a.owner, "lv")
    for overrides, field, message in (
        ({"day": "32"}, "day", "Vesels skaitlis no 1 līdz 31."),
        ({"fee_percent": "abc"}, "fee_percent", "Tā nav decimāla summa."),
        ({"fee_percent": "150"}, "fee_percent", "No 0 līdz 100."),
        ({"thresholds": "EUR 10.005"}, "thresholds", "EUR: Ne sīkāk par EUR mazāko vienību."),
        ({"thresholds": "EUR -1"}, "thresholds", "EUR: Nedrīkst būt negatīvs."),
    ):
        response = client.post("/operator/payouts/settings/", payout_form(**overrides))
        assert response.status_code == 400
        page = response.content.decode()
        assert message in page[page.index(f'id="id_{field}_error"'):], field
    api = world.a.client("owner").patch("/api/v1/payout-settings", {"schedule": {"day": 32}, "fee": {"kind": "x"},
                                                                    "colour": 1}, format="json")
    assert api.status_code == 400
    assert api.json() == {"detail": ["Unknown key: colour."], "schedule.day": ["An integer from 1 to 31."],
                          "fee.kind": ["One of none, flat, percent."]}


def test_the_ledgers_refusals_speak_the_active_language(world):
    account = ledger.account_for(network=world.a.network, currency="EUR", kind=Account.Kind.NETWORK_REVENUE)
    unbalanced = ledger.Posting(kind="probe", lines=[ledger.Line(account, Decimal("1.00"))])
    with translation.override("ru"), pytest.raises(ValidationError) as refused:
        ledger.transactions_post(network=world.a.network, postings=[unbalanced])
    assert refused.value.messages == ["Проводка «probe» не сбалансирована: EUR 1.00."]
    with translation.override("pl"), pytest.raises(ValidationError) as refused:
        ledger.ledger_payout_batched(network=world.a.network, affiliate=world.a.affiliate, currency="EUR",
                                     amount=Decimal("1.005"))
    assert refused.value.messages == ["Kwota wypłaty musi być całkowitą liczbą najmniejszych jednostek EUR."]
    with pytest.raises(ValidationError) as refused:  # outside a page: English
        ledger.transactions_post(network=world.a.network, postings=[unbalanced])
    assert refused.value.messages == ["Unbalanced ledger transaction “probe”: EUR 1.00."]


def test_the_stripe_billing_form_reads_in_russian(world):
    program = make_program(world.a.advertiser, name="Gear")
    client = speaks(world.a.advertiser, "ru")
    response = client.post("/advertiser/integration/stripe", {"program": program.pk, "signing_secret": "not-whsec"})
    assert response.status_code == 400
    assert "Секрет подписи конечной точки из панели Stripe: он начинается с whsec_." in response.content.decode()
    assert not StripeIntegration.objects.filter(network_id=world.a.network.pk).exists()

    assert client.post("/advertiser/integration/stripe", {"program": program.pk, "signing_secret": ""}).status_code \
        == 302
    integration = StripeIntegration.objects.get(network_id=world.a.network.pk)
    page = client.post(f"/advertiser/integration/stripe/{integration.pk}/secret", {"signing_secret": "whsec_x"},
                       follow=True).content.decode()
    assert "Секрет подписи конечной точки из панели Stripe: он начинается с whsec_." in page
    page = client.post(f"/advertiser/integration/stripe/{integration.pk}/disable", follow=True).content.decode()
    assert "Интеграция со Stripe выключена." in page
    integration.refresh_from_db()
    assert integration.is_active is False


def test_a_refused_refund_amount_reads_in_russian_and_the_api_stays_english(world):
    conversion = make_conversion(world.a.advertiser, order_id="ORD-I18N", amount="100.00", currency="EUR")
    client = speaks(world.a.advertiser, "ru")
    response = client.post(f"/advertiser/conversions/{conversion.pk}/", {"amount": "1.001"})
    assert response.status_code == 400
    assert "Больше знаков после запятой, чем допускает EUR (2)." in response.content.decode()
    response = client.post(f"/advertiser/conversions/{conversion.pk}/", {"action": "adjust", "amount": "100.00"})
    assert "Ничего не меняется: укажите другую сумму или другие товары." in response.content.decode()

    api = world.a.client("advertiser").post(f"/api/v1/conversions/{conversion.pk}/refund", {"amount": "1.001"},
                                            format="json")
    assert api.status_code == 400
    assert api.json() == {"amount": ["Has more decimal places than EUR allows (2)."]}


STRIPE_SECRET = "whsec_test_0123456789abcdef"


def test_a_stripe_events_stored_error_reads_in_russian_on_the_page_and_english_in_the_api(world):
    shop = make_shop(world.a)
    api = world.a.client("advertiser")
    created = api.post("/api/v1/integrations/stripe", {"program": shop.program.pk, "signing_secret": STRIPE_SECRET},
                       format="json").json()
    for body in (event("checkout.session.completed", checkout_session(mode="payment", amount_total=3000,
                                                                      currency="usd", payment_intent="pi_usd")),
                 event("charge.refunded", charge(amount=1000, amount_refunded=500))):
        assert deliver(created["webhook_url"], body, STRIPE_SECRET).status_code == 200
    integration = StripeIntegration.objects.get(network_id=world.a.network.pk)
    StripeEvent.objects.create(network_id=world.a.network.pk, integration=integration, event_id="evt_old",
                               type="invoice.paid", result="failed", error="Recorded before: English only.")

    page = speaks(world.a.advertiser, "ru").get("/advertiser/integration/").content.decode()
    assert f"currency: Программа &#x27;{shop.program.name}&#x27; работает в EUR, а в этой конверсии указано USD." \
        in page
    assert "Для этого платежа нет конверсии этой интеграции." in page
    assert "Recorded before: English only." in page
    assert "this conversion says" not in page and "No conversion of this integration" not in page

    rows = api.get(f"/api/v1/integrations/stripe/{integration.pk}/deliveries").json()["results"]
    assert sorted(row["error"] for row in rows) == sorted([
        f"currency: The program '{shop.program.name}' is in EUR; this conversion says USD.",
        "No conversion of this integration for this charge.", "Recorded before: English only."])


def test_a_providers_failure_without_a_reason_reads_in_each_readers_language_and_english_in_the_api(world, batch):
    payout = Payout.objects.get(network_id=world.a.network.pk, batch=batch)
    operator = speaks(world.a.owner, "lv")
    response = operator.post(f"/operator/payouts/batches/{batch.pk}/results",
                             _upload(f"Customer ID,Status\n{payout.reference},Denied\n"))
    assert response.status_code == 302
    payout.refresh_from_db()
    assert (payout.status, payout.failure_reason) == ("failed", "Provider: denied")

    assert "Pakalpojuma sniedzējs: denied" in operator.get(f"/operator/payouts/batches/{batch.pk}/").content.decode()
    page = operator.get("/operator/payouts/").content.decode()
    assert "Pakalpojuma sniedzējs: denied" in page and "Provider: denied" not in page
    page = speaks(world.a.affiliate, "ru").get("/partner/payouts/").content.decode()
    assert "Платёжная система: denied" in page and "Provider: denied" not in page
    subject, body = payout_email(Payout.objects.get(pk=payout.pk), "payout.failed")
    assert "Платёжная система: denied" in body

    api = world.a.client("owner").get(f"/api/v1/payouts/{payout.pk}").json()
    assert api["failure_reason"] == "Provider: denied"


def test_an_earlier_failure_reason_in_english_still_shows_as_it_is(world, batch):
    Payout.objects.filter(network_id=world.a.network.pk, batch=batch).update(status="failed",
                                                                            failure_reason="Recipient unknown")
    page = speaks(world.a.affiliate, "ru").get("/partner/payouts/").content.decode()
    assert "Recipient unknown" in page


def test_the_paypal_files_note_speaks_each_recipients_language(world):
    network = world.a.network
    network.language = "lv"
    network.save(update_fields=["language"])
    for affiliate in (world.a.affiliate, world.a.affiliate2):
        earn(world.a, "30.00", affiliate=affiliate)
        method(affiliate, MethodKind.PAYPAL)
    User.objects.filter(pk=world.a.affiliate.membership.user_id).update(language="ru")
    User.objects.filter(pk=world.a.affiliate2.membership.user_id).update(language="")
    batch = payout_batch_run(batch_id=payout_batch_start(network=network).pk)
    mine, theirs = (Payout.objects.get(network_id=network.pk, batch=batch, affiliate=affiliate)
                    for affiliate in (world.a.affiliate, world.a.affiliate2))

    body = speaks(world.a.owner, "pl").get(f"/operator/payouts/batches/{batch.pk}/paypal.csv").content.decode()
    assert f"payout-{mine.pk},Выплата партнёру payout-{mine.pk},PAYPAL\r\n" in body  # the user's own choice
    assert f"payout-{theirs.pk},Partnera izmaksa payout-{theirs.pk},PAYPAL\r\n" in body  # else the network's
    assert "Wypłata" not in body  # not the operator's language

    network.language = ""
    network.save(update_fields=["language"])
    assert f"payout-{theirs.pk},Affiliate payout payout-{theirs.pk},PAYPAL\r\n" in paypal_csv(batch)


def test_a_payout_held_without_a_stripe_key_says_why_in_latvian_and_english_in_the_api(world, settings):
    settings.STRIPE_SECRET_KEY = ""
    earn(world.a, "30.00")
    method(world.a.affiliate)
    batch = payout_batch_run(batch_id=payout_batch_start(network=world.a.network).pk)
    payout = Payout.objects.get(network_id=world.a.network.pk, batch=batch)
    assert payout.status == "on_hold"
    page = speaks(world.a.owner, "lv").get("/operator/payouts/").content.decode()
    assert "Nav nosūtīts: šajā platformā Stripe nav iestatīts (nav norādīts STRIPE_SECRET_KEY)." in page
    assert "Not sent: Stripe" not in page
    api = world.a.client("owner").get(f"/api/v1/payouts/{payout.pk}").json()
    assert api["failure_reason"].startswith("Not sent: Stripe is not configured on this platform")


# --- Stripe's reasons: ours translated, Stripe's own words and names as they are ----------------------------------
@pytest.fixture
def stripe_api(settings, monkeypatch):
    with stripe_fake.served(settings, monkeypatch) as fake:
        yield fake


def _stripe_payout(world) -> Payout:
    earn(world.a, "30.00")
    method(world.a.affiliate)
    batch = payout_batch_run(batch_id=payout_batch_start(network=world.a.network).pk)
    return Payout.objects.get(network_id=world.a.network.pk, batch=batch)


def _reads(world, payout: Payout, english: str, latvian: str, russian: str) -> None:
    """The operator's pages in Latvian, the affiliate's page and e-mail in Russian, the API in English."""
    payout.refresh_from_db()
    assert (payout.status, payout.failure_reason) == ("failed", english)
    operator = speaks(world.a.owner, "lv")
    for url in ("/operator/payouts/", f"/operator/payouts/batches/{payout.batch_id}/"):
        page = operator.get(url).content.decode()
        assert latvian in page and english not in page, url
    page = speaks(world.a.affiliate, "ru").get("/partner/payouts/").content.decode()
    assert russian in page and english not in page
    subject, body = payout_email(Payout.objects.get(pk=payout.pk), "payout.failed")
    assert russian in body and english not in body
    assert world.a.client("owner").get(f"/api/v1/payouts/{payout.pk}").json()["failure_reason"] == english


def test_a_stripe_event_that_failed_the_payout_is_named_in_each_readers_language(world, stripe_api, anon):
    payout = _stripe_payout(world)
    transfer = stripe_api.transfers[payout.provider_reference]
    body, signature = stripe_fake.signed(stripe_fake.event("transfer.failed", transfer))
    response = anon.post("/api/v1/stripe/webhook", data=body, content_type="application/json",
                         HTTP_STRIPE_SIGNATURE=signature, HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 200 and response.json()["result"] == "failed"
    _reads(world, payout, "Stripe transfer.failed", "Stripe notikums transfer.failed",
           "Stripe: событие transfer.failed")


def test_a_transfer_stripe_refused_keeps_stripes_words_after_a_translated_prefix(world, stripe_api):
    stripe_api.refuse[f"acct_aff{world.a.affiliate.pk}"] = (400, {
        "type": "invalid_request_error", "code": "balance_insufficient",
        "message": "You have insufficient available funds in your Stripe account."})
    with translation.override("pl"):  # whoever runs the batch: the stored English stays English
        payout = _stripe_payout(world)
    stripes = "You have insufficient available funds in your Stripe account."
    _reads(world, payout, f"Stripe: {stripes}", f"Stripe noraidīja pārskaitījumu: {stripes}",
           f"Stripe отклонил перевод: {stripes}")


def test_stripes_idempotency_error_reads_in_each_readers_language(world, stripe_api, monkeypatch):
    def key_used_before(name, **context):
        # Stripe already holds the payout's key from a request with other parameters.
        if name == "gather.done":
            for payout in Payout.objects.filter(batch=context["batch"]):
                stripe_api.key_params[payout.reference] = ("/v1/transfers", {"amount": "999", "currency": "eur",
                                                                             "destination": "acct_x"})
                stripe_api.by_key[payout.reference] = (200, {"id": "tr_someone_else", "object": "transfer"})

    monkeypatch.setattr(batches, "checkpoint", key_used_before)
    payout = _stripe_payout(world)
    key = payout.reference
    _reads(world, payout,
           f"Stripe idempotency_error: the key {key} was used before with other parameters. Nothing was sent; the "
           "amount is back in the balance and the next attempt uses a new key.",
           f"Stripe idempotency_error: atslēga {key} jau izmantota ar citiem parametriem. Nekas netika nosūtīts; "
           "summa ir atgriezta atlikumā, un nākamajā mēģinājumā tiks izmantota jauna atslēga.",
           f"Stripe idempotency_error: ключ {key} уже использовался с другими параметрами. Ничего не отправлено; "
           "сумма возвращена на баланс, а следующая попытка использует новый ключ.")


def test_the_partners_payout_list_names_a_payout_not_a_commission_in_indonesian(world, batch):
    page = speaks(world.a.affiliate, "id").get("/partner/payouts/").content.decode()
    assert "<th>Pembayaran</th><th>Tanggal</th>" in page and "<th>Komisi</th>" not in page
