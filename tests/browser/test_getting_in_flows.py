"""A stranger finds the way in, in a browser: the home page's sign-up, the e-mail confirmation, the chooser, and
starting a network of one's own (the owner lands on its operator dashboard); or joining a listed network."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from network.models import Affiliate, Membership, Network, Role

from .conftest import PASSWORD, link_in

pytestmark = pytest.mark.browser


def sign_up(page, email: str) -> None:
    page.goto("/")
    page.click("main a[href='/accounts/signup/']")
    page.wait_for_url(re.compile(r"/accounts/signup/"))
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/confirm-email/"))
    [message] = [m for m in mail.outbox if m.to == [email]]
    page.goto(link_in(message.body))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/start/$"))


def test_a_stranger_signs_up_and_starts_a_network_of_their_own(db, new_page, settings):
    settings.ALLOW_NETWORK_SIGNUP = True
    page = new_page()
    sign_up(page, "founder@baltic.test")
    expect(page.locator("h1")).to_have_text("Welcome! How do you want to start?")
    page.click("main a[href='/start/network/']")
    page.fill("input[name=name]", "Baltic Partners")
    page.fill("input[name=slug]", "baltic")
    page.fill("input[name=default_currency]", "EUR")
    page.select_option("select[name=timezone]", "Europe/Riga")
    page.click("main button[type=submit]")
    expect(page.get_by_test_id("owner-key")).to_contain_text("afk_")
    page.get_by_role("button", name="Go to your network").click()
    page.wait_for_url(re.compile(r"/operator/$"))
    network = Network.objects.get(slug="baltic")
    assert Membership.objects.get(network=network).role == Role.OWNER
    assert (network.timezone, network.is_public) == ("Europe/Riga", True)


def test_a_stranger_signs_up_and_joins_a_listed_network_as_an_affiliate(world, new_page):
    Network.objects.filter(pk=world.a.network.pk).update(is_public=True)
    page = new_page()
    sign_up(page, "writer@blog.test")
    page.get_by_role("link", name="Join Alpha Network").click()
    page.wait_for_url(re.compile(r"/n/alpha/join$"))
    page.fill("input[name=name]", "Writer's Blog")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/partner/$"))
    assert Affiliate.objects.get(network=world.a.network, email="writer@blog.test").name == "Writer's Blog"
