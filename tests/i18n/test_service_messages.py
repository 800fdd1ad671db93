"""The messages of the services behind a page speak the person's language: the PayPal/bank result import, the
payout settings' checks, the ledger's own refusals, the Stripe billing form and the amounts a conversion refuses.
The API answers the same refusals in English (its contract)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from commissions import ledger
from commissions.models import Account
from network.models import User
from payouts.batches import payout_batch_run, payout_batch_start
from payouts.models import MethodKind, Payout
from tests.factories import make_conversion, make_program
from tests.pages import web_client
from tests.payouts.helpers import earn, method
from tracking.models_stripe import StripeIntegration

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
