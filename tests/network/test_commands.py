"""bootstrap_network and seed_demo."""

import io

import pytest
from django.core.management import CommandError, call_command

from network.models import Advertiser, Affiliate, ApiKey, Membership, Network, User
from tests.conftest import api_client

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_bootstrap_network_prints_a_working_owner_key_on_the_last_line():
    out = run("bootstrap_network", "--name", "Acme", "--slug", "acme", "--currency", "USD",
              "--owner-email", "boss@acme.test")
    key = out.strip().splitlines()[-1]
    assert key.startswith("afk_") and " " not in key
    me = api_client(key).get("/api/v1/me").json()
    assert me["role"] == "owner"
    assert me["network"] == {"id": Network.objects.get(slug="acme").pk, "name": "Acme", "slug": "acme",
                             "default_currency": "USD", "timezone": "UTC", "is_public": False,
                             "advertiser_tracking_domains": False}


def test_bootstrap_network_with_duplicate_slug_fails_and_creates_nothing():
    run("bootstrap_network", "--name", "Acme", "--slug", "acme", "--currency", "EUR", "--owner-email", "a@acme.test")
    counts = (Network.objects.count(), User.objects.count(), Membership.objects.count(), ApiKey.objects.count())
    with pytest.raises(CommandError, match="slug"):
        run("bootstrap_network", "--name", "Other", "--slug", "acme", "--currency", "EUR",
            "--owner-email", "b@acme.test")
    assert (Network.objects.count(), User.objects.count(), Membership.objects.count(),
            ApiKey.objects.count()) == counts


def test_bootstrap_network_rejects_unknown_currency():
    with pytest.raises(CommandError, match="ISO 4217"):
        run("bootstrap_network", "--name", "X", "--slug", "x", "--currency", "ABC", "--owner-email", "x@x.test")
    assert not Network.objects.exists() and not User.objects.exists()


def test_bootstrap_network_exits_1_from_the_shell(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    env.pop("REDIS_URL", None)
    env.pop("CITUS_URL", None)  # it takes DATABASE_URL's place: the commands would write to the coordinator's database
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=env, check=True)
    args = [sys.executable, "manage.py", "bootstrap_network", "--name", "A", "--slug", "a", "--currency", "EUR",
            "--owner-email", "a@a.test"]
    first = subprocess.run(args, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    second = subprocess.run(args, env=env, capture_output=True, text=True)
    assert second.returncode == 1
    assert "already exists" in second.stderr


def test_seed_demo_is_idempotent():
    run("seed_demo", "--force", "--days", "7")
    counts = (Network.objects.count(), Membership.objects.count(), Advertiser.objects.count(),
              Affiliate.objects.count(), ApiKey.objects.count())
    assert counts[:4] == (1, 7, 2, 4)
    run("seed_demo", "--force", "--days", "7")
    assert (Network.objects.count(), Membership.objects.count(), Advertiser.objects.count(),
            Affiliate.objects.count(), ApiKey.objects.count()) == counts
    referred = Affiliate.objects.exclude(referred_by=None)
    assert referred.count() == 3
    assert api_client("afk_demo_owner").get("/api/v1/me").json()["role"] == "owner"


def test_seed_demo_has_a_referred_sign_up_whose_referrer_earns_second_tier_commissions():
    from commissions.models import Commission
    from network.models import AuditLog
    from tests.pages import web_client

    run("seed_demo", "--force", "--days", "1")
    run("seed_demo", "--force", "--days", "1")  # twice: nothing doubles
    signed_up = Affiliate.objects.get(email="maja@summitstories.test")
    referrer = signed_up.referred_by
    assert (referrer.name, signed_up.status) == ("Trail Reviews", "active")
    assert AuditLog.objects.filter(action="affiliate.signed_up", target_id=str(signed_up.pk)).count() == 1
    overrides = Commission.objects.filter(affiliate=referrer, tier=2, parent__affiliate=signed_up)
    # The approved one is in the demo's paid batch when the referrer's balance reached the threshold.
    first, second = overrides.order_by("parent__conversion__order_id").values_list("status", flat=True)
    assert first in ("approved", "paid") and second == "pending"
    assert all(c.amount > 0 for c in overrides)
    page = web_client(referrer).get("/partner/referrals/")
    assert page.status_code == 200 and "Summit Stories" in page.content.decode()


@pytest.mark.parametrize("days", ["0", "367", "-3"])
def test_seed_demo_refuses_a_history_out_of_range(days):
    with pytest.raises(CommandError, match="--days must be between 1 and 366"):
        run("seed_demo", "--force", "--days", days)
    assert not Network.objects.filter(slug="demo").exists()


def test_seed_demo_seeds_the_days_of_traffic_it_is_asked_for():
    from tracking.models import ClickRollup

    run("seed_demo", "--force", "--days", "3")
    days = {hour.date() for hour in ClickRollup.objects.values_list("hour", flat=True)}
    assert 2 <= len(days) <= 4  # three local days, seen in UTC (a day's first hours may fall on the day before)
