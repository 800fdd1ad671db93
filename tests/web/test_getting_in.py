"""The ways in: the home page lists public networks' join pages, sign-up leads to the chooser, and a signed-in
person starts a network (when ALLOW_NETWORK_SIGNUP allows it) and becomes its owner."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client

from network.models import ApiKey, AuditLog, Membership, Network, Role, User

PASSWORD = "correct-horse-battery-9"


@pytest.fixture(autouse=True)
def _network_signup_on(settings):
    settings.ALLOW_NETWORK_SIGNUP = True  # the embedded default's value (DEBUG); tests that turn it off say so


def signed_in(email="new@person.test") -> Client:
    user = User.objects.create_user(username=email, email=email, password=PASSWORD)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    client = Client()
    client.force_login(user)
    return client


def start(client, **overrides):
    data = {"name": "Baltic Partners", "slug": "baltic", "default_currency": "eur",
            "timezone": "Europe/Riga", "is_public": "on"} | overrides
    return client.post("/start/network/", data)


# --- home page ------------------------------------------------------------------------------------
def test_home_links_each_public_networks_join_page_and_not_the_others(world):
    Network.objects.filter(pk=world.a.network.pk).update(is_public=True)
    response = Client().get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'href="/n/alpha/join"' in body and "Join Alpha Network" in body
    assert "/n/bravo/join" not in body and "Bravo Network" not in body
    assert 'href="/accounts/signup/"' in body


def test_home_without_public_networks_still_shows_the_way_in(db):
    body = Client().get("/").content.decode()
    assert "No network is listed here yet" in body and 'href="/start/network/"' in body


def test_operator_lists_the_network_from_its_settings(world, web):
    data = {"name": "Alpha Network", "default_currency": "EUR", "timezone": "UTC", "click_retention_days": 90,
            "is_public": "on"}
    assert web("a", "owner").post("/operator/settings/", data).status_code == 302
    assert Network.objects.get(pk=world.a.network.pk).is_public
    assert 'href="/n/alpha/join"' in Client().get("/").content.decode()


# --- sign-up ----------------------------------------------------------------------------------------
def test_signup_creates_an_account_whose_confirmation_leads_to_the_chooser(world):
    Network.objects.filter(pk=world.b.network.pk).update(is_public=True)
    client = Client()
    assert b"Sign Up Closed" not in client.get("/accounts/signup/").content
    response = client.post("/accounts/signup/", {"email": "Fresh@Person.test", "password1": PASSWORD,
                                                 "password2": PASSWORD})
    assert response.status_code == 302
    user = User.objects.get(email="fresh@person.test")
    assert not Membership.objects.filter(user=user).exists()
    link = re.search(r"https?://testserver(/\S+)", mail.outbox[-1].body).group(1)
    response = client.post(link)
    assert response.status_code == 302
    response = client.get(response["Location"], follow=True)
    body = response.content.decode()
    assert response.redirect_chain[-1][0] == "/start/"
    assert "Welcome! How do you want to start?" in body
    assert 'href="/n/bravo/join"' in body and "/n/alpha/join" not in body
    assert 'href="/start/network/"' in body


def test_signup_is_open_for_a_public_network_even_without_network_sign_up(world, settings):
    settings.ALLOW_NETWORK_SIGNUP = False
    Network.objects.filter(pk=world.a.network.pk).update(is_public=True)
    body = Client().get("/accounts/signup/").content.decode()
    assert 'name="password1"' in body


def test_chooser_offers_other_public_networks_to_a_member(world, web):
    Network.objects.filter(pk__in=[world.a.network.pk, world.b.network.pk]).update(is_public=True)
    body = web("a", "affiliate").get("/start/").content.decode()
    assert "Join another network or start one" in body
    assert 'href="/n/bravo/join"' in body and "/n/alpha/join" not in body


def test_chooser_asks_a_stranger_to_log_in(db):
    response = Client().get("/start/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# --- starting a network -----------------------------------------------------------------------------
def test_a_signed_in_person_starts_a_network_and_owns_it(db):
    client = signed_in()
    assert client.get("/start/network/").status_code == 200
    response = start(client)
    # POST/redirect/GET: the ready page is a GET of its own.
    assert response.status_code == 302 and response["Location"] == "/start/network/ready/"
    response = client.get("/start/network/ready/")
    assert response.status_code == 200
    network = Network.objects.get(slug="baltic")
    assert (network.name, network.default_currency, network.timezone, network.is_public) == (
        "Baltic Partners", "EUR", "Europe/Riga", True)
    membership = Membership.objects.get(network=network)
    assert (membership.user.email, membership.role) == ("new@person.test", Role.OWNER)
    raw = re.search(r'data-testid="owner-key">(afk_[^<]+)<', response.content.decode()).group(1)
    assert ApiKey.objects.filter(membership=membership, prefix=raw[:12]).exists()
    assert AuditLog.objects.filter(network=network, action="network.created").exists()
    # The new network is the session's: the dashboard is the operator's.
    assert client.get("/dashboard/")["Location"] == "/operator/"
    assert client.get("/operator/").status_code == 200
    assert 'href="/n/baltic/join"' in Client().get("/").content.decode()


def test_a_member_of_another_network_starts_one_and_keeps_the_first(world, web):
    client = web("a", "affiliate")
    assert start(client, slug="second", is_public="").status_code == 302
    user = world.a.affiliate.membership.user
    assert set(Membership.objects.filter(user=user).values_list("network__slug", "role")) == {
        ("alpha", Role.AFFILIATE), ("second", Role.OWNER)}
    assert not Network.objects.get(slug="second").is_public


def test_starting_a_network_with_bad_input_shows_form_errors(world):
    client = signed_in()
    cases = [({"slug": "alpha"}, "This address is taken"), ({"slug": "no spaces!"}, "Enter a valid"),
             ({"default_currency": "XYZ"}, "is not an ISO 4217 currency code"),
             ({"timezone": "Mars/Olympus"}, "Select a valid choice"), ({"name": ""}, "This field is required")]
    for overrides, message in cases:
        response = start(client, **overrides)
        assert response.status_code == 400, overrides
        assert message in response.content.decode(), overrides
    assert Network.objects.count() == 2
    assert not Membership.objects.filter(user__email="new@person.test").exists()


def test_starting_a_network_needs_a_login(db):
    response = Client().get("/start/network/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert start(Client()).status_code == 302 and not Network.objects.exists()


def test_starting_a_network_is_404_when_the_installation_turns_it_off(db, settings):
    settings.ALLOW_NETWORK_SIGNUP = False
    client = signed_in()
    assert client.get("/start/network/").status_code == 404
    assert start(client).status_code == 404
    assert not Network.objects.exists()
    assert 'href="/start/network/"' not in client.get("/start/").content.decode()
    assert 'href="/start/network/"' not in Client().get("/").content.decode()


def test_refreshing_the_ready_page_shows_the_owner_key_once_and_starts_nothing_again(db):
    client = signed_in()
    assert start(client).status_code == 302
    first = client.get("/start/network/ready/").content.decode()
    raw = re.search(r'data-testid="owner-key">(afk_[^<]+)<', first).group(1)
    again = client.get("/start/network/ready/")
    assert again.status_code == 200
    body = again.content.decode()
    assert raw not in body and 'data-testid="owner-key"' not in body
    assert "Baltic Partners is ready" in body and 'data-testid="owner-key-shown"' in body
    assert Network.objects.filter(slug="baltic").count() == 1
    assert ApiKey.objects.filter(membership__network__slug="baltic").count() == 1


def test_the_ready_page_without_a_started_network_goes_to_the_dashboard(world, web):
    response = web("a", "affiliate").get("/start/network/ready/")
    assert response.status_code == 302 and response["Location"] == "/dashboard/"


def test_starting_networks_is_limited_per_client_address(db, settings):
    settings.NETWORK_START_RATE_LIMIT = "2/hour"
    client = signed_in()
    assert start(client, slug="one").status_code == 302
    assert start(client, slug="two").status_code == 302
    response = start(client, slug="three")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "Too many attempts" in response.content.decode()
    assert not Network.objects.filter(slug="three").exists()
    # Another address is counted apart.
    other = signed_in("other@person.test")
    assert other.post("/start/network/", {"name": "Four", "slug": "four", "default_currency": "EUR",
                                          "timezone": "UTC"}, REMOTE_ADDR="203.0.113.9").status_code == 302


def _cache_keys(cache) -> list[str]:
    """Every key in the default cache: the local-memory cache's dictionary, or Redis's keys."""
    store = cache._cache
    if isinstance(store, dict):
        return [str(key) for key in store]
    return [key.decode() for key in store.get_client().keys("*")]


def test_open_sign_up_is_limited_per_client_address_and_stores_no_raw_address(world, settings):
    from django.core.cache import cache

    settings.SIGNUP_RATE_LIMIT = "2/hour"
    Network.objects.filter(pk=world.a.network.pk).update(is_public=True)
    client = Client()
    for n in range(2):
        response = client.post("/accounts/signup/", {"email": f"p{n}@person.test", "password1": PASSWORD,
                                                     "password2": PASSWORD}, REMOTE_ADDR="198.51.100.7")
        assert response.status_code == 302, n
    response = client.post("/accounts/signup/", {"email": "p3@person.test", "password1": PASSWORD,
                                                 "password2": PASSWORD}, REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 429
    assert not User.objects.filter(email="p3@person.test").exists()
    # The join page counts against the same limit.
    response = client.post("/n/alpha/join", {"name": "Late Blog", "email": "late@person.test",
                                             "password1": PASSWORD, "password2": PASSWORD},
                           REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 429
    assert not User.objects.filter(email="late@person.test").exists()
    assert not any("198.51.100.7" in key for key in _cache_keys(cache))
