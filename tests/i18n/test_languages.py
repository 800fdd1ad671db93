"""Five languages: the person's choice (saved on the user, the top bar's switcher) > the network's language > the
browser's Accept-Language; the join page speaks the network's; e-mails speak the recipient's; money and numbers
follow the language's locale; the API stays English."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.template import Context, Template
from django.test import Client
from django.utils import translation

from network.models import Network, PartyStatus, User
from tests.pages import web_client

# The partner dashboard's heading and the nav's "Overview", in each language.
DASHBOARD = {
    "en": ("Welcome, Alpha Blog", ">Overview<"),
    "lv": ("Laipni lūdzam, Alpha Blog", ">Pārskats<"),
    "ru": ("Добро пожаловать, Alpha Blog", ">Обзор<"),
    "id": ("Selamat datang, Alpha Blog", ">Ringkasan<"),
    "pl": ("Witaj, Alpha Blog", ">Przegląd<"),
}


def set_language(user, code):
    User.objects.filter(pk=user.pk).update(language=code)


def network_language(network, code):
    Network.objects.filter(pk=network.pk).update(language=code)


@pytest.mark.parametrize("lang", ["lv", "ru", "id", "pl"])
def test_the_partner_dashboard_in_each_language(world, lang):
    set_language(world.a.affiliate.membership.user, lang)
    response = web_client(world.a.affiliate).get("/partner/")
    page = response.content.decode()
    assert response.status_code == 200
    for text in DASHBOARD[lang]:
        assert text in page
    assert f'<html lang="{lang}"' in page and response["Content-Language"] == lang
    assert DASHBOARD["en"][0] not in page


def test_english_stays_the_default(world):
    page = web_client(world.a.affiliate).get("/partner/").content.decode()
    assert '<html lang="en"' in page
    for text in DASHBOARD["en"]:
        assert text in page


def test_the_operator_pages_in_latvian(world):
    set_language(world.a.owner.user, "lv")
    page = web_client(world.a.owner).get("/operator/affiliates/").content.decode()
    assert "Partneru grupas" in page and "Partner groups" not in page
    assert "Alpha Blog" in page  # what people typed stays as written


def test_the_switcher_saves_the_choice_on_the_user(world):
    client = web_client(world.a.affiliate, enforce_csrf_checks=True)
    page = client.get("/partner/").content.decode()
    assert 'action="/language/"' in page and 'name="language"' in page
    token = client.cookies["csrftoken"].value
    assert client.post("/language/", {"language": "pl", "next": "/partner/"}).status_code == 403  # CSRF
    response = client.post("/language/", {"language": "pl", "next": "/partner/", "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == "/partner/"
    user = User.objects.get(pk=world.a.affiliate.membership.user_id)
    assert user.language == "pl"
    assert DASHBOARD["pl"][0] in client.get("/partner/").content.decode()
    # Saved on the account: another browser of the same person speaks Polish too.
    assert DASHBOARD["pl"][0] in web_client(world.a.affiliate).get("/partner/").content.decode()
    # Empty: back to the network's language (then the browser's).
    network_language(world.a.network, "ru")
    client.post("/language/", {"language": "", "next": "/partner/", "csrfmiddlewaretoken": token})
    assert User.objects.get(pk=user.pk).language == ""
    assert DASHBOARD["ru"][0] in client.get("/partner/").content.decode()


@pytest.mark.parametrize("bad", ["xx", "de", "en-gb-x", "<script>"])
def test_the_switcher_refuses_an_unknown_language(world, bad):
    client = web_client(world.a.affiliate)
    response = client.post("/language/", {"language": bad, "next": "/partner/"})
    assert response.status_code == 400
    assert User.objects.get(pk=world.a.affiliate.membership.user_id).language == ""


def test_the_switcher_never_redirects_to_another_site(world):
    response = web_client(world.a.affiliate).post("/language/", {"language": "lv", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_a_stranger_chooses_with_a_cookie(db):
    client = Client()
    response = client.post("/language/", {"language": "ru", "next": "/accounts/login/"})
    assert response.status_code == 302 and client.cookies["django_language"].value == "ru"
    page = client.get("/accounts/login/").content.decode()
    assert "Забыли пароль?" in page and '<html lang="ru"' in page


def test_the_choice_beats_the_network_which_beats_the_browser(world):
    user = world.a.affiliate.membership.user
    client = web_client(world.a.affiliate)
    # No choice, no network language: the browser's.
    assert DASHBOARD["id"][0] in client.get("/partner/", HTTP_ACCEPT_LANGUAGE="id,en;q=0.5").content.decode()
    # The network's language beats the browser's.
    network_language(world.a.network, "lv")
    assert DASHBOARD["lv"][0] in client.get("/partner/", HTTP_ACCEPT_LANGUAGE="id").content.decode()
    # The person's choice beats both.
    set_language(user, "pl")
    assert DASHBOARD["pl"][0] in client.get("/partner/", HTTP_ACCEPT_LANGUAGE="id").content.decode()


def test_the_network_language_is_an_operator_setting(world):
    client = web_client(world.a.owner)
    page = client.get("/operator/settings/").content.decode()
    assert 'name="language"' in page and "Each person&#x27;s browser language" in page
    data = {"name": "Alpha Network", "default_currency": "EUR", "timezone": "UTC", "language": "ru",
            "click_retention_days": "90"}
    assert client.post("/operator/settings/", data).status_code == 302
    assert Network.objects.get(pk=world.a.network.pk).language == "ru"
    assert client.post("/operator/settings/", data | {"language": "xx"}).status_code == 400
    # Network b's members are not touched by network a's setting.
    assert DASHBOARD["en"][0].replace("Alpha", "Bravo") in web_client(world.b.affiliate).get(
        "/partner/").content.decode()


def test_the_join_page_speaks_the_network_language(world):
    network_language(world.a.network, "ru")
    page = Client().get("/n/alpha/join", HTTP_ACCEPT_LANGUAGE="pl").content.decode()
    assert "Вступите в Alpha Network как партнёр" in page and '<html lang="ru"' in page
    # Another network without a language: the visitor's browser.
    page = Client().get("/n/bravo/join", HTTP_ACCEPT_LANGUAGE="pl").content.decode()
    assert "Dołącz do Bravo Network jako partner" in page
    # A visitor who chose a language keeps it.
    client = Client()
    client.cookies["django_language"] = "id"
    assert "Bergabung dengan Alpha Network sebagai afiliasi" in client.get("/n/alpha/join").content.decode()
    assert Client().get("/n/nowhere/join").status_code == 404


def test_a_form_error_in_the_page_language(world):
    network_language(world.a.network, "pl")
    response = Client().post("/n/alpha/join", {"name": "X", "email": "x@x.test", "password1": "Secret-pass-1",
                                               "password2": "Other-pass-2"})
    assert response.status_code == 400 and "Hasła się różnią." in response.content.decode()


def test_an_email_in_the_recipient_language(world):
    affiliate = world.a.affiliate2
    affiliate.status = PartyStatus.PENDING
    affiliate.save()
    set_language(affiliate.membership.user, "lv")
    # The operator works in English; the affiliate reads Latvian.
    response = web_client(world.a.staff).post(f"/operator/affiliates/{affiliate.pk}/status", {"status": "active"})
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["deals@alpha.test"]
    assert "Jūsu pieteikums tīklam Alpha Network ir apstiprināts" in message.subject
    assert "Sveiki, Alpha Deals!" in message.body and "Piesakieties šeit:" in message.body
    assert "Hello" not in message.body


def test_an_email_falls_back_to_the_network_language(world):
    network_language(world.a.network, "ru")
    affiliate = world.a.affiliate2
    affiliate.status = PartyStatus.PENDING
    affiliate.save()
    web_client(world.a.owner).post(f"/operator/affiliates/{affiliate.pk}/status", {"status": "suspended"},
                                   HTTP_ACCEPT_LANGUAGE="en")
    [message] = mail.outbox
    assert "Ваша заявка в Alpha Network отклонена" in message.subject
    assert "Alpha Network пока отклонила вашу заявку." in message.body


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", "€1,458.00"),
    ("lv", "1\xa0458,00\xa0€"),
    ("ru", "1\xa0458,00\xa0€"),
    ("pl", "1\xa0458,00\xa0€"),
    ("id", "€1.458,00"),
])
def test_money_is_formatted_per_locale(lang, expected):
    template = Template("{% load web %}{{ amount|money:'EUR' }}")
    with translation.override(lang):
        assert template.render(Context({"amount": Decimal("1458")})) == expected


def test_numbers_and_month_names_follow_the_language():
    template = Template('{% load web %}{{ n|count }} · {{ when|date:"j M Y" }}')
    context = Context({"n": 3843, "when": datetime.date(2026, 12, 3)})
    with translation.override("en"):
        assert template.render(context) == "3,843 · 3 Dec 2026"
    with translation.override("pl"):
        assert template.render(context) == "3\xa0843 · 3 Gru 2026"
    with translation.override("id"):
        assert template.render(context) == "3.843 · 3 Des 2026"


def test_money_on_a_page_in_polish(world):
    from tests.commissions.helpers import convert, program_with_link

    program, link = program_with_link(world.a, name="Outdoor Gear",
                                      rules=[{"event": "sale", "kind": "percent", "payout": Decimal("10")}])
    convert(world.a, link, order_id="o-1", amount="14580.00")
    set_language(world.a.affiliate.membership.user, "pl")
    page = web_client(world.a.affiliate).get("/partner/commissions/").content.decode()
    assert "1\xa0458,00\xa0€" in page and "€1,458.00" not in page


def test_the_api_stays_english(world):
    set_language(world.a.affiliate.membership.user, "ru")
    network_language(world.a.network, "ru")
    response = Client().get("/api/v1/me", HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 401
    assert response.json()["detail"] == "Authentication credentials were not provided."
    response = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {world.a.affiliate_key}",
                            HTTP_ACCEPT_LANGUAGE="pl")
    assert response.status_code == 200 and response["Content-Language"] == "en"


@pytest.mark.parametrize("currency", ["EUR", "JPY", "KWD", "USD"])
def test_money_formatted_from_the_kept_locales_is_babels_own(currency):
    """format_amount keeps each locale's pattern and its recent answers: the same text as Babel's format_currency,
    language after language, whatever was formatted before."""
    from babel.numbers import format_currency

    from core.money import format_amount, quantize

    for _ in range(2):
        for lang in ("en", "lv", "ru", "pl", "id"):
            for amount in (Decimal("0"), Decimal("-12.3456"), Decimal("1458"), Decimal("1234567.891")):
                with translation.override(lang):
                    locale = "en_US" if lang == "en" else lang
                    assert format_amount(amount, currency) == format_currency(
                        quantize(amount, currency), currency, locale=locale)


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", "Dec 3, 2026, 4:13\u202fPM · Dec 3, 2026"),
    ("lv", "2026. g. 3. dec. 16:13 · 2026. g. 3. dec."),
    ("ru", "3 дек. 2026\u202fг., 16:13 · 3 дек. 2026\u202fг."),
    ("id", "3 Des 2026 16.13 · 3 Des 2026"),
    ("pl", "3 gru 2026, 16:13 · 3 gru 2026"),
])
def test_times_follow_the_locale_in_the_current_time_zone(lang, expected):
    from django.utils import timezone

    template = Template('{% load web %}{{ at|when }} · {{ at|when:"date" }}')
    at = datetime.datetime(2026, 12, 3, 14, 13, 5, tzinfo=datetime.UTC)
    with translation.override(lang), timezone.override("Europe/Riga"):
        assert template.render(Context({"at": at})) == expected


# 2 November 2026 05:39 UTC is 07:39 in Riga: the day and the time, each language's way.
LOCAL_TIMES = {"lv": ("2026. g. 2. nov. 07:39", "2026. g. 2. nov."),
               "ru": ("2 нояб. 2026\u202fг., 07:39", "2 нояб. 2026\u202fг.")}


@pytest.mark.parametrize("lang", ["lv", "ru"])
def test_the_tables_of_conversions_commissions_and_payouts_show_local_times_the_locales_way(world, lang):
    from commissions.models import Commission
    from payouts.models import Payout, PayoutBatch
    from tests.pages import make_shop, sale

    at = datetime.datetime(2026, 11, 2, 5, 39, tzinfo=datetime.UTC)
    Network.objects.filter(pk=world.a.network.pk).update(timezone="Europe/Riga")
    conversion, commission = sale(world, make_shop(world), "ORDER-LV-1", created_at=at)
    Commission.objects.filter(pk=commission.pk).update(created_at=at)
    batch = PayoutBatch.objects.create(network=world.a.network)
    payout = Payout.objects.create(network=world.a.network, batch=batch, affiliate=world.a.affiliate, currency="EUR",
                                   amount=Decimal("35.00"), net=Decimal("35.00"), method_kind="paypal", status="paid")
    Payout.objects.filter(pk=payout.pk).update(created_at=at)
    moment, day = LOCAL_TIMES[lang]
    for member, url, expected in [
        (world.a.advertiser, "/advertiser/conversions/", moment), (world.a.advertiser, "/advertiser/commissions/", day),
        (world.a.affiliate, "/partner/commissions/", moment), (world.a.affiliate, "/partner/payouts/", day),
        (world.a.owner, "/operator/payouts/", moment),
    ]:
        set_language(member.membership.user if hasattr(member, "membership") else member.user, lang)
        response = web_client(member).get(url)
        page = response.content.decode()
        assert response.status_code == 200 and expected in page, url
        assert "05:39" not in page and "Europe/Riga" in page, url


# --- what services, forms and 404s say (issue 18's gaps) ---------------------------------------------------------
def test_the_link_builders_form_labels_are_translated(world):
    from tests.factories import make_partnership, make_program

    make_partnership(make_program(world.a.advertiser), world.a.affiliate)
    for lang, label in [("lv", "Programma"), ("ru", "Программа")]:
        set_language(world.a.affiliate.membership.user, lang)
        page = web_client(world.a.affiliate).get("/partner/links/").content.decode()
        assert f'for="id_program">{label}:' in page, lang
        assert 'for="id_program">Program:' not in page


def test_the_advertisers_creative_and_coupon_forms_have_translated_labels(world):
    from tests.factories import make_program

    program = make_program(world.a.advertiser)
    set_language(world.a.advertiser.membership.user, "pl")
    page = web_client(world.a.advertiser).get(f"/advertiser/programs/{program.pk}/").content.decode()
    for english in (">Kind:<", ">Name:<", ">Code:<", ">Description:<"):
        assert english not in page, english
    assert ">Rodzaj:<" in page and ">Kod:<" in page


def test_a_service_refusal_reads_in_the_persons_language_and_the_api_stays_english(world):
    from tests.factories import make_partnership, make_program

    program = make_program(world.a.advertiser)
    make_partnership(program, world.a.affiliate, status="rejected")
    set_language(world.a.affiliate.membership.user, "ru")
    page = web_client(world.a.affiliate).post(f"/partner/marketplace/{program.pk}/apply", follow=True)
    assert "Ваша заявка в эту программу отклонена; подать её снова нельзя." in page.content.decode()
    set_language(world.a.affiliate.membership.user, "lv")
    page = web_client(world.a.affiliate).post(f"/partner/marketplace/{program.pk}/apply", follow=True)
    assert "Jūsu pieteikums šai programmai tika noraidīts; atkārtoti pieteikties nevar." in page.content.decode()
    # The same refusal through the API, with the same person's key: English, the contract.
    response = world.a.client("affiliate").post(f"/api/v1/programs/{program.pk}/apply")
    assert response.status_code == 400
    assert "Your application to this program was rejected" in str(response.json())


def test_a_url_check_on_the_postback_form_reads_in_polish(world):
    set_language(world.a.affiliate.membership.user, "pl")
    response = web_client(world.a.affiliate).post("/partner/postback/", {"postback_url": "ftp://example.com/{click_id}"})
    assert "Dozwolone są tylko adresy http i https." in response.content.decode()


def test_a_404_with_a_reason_reads_in_the_persons_language(world, settings):
    settings.DEMO_SHOP_URL = ""
    response = Client(HTTP_ACCEPT_LANGUAGE="ru").get("/demo/shop/")
    assert response.status_code == 404
    body = response.content.decode()
    assert 'data-testid="not-found-reason">В этой установке нет демо-магазина.<' in body
    set_language(world.a.affiliate.membership.user, "lv")
    response = web_client(world.a.affiliate).post("/switch/", {"network": world.b.network.pk})
    assert response.status_code == 404 and "Jūs neesat šajā tīklā." in response.content.decode()
    # An unknown URL keeps the general sentence, translated.
    page = web_client(world.a.affiliate).get("/no/such/page/").content.decode()
    assert 'data-testid="not-found-reason">Šī lapa neeksistē vai jums to nav tiesību redzēt.<' in page
