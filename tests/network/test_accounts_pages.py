"""Log in by e-mail, verification, password reset, join page, invitations, dashboard routing, switcher."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse

from network.auth import SESSION_NETWORK_KEY
from network.models import Affiliate, AuditLog, Membership, PartyStatus, Role, User
from tests.pages import web_client

PASSWORD = "correct-horse-battery-9"


def link_in(message) -> str:
    match = re.search(r"https?://testserver(/\S+)", message.body)
    assert match, message.body
    return match.group(1)


def with_password(user, verified=True):
    user.set_password(PASSWORD)
    user.save()
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=verified)
    return user


def test_login_page_is_styled_and_asks_for_email(db):
    response = Client().get("/accounts/login/")
    assert response.status_code == 200
    assert b'type="email"' in response.content and b"Forgot your password?" in response.content
    assert b"vendor/pico.min.css" in response.content


def test_owner_logs_in_by_email_and_lands_on_operator_dashboard(world):
    with_password(world.a.owner.user)
    client = Client()
    response = client.post("/accounts/login/", {"login": "owner@alpha.test", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    response = client.get("/dashboard/")
    assert response.status_code == 302 and response["Location"] == "/operator/"


def test_wrong_password_shows_an_error_and_does_not_log_in(world):
    with_password(world.a.owner.user)
    client = Client()
    response = client.post("/accounts/login/", {"login": "owner@alpha.test", "password": "nope-nope-nope"})
    assert response.status_code == 200
    assert b"not correct" in response.content
    assert client.get("/operator/").status_code == 302


def test_unverified_address_cannot_log_in_and_gets_a_confirmation_email(world):
    with_password(world.a.affiliate.membership.user, verified=False)
    client = Client()
    response = client.post("/accounts/login/", {"login": "blog@alpha.test", "password": PASSWORD})
    assert response.status_code == 302 and "confirm-email" in response["Location"]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["blog@alpha.test"]
    assert client.get("/partner/").status_code == 302  # still anonymous


def test_signup_is_closed_with_directions_when_nothing_is_open(db, settings):
    # No public network and no network sign-up: nothing for a new account to do, so the page says where to go.
    settings.ALLOW_NETWORK_SIGNUP = False
    response = Client().get("/accounts/signup/")
    assert b"Sign up through your network" in response.content and b"Sign Up Closed" not in response.content
    assert not User.objects.exists()


def test_password_reset_mails_a_link_that_sets_a_new_password_and_proves_the_address(world):
    # An owner from bootstrap_network: no password, address not yet verified.
    client = Client()
    response = client.post("/accounts/password/reset/", {"email": "owner@alpha.test"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    response = client.get(link_in(mail.outbox[0]), follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link_in(mail.outbox[0])
    response = client.post(form_url, {"password1": "brand-new-secret-77", "password2": "brand-new-secret-77"})
    assert response.status_code == 302
    world.a.owner.user.refresh_from_db()
    assert world.a.owner.user.check_password("brand-new-secret-77")
    fresh = Client()
    fresh.post("/accounts/login/", {"login": "owner@alpha.test", "password": "brand-new-secret-77"})
    assert fresh.get("/operator/").status_code == 200


def test_logout_is_a_post(world, web):
    client = web("a", "owner")
    assert client.get("/operator/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/operator/").status_code == 302


@pytest.mark.parametrize(("role", "target"), [
    ("owner", "/operator/"), ("staff", "/operator/"), ("advertiser", "/advertiser/"), ("affiliate", "/partner/"),
])
def test_dashboard_redirects_to_the_roles_dashboard(world, web, role, target):
    response = web("a", role).get("/dashboard/")
    assert response.status_code == 302 and response["Location"] == target


def test_dashboard_of_a_user_without_membership_says_so(db):
    user = User.objects.create_user(username="lone@x.test", email="lone@x.test", password=PASSWORD)
    client = Client()
    client.force_login(user)
    response = client.get("/dashboard/")
    assert response.status_code == 302 and response["Location"] == "/start/"
    assert b"not in any network" in client.get("/start/").content
    assert client.get("/operator/").status_code == 403


def test_suspended_party_loses_its_pages(world, web):
    client = web("a", "affiliate")
    world.a.affiliate.status = PartyStatus.SUSPENDED
    Membership.objects.filter(pk=world.a.affiliate.membership_id).update(is_active=False)
    assert client.get("/partner/").status_code == 403


# --- join page --------------------------------------------------------------------------------
def join(client, slug="alpha", **overrides):
    data = {"name": "New Blog", "email": "new@blog.test", "password1": PASSWORD, "password2": PASSWORD} | overrides
    return client.post(f"/n/{slug}/join", data)


def test_join_page_of_unknown_network_is_404(db):
    assert Client().get("/n/nowhere/join").status_code == 404


def test_join_page_shows_the_network(world):
    response = Client().get("/n/alpha/join")
    assert response.status_code == 200 and b"Join Alpha Network as an affiliate" in response.content


def test_sign_up_creates_a_pending_affiliate_who_must_verify_then_lands_on_partner_pages(world):
    client = Client()
    response = join(client)
    assert response.status_code == 302 and "confirm-email" in response["Location"]
    affiliate = Affiliate.objects.get(email="new@blog.test")
    assert affiliate.network_id == world.a.network.pk and affiliate.status == PartyStatus.PENDING
    assert affiliate.membership.role == Role.AFFILIATE and affiliate.membership.user.check_password(PASSWORD)
    assert AuditLog.objects.filter(action="affiliate.signed_up", target_id=str(affiliate.pk)).exists()
    assert client.get("/partner/").status_code == 302  # not logged in before verification
    [confirmation] = [m for m in mail.outbox if m.to == ["new@blog.test"]]
    [notice] = [m for m in mail.outbox if m.to != ["new@blog.test"]]
    assert sorted(notice.to) == ["owner@alpha.test", "staff@alpha.test"] and "New Blog" in notice.subject
    assert "http://testserver/operator/affiliates/?status=pending" in notice.body
    assert "testserver" in confirmation.body and "example.com" not in confirmation.body
    confirm_url = link_in(confirmation)
    assert client.get(confirm_url).status_code == 200
    response = client.post(confirm_url)
    assert response.status_code == 302
    assert EmailAddress.objects.get(email="new@blog.test").verified
    response = client.get("/partner/")
    assert response.status_code == 200
    assert b"waiting for approval" in response.content


def test_sign_up_is_active_at_once_when_the_network_does_not_approve(world):
    world.a.network.affiliate_approval_required = False
    world.a.network.save()
    join(Client())
    assert Affiliate.objects.get(email="new@blog.test").status == PartyStatus.ACTIVE
    assert [m.to for m in mail.outbox] == [["new@blog.test"]]  # the confirmation only: nobody to approve


@pytest.mark.parametrize(("overrides", "field_error"), [
    ({"password2": "something-else-123"}, b"The two passwords differ."),
    ({"email": "not-an-email"}, b"Enter a valid email address."),
    ({"password1": "123", "password2": "123"}, b"This password is too short."),
    ({"name": ""}, b"This field is required."),
])
def test_bad_sign_up_is_rejected_next_to_the_field_and_creates_nothing(world, overrides, field_error):
    users = User.objects.count()
    response = join(Client(), **overrides)
    assert response.status_code == 400
    assert field_error in response.content
    assert User.objects.count() == users and len(mail.outbox) == 0


@pytest.mark.parametrize("email", ["blog@bravo.test", "BLOG@alpha.test"], ids=["other_network", "this_network"])
def test_join_page_answers_a_known_email_as_a_new_one_and_mails_its_owner(world, email):
    new = join(Client(), email="someone-new@blog.test")
    users, memberships = User.objects.count(), Membership.objects.count()
    mail.outbox.clear()
    known = join(Client(), email=email)
    assert (known.status_code, known["Location"]) == (new.status_code, new["Location"]) == (
        302, reverse("account_email_verification_sent"))
    assert b"exists" not in known.content
    assert (User.objects.count(), Membership.objects.count()) == (users, memberships)
    [notice] = mail.outbox
    assert notice.to == [email.lower()] and "Alpha Network" in notice.body
    assert "http://testserver/accounts/login/" in notice.body and "http://testserver/n/alpha/join" in notice.body


def test_logged_in_user_joins_another_network_with_the_same_account(world, web):
    client = web("a", "affiliate")
    response = client.post("/n/bravo/join", {"name": "Alpha Blog in Bravo"})
    assert response.status_code == 302
    user = world.a.affiliate.membership.user
    assert Membership.objects.filter(user=user).count() == 2
    assert client.session[SESSION_NETWORK_KEY] == world.b.network.pk
    assert Affiliate.objects.for_network(world.b.network).get(email="blog@alpha.test").status == PartyStatus.PENDING


# --- invitations ------------------------------------------------------------------------------
def test_invited_advertiser_sets_a_password_through_the_mailed_link(world, web):
    response = web("a", "owner").post("/operator/advertisers/", {"name": "Gear Shop", "email": "gear@shop.test"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["gear@shop.test"]
    assert "Alpha Network" in mail.outbox[0].subject
    url = link_in(mail.outbox[0])
    invited = Client()
    response = invited.get(url)
    assert response.status_code == 200 and b"gear@shop.test" in response.content
    response = invited.post(url, {"new_password1": PASSWORD, "new_password2": "different-pass-1"})
    assert response.status_code == 400 and b"didn" in response.content
    response = invited.post(url, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert invited.get("/dashboard/")["Location"] == "/advertiser/"
    assert EmailAddress.objects.get(email="gear@shop.test").verified
    # The link works once.
    assert Client().get(url).status_code == 400
    # And the new password logs in.
    fresh = Client()
    fresh.post("/accounts/login/", {"login": "gear@shop.test", "password": PASSWORD})
    assert fresh.get("/advertiser/").status_code == 200


def test_invitation_with_a_forged_token_is_refused(world):
    assert Client().get("/invite/MQ/abc-def/").status_code == 400
    assert Client().get("/invite/%20%20/abc/").status_code == 400


def test_owner_invites_staff_and_staff_cannot(world, web):
    response = web("a", "owner").post("/operator/staff/", {"name": "Sam", "email": "sam@alpha.test"})
    assert response.status_code == 302
    assert Membership.objects.for_network(world.a.network).get(user__email="sam@alpha.test").role == Role.STAFF
    assert len(mail.outbox) == 1 and "/invite/" in mail.outbox[0].body
    response = web("a", "staff").post("/operator/staff/", {"name": "Eve", "email": "eve@alpha.test"})
    assert response.status_code == 403
    assert not User.objects.filter(email="eve@alpha.test").exists()


def test_inviting_someone_already_in_the_network_is_a_field_error(world, web):
    response = web("a", "owner").post("/operator/advertisers/", {"name": "Dup", "email": "blog@alpha.test"})
    assert response.status_code == 400 and b"already in this network" in response.content
    assert len(mail.outbox) == 0


def test_existing_user_invited_to_another_network_is_told_to_log_in(world, web):
    with_password(world.a.owner.user)
    web("b", "owner").post("/operator/advertisers/", {"name": "Alpha Owner Shop", "email": "owner@alpha.test"})
    assert "/accounts/login/" in mail.outbox[0].body and "/invite/" not in mail.outbox[0].body


# --- network switcher -------------------------------------------------------------------------
def test_switcher_changes_the_network_and_every_page_says_where_you_are(world, web):
    user = world.a.owner.user
    Membership.objects.create(network=world.b.network, user=user, role=Role.STAFF)
    client = web_client(world.a.owner)
    page = client.get("/operator/").content.decode()
    assert "Alpha Network" in page and "Owner" in page and "Bravo Network · Staff" in page
    response = client.post("/switch/", {"network": world.b.network.pk})
    assert response.status_code == 302
    page = client.get("/operator/").content.decode()
    assert '<strong>Bravo Network</strong>' in page and "role-staff" in page


def test_switching_to_a_network_you_are_not_in_is_404(world, web):
    client = web("a", "owner")
    assert client.post("/switch/", {"network": world.b.network.pk}).status_code == 404
    assert client.post("/switch/", {"network": "x"}).status_code == 400
    assert client.session[SESSION_NETWORK_KEY] == world.a.network.pk


def test_demo_users_log_in_on_the_web_with_the_demo_password(db):
    from network import demo

    demo.seed({})
    for email, dashboard in (("owner@demo.test", "/operator/"), ("ana@trailreviews.test", "/partner/"),
                             ("merchant@northwind.test", "/advertiser/")):
        client = Client()
        client.post("/accounts/login/", {"login": email, "password": demo.DEMO_PASSWORD})
        assert client.get("/dashboard/")["Location"] == dashboard


def test_password_change_page_is_in_the_layout(world):
    with_password(world.a.owner.user)
    client = web_client(world.a.owner)
    page = client.get("/accounts/password/change/").content.decode()
    assert "Alpha Network" in page and 'name="oldpassword"' in page
    new = "another-secret-88"
    response = client.post("/accounts/password/change/", {"oldpassword": PASSWORD, "password1": new, "password2": new})
    assert response.status_code == 302
    world.a.owner.user.refresh_from_db()
    assert world.a.owner.user.check_password("another-secret-88")
