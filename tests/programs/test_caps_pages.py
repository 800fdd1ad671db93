"""Caps on the pages: the advertiser sets them in the program form (the API's errors next to the fields), reads
what is left on the program page and the overview; the affiliate reads what is left for it on its programs page
and overview."""

import pytest

from commissions.models import Commission
from programs.models import Partnership, Program
from tests.commissions.helpers import convert
from tests.pages import make_shop

from .test_advertiser_pages import program_data

pytestmark = pytest.mark.django_db
CAPS = {"conversions_day": 3, "conversions_month": None, "payout_month": "250.00", "action": "reject"}


@pytest.fixture
def shop(world):
    shop = make_shop(world)
    Program.objects.filter(pk=shop.program.pk).update(caps=CAPS)
    shop.program.refresh_from_db()
    return shop


def test_the_program_form_sets_caps(world, web):
    client = web("a", "advertiser")
    assert 'name="caps_conversions_day"' in client.get("/advertiser/programs/new/").content.decode()
    response = client.post("/advertiser/programs/new/", program_data(
        caps_conversions_day="40", caps_conversions_month="", caps_payout_month="900", caps_action="pause"))
    assert response.status_code == 302, response.content.decode()[:2000]
    program = Program.objects.get(name="Camping Tents")
    assert program.caps == {"conversions_day": 40, "conversions_month": None, "payout_month": "900.00",
                            "action": "pause"}
    page = client.get(f"/advertiser/programs/{program.pk}/edit/").content.decode()
    assert 'value="40"' in page and 'value="900.00"' in page
    # Every cap left empty: no caps.
    response = client.post(f"/advertiser/programs/{program.pk}/edit/", program_data(
        **{"rules-0-payout": "", "caps_conversions_day": "", "caps_payout_month": "", "caps_action": "pause"}))
    assert response.status_code == 302
    assert Program.objects.get(pk=program.pk).caps is None


def test_bad_caps_in_the_form_are_shown_next_to_their_fields_and_change_nothing(world, web, shop):
    client = web("a", "advertiser")
    url = f"/advertiser/programs/{shop.program.pk}/edit/"
    response = client.post(url, program_data(**{"rules-0-payout": "", "caps_conversions_day": "-1",
                                                "caps_payout_month": "1.005", "caps_action": "explode"}))
    assert response.status_code == 400
    page = response.content.decode()
    error = page.index("Ensure this value is greater than or equal to 0.")
    assert page.rindex('for="id_caps_conversions_day"', 0, error) > page.rindex('for="id_terms"', 0, error)
    assert "is not a valid choice" in page
    assert Program.objects.get(pk=shop.program.pk).caps == CAPS
    response = client.post(url, program_data(**{"rules-0-payout": "", "caps_conversions_day": "2",
                                                "caps_payout_month": "1.005", "caps_action": "hold"}))
    assert response.status_code == 400 and "Has more decimal places than EUR allows." in response.content.decode()
    assert Program.objects.get(pk=shop.program.pk).caps == CAPS


def test_the_program_page_and_the_overview_show_what_is_left(world, web, shop):
    convert(world.a, shop.link, "C-1", "100.00")  # 10 % = 10.00
    client = web("a", "advertiser")
    page = client.get(f"/advertiser/programs/{shop.program.pk}/").content.decode()
    assert 'data-testid="caps-status"' in page
    assert "2 of 3 conversions left today" in page
    assert "€240.00 of €250.00 payout budget left this month" in page
    assert "no commission" in page
    overview = client.get("/advertiser/").content.decode()
    assert f'data-testid="dashboard-caps-{shop.program.pk}"' in overview and "2 of 3 conversions left today" in overview
    # The rival advertiser's program is not on this dashboard; and its page is 404 here.
    Program.objects.filter(pk=shop.rival_program.pk).update(caps=CAPS)
    assert f"dashboard-caps-{shop.rival_program.pk}" not in client.get("/advertiser/").content.decode()
    assert client.get(f"/advertiser/programs/{shop.other_program.pk}/").status_code == 404


def test_a_partners_own_caps_show_on_the_program_page(world, web, shop):
    partnership = Partnership.objects.get(pk=shop.link.partnership_id)
    Partnership.objects.filter(pk=partnership.pk).update(
        caps={"conversions_day": None, "conversions_month": 50, "payout_month": None, "action": "hold"})
    page = web("a", "advertiser").get(f"/advertiser/programs/{shop.program.pk}/").content.decode()
    assert f'data-testid="partner-caps-{partnership.pk}"' in page and "50 of 50 conversions left this month" in page


def test_the_affiliate_sees_what_is_left_for_it(world, web, shop):
    convert(world.a, shop.link, "C-1", "100.00")
    client = web("a", "affiliate")
    page = client.get("/partner/programs/").content.decode()
    assert "Caps this period" in page and "2 of 3 conversions left today" in page
    overview = client.get("/partner/").content.decode()
    assert f'data-testid="dashboard-caps-{shop.program.pk}"' in overview
    assert "€240.00 of €250.00 payout budget left this month" in overview
    # Past the cap, the commission is explained on the affiliate's commission page.
    for n in range(3):
        convert(world.a, shop.link, f"C-{n + 2}", "100.00")
    rejected = Commission.objects.get(conversion__order_id="C-4")
    assert rejected.status == "rejected"
    detail = client.get(f"/partner/commissions/{rejected.pk}/").content.decode()
    assert 'data-testid="explain-cap"' in detail and "cap of 3 conversions per day" in detail
    # Another network's affiliate sees none of it.
    assert "Caps this period" not in web("b", "affiliate").get("/partner/programs/").content.decode()


def test_the_advertiser_gives_a_partner_its_own_caps_on_the_web(world, web, shop):
    partnership = Partnership.objects.get(pk=shop.link.partnership_id)
    client = web("a", "advertiser")
    program_page = client.get(f"/advertiser/programs/{shop.program.pk}/").content.decode()
    url = f"/advertiser/partnerships/{partnership.pk}/caps/"
    assert f'href="{url}"' in program_page
    page = client.get(url).content.decode()
    assert 'data-testid="partnership-caps-form"' in page
    assert "Caps of the program" in page  # the program's caps apply until the partner has its own
    response = client.post(url, {"own_caps": "on", "caps_conversions_day": "", "caps_conversions_month": "20",
                                 "caps_payout_month": "75.50", "caps_action": "hold"})
    assert response.status_code == 302 and response["Location"] == f"/advertiser/programs/{shop.program.pk}/"
    partnership.refresh_from_db()
    assert partnership.caps == {"conversions_day": None, "conversions_month": 20, "payout_month": "75.50",
                                "action": "hold"}
    convert(world.a, shop.link, "P-1", "100.00")  # 10 % = 10.00 of the partner's own budget
    page = client.get(url).content.decode()
    assert "Caps of this partnership" in page and "19 of 20 conversions left this month" in page
    assert "€65.50 of €75.50 payout budget left this month" in page
    assert 'value="75.50"' in page and 'name="own_caps"' in page and "checked" in page
    # Unticked: the program's caps apply again.
    response = client.post(url, {"caps_conversions_day": "5", "caps_action": "hold"})
    assert response.status_code == 302
    partnership.refresh_from_db()
    assert partnership.caps is None


def test_bad_partner_caps_are_refused_next_to_their_fields_and_change_nothing(world, web, shop):
    partnership = Partnership.objects.get(pk=shop.link.partnership_id)
    own = {"conversions_day": 4, "conversions_month": None, "payout_month": None, "action": "reject"}
    Partnership.objects.filter(pk=partnership.pk).update(caps=own)
    client = web("a", "advertiser")
    url = f"/advertiser/partnerships/{partnership.pk}/caps/"
    for data, message in [
        ({"own_caps": "on", "caps_conversions_day": "-1", "caps_action": "hold"},
         "Ensure this value is greater than or equal to 0."),
        ({"own_caps": "on", "caps_conversions_day": "ten", "caps_action": "hold"}, "A valid integer is required."),
        ({"own_caps": "on", "caps_payout_month": "1.005", "caps_action": "hold"},
         "Has more decimal places than EUR allows."),
        ({"own_caps": "on", "caps_conversions_day": "2", "caps_action": "explode"}, "is not a valid choice"),
    ]:
        response = client.post(url, data)
        assert response.status_code == 400, data
        assert message in response.content.decode(), (data, response.content.decode()[:3000])
        partnership.refresh_from_db()
        assert partnership.caps == own


def test_another_advertisers_or_networks_partnership_caps_page_is_404(world, web, shop):
    from tests.factories import make_affiliate  # noqa: PLC0415 (one test's helper)

    rival_partner, _ = make_affiliate(world.a.network, "Rival Partner", "rp@alpha.test")
    rival = Partnership.objects.create(network=world.a.network, program=shop.rival_program, affiliate=rival_partner,
                                       status="approved")
    other_partner, _ = make_affiliate(world.b.network, "Other Partner", "op@bravo.test")
    other = Partnership.objects.create(network=world.b.network, program=shop.other_program, affiliate=other_partner,
                                       status="approved")
    client = web("a", "advertiser")
    for partnership in (rival, other):
        url = f"/advertiser/partnerships/{partnership.pk}/caps/"
        assert client.get(url).status_code == 404
        data = {"own_caps": "on", "caps_conversions_day": "1", "caps_action": "hold"}
        assert client.post(url, data).status_code == 404
        partnership.refresh_from_db()
        assert partnership.caps is None
    assert web("a", "affiliate").get(f"/advertiser/partnerships/{shop.link.partnership_id}/caps/").status_code in (
        403, 404)
