"""The partner's tools in Chromium with the demo data, at a phone's width and a laptop's: the referrals page,
the link builder with its figures and sparklines, the postback page after a test fire, and the payout settings.
No page scrolls sideways; axe-core finds no critical or serious violation (the every-page walk covers them too,
this runs them alone and after their forms were used)."""

from tracking import netguard

from .test_every_page import MEMBERS, axe_source, check_pages, demo, log_in_as  # noqa: F401 (a fixture)

PAGES = [("referrals", "/partner/referrals/"), ("links", "/partner/links/"), ("postback", "/partner/postback/"),
         ("payout settings", "/partner/payouts/settings/")]


def test_the_partners_tools_fit_a_phone_and_a_laptop(demo, new_page, monkeypatch):  # noqa: F811
    from network.models import Affiliate

    affiliate = Affiliate.objects.get(email=MEMBERS["affiliate"])
    affiliate.postback_url = "https://93.184.215.14/pb?cid={click_id}"
    affiliate.save(update_fields=["postback_url"])
    monkeypatch.setattr(netguard, "request", lambda *args, **kwargs: netguard.Response(404, b"Not Found " * 80, 21))
    page = new_page()
    log_in_as(page, MEMBERS["affiliate"])
    problems, visited = [], []
    check_pages(page, PAGES, axe_source(), problems, visited)
    assert len(visited) == len(PAGES) and not problems, "\n".join(problems)

    page.set_viewport_size({"width": 390, "height": 800})
    page.goto("/partner/links/")
    assert page.locator("svg.sparkline").count() >= 1
    page.goto("/partner/postback/")
    page.get_by_role("button", name="Send a test postback").click()
    result = page.get_by_test_id("test-fire")
    result.wait_for()
    assert "Answer 404 in 21 ms" in result.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto("/partner/referrals/")
    assert "/join?ref=" in page.get_by_test_id("referral-url").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
