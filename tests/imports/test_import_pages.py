"""The advertiser's import page: upload (CSRF enforced), progress fragment, recent imports, errors by field."""

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.pages import web_client
from tests.tracking.conversions_support import click_at, make_shop
from tracking.models import Conversion, ConversionImport

from .support import committed, csv_bytes


def _file(data: bytes, name: str = "orders.csv"):
    return SimpleUploadedFile(name, data, "text/csv")


def test_the_page_uploads_a_file_and_shows_its_progress_and_refused_rows(world, web):
    shop = make_shop(world.a)
    click = click_at(shop.link, timedelta(hours=1))
    page = web("a", "advertiser").get("/advertiser/conversions/import/")
    assert page.status_code == 200
    assert b'data-drop-zone' in page.content and b'type="file"' in page.content
    assert b"/advertiser/conversions/import/" in web("a", "advertiser").get("/advertiser/conversions/").content
    data = csv_bytes(["order_id", "amount", "currency", "click_id"],
                     [["W-1", "20.00", "EUR", click.click_id], ["W-2", "oops", "EUR", ""]])
    response = committed(web("a", "advertiser").post, "/advertiser/conversions/import/", {"file": _file(data)})
    job = ConversionImport.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/advertiser/conversions/import/{job.pk}/"
    detail = web("a", "advertiser").get(response["Location"])
    assert detail.status_code == 200 and b"import-progress" in detail.content
    fragment = web("a", "advertiser").get(f"/advertiser/conversions/import/{job.pk}/", HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert "<html" not in html and 'data-status="done"' in html and "hx-get" not in html
    assert 'data-testid="import-created">1<' in html and 'data-testid="import-errors">1<' in html
    assert "<td>3</td>" in html and "amount" in html
    listing = web("a", "advertiser").get("/advertiser/conversions/import/").content.decode()
    assert "orders.csv" in listing and f"/advertiser/conversions/import/{job.pk}/" in listing
    assert Conversion.objects.for_network(world.a.network).get().order_id == "W-1"


def test_a_running_import_polls_its_progress(world, web):
    make_shop(world.a)
    job = ConversionImport.objects.create(network=world.a.network, advertiser=world.a.advertiser, total=10,
                                          processed=4, status="running", filename="big.csv")
    html = web("a", "advertiser").get(f"/advertiser/conversions/import/{job.pk}/?fragment=progress").content.decode()
    assert 'hx-trigger="every 1s"' in html and 'value="4" max="10"' in html


def test_a_refused_file_is_shown_next_to_the_field_and_creates_nothing(world, web):
    response = web("a", "advertiser").post("/advertiser/conversions/import/",
                                           {"file": _file(b"order_id,amount\nA,1\n")})
    assert response.status_code == 400
    assert b"Missing required columns: currency" in response.content and b'aria-invalid="true"' in response.content
    assert not ConversionImport.objects.exists()


def test_the_upload_needs_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.a.advertiser.membership.user)
    response = client.post("/advertiser/conversions/import/",
                           {"file": _file(csv_bytes(["order_id", "amount", "currency"], [["X", "1", "EUR"]]))})
    assert response.status_code == 403 and b"CSRF" in response.content
    assert not ConversionImport.objects.exists()


def test_another_networks_or_advertisers_import_page_answers_404(world, web):
    job = ConversionImport.objects.create(network=world.a.network, advertiser=world.a.advertiser, total=1,
                                          filename="a.csv")
    assert web("b", "advertiser").get(f"/advertiser/conversions/import/{job.pk}/").status_code == 404
    from tests.factories import make_advertiser

    other, _ = make_advertiser(world.a.network, "Other Shop", "other@alpha.test")
    assert web_client(other).get(f"/advertiser/conversions/import/{job.pk}/").status_code == 404
    assert web("a", "affiliate").get("/advertiser/conversions/import/").status_code == 403
