"""Uploaded files on an S3-compatible store (moto's S3 server, started here): creatives in the public part at a
URL that does not expire, tax forms and CSV imports private and read back through the app; the store chosen
from the environment (local disk without S3_BUCKET)."""

import io
import json
import urllib.error
import urllib.request
from datetime import timedelta

import boto3
import environ
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from moto.server import ThreadedMotoServer
from PIL import Image

from config import uploads
from payouts.models import TaxDetails
from programs.models import Creative
from tests.factories import make_program
from tests.imports.support import committed, csv_bytes, upload
from tests.tracking.conversions_support import click_at, make_shop
from tracking.models import Conversion, ConversionImport

KEYS = {"S3_ACCESS_KEY_ID": "test-key", "S3_SECRET_ACCESS_KEY": "test-secret", "S3_REGION": "us-east-1",
        "S3_ADDRESSING_STYLE": "path"}


@pytest.fixture(scope="session")
def s3_server():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_server, settings, monkeypatch, request):
    """A fresh bucket of this test, and STORAGES as the settings module builds it from these variables."""
    name = "afn-" + request.node.name.lower().replace("_", "-")[:40].strip("-")
    s3 = boto3.client("s3", endpoint_url=s3_server, aws_access_key_id="test-key",
                      aws_secret_access_key="test-secret", region_name="us-east-1")
    s3.create_bucket(Bucket=name)
    # What the operator sets on the bucket (docs/scaling.md): anyone may read the public prefix, nothing else.
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{name}/public/*"}]}))
    for variable, value in {**KEYS, "S3_BUCKET": name, "S3_ENDPOINT_URL": s3_server}.items():
        monkeypatch.setenv(variable, value)
    settings.STORAGES = uploads.storages_setting(environ.Env(),
                                                 static_backend=settings.STORAGES["staticfiles"]["BACKEND"])
    yield s3, name
    listed = s3.list_objects_v2(Bucket=name).get("Contents", [])
    for item in listed:
        s3.delete_object(Bucket=name, Key=item["Key"])
    s3.delete_bucket(Bucket=name)


def objects(s3, name) -> dict[str, bytes]:
    listed = s3.list_objects_v2(Bucket=name).get("Contents", [])
    return {item["Key"]: s3.get_object(Bucket=name, Key=item["Key"])["Body"].read() for item in listed}


def png_bytes(size=(300, 250)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 80, 20)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_without_a_bucket_uploads_stay_on_the_local_disk(monkeypatch):
    monkeypatch.delenv("S3_BUCKET", raising=False)
    stores = uploads.storages_setting(environ.Env(), static_backend="x.Static")
    assert stores["default"] == stores["public"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert stores["staticfiles"] == {"BACKEND": "x.Static"}


def test_the_bucket_settings_come_from_the_environment(monkeypatch):
    for variable, value in {**KEYS, "S3_BUCKET": "afn-media", "S3_ENDPOINT_URL": "http://minio:9000",
                            "S3_PUBLIC_URL": "https://cdn.example.com/media/"}.items():
        monkeypatch.setenv(variable, value)
    stores = uploads.storages_setting(environ.Env(), static_backend="x.Static")
    private, public = stores["default"]["OPTIONS"], stores["public"]["OPTIONS"]
    assert stores["default"]["BACKEND"] == stores["public"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert (private["bucket_name"], private["endpoint_url"], private["access_key"]) == (
        "afn-media", "http://minio:9000", "test-key")
    assert private["querystring_auth"] is True and "location" not in private  # signed, short-lived links only
    assert (public["bucket_name"], public["location"], public["querystring_auth"]) == ("afn-media", "public", False)
    assert (public["custom_domain"], public["url_protocol"]) == ("cdn.example.com/media", "https:")
    monkeypatch.setenv("S3_PUBLIC_URL", "cdn.example.com")
    with pytest.raises(ImproperlyConfigured):
        uploads.storages_setting(environ.Env(), static_backend="x.Static")


def test_a_banner_uploaded_through_the_api_is_in_the_bucket_at_a_url_that_does_not_expire(world, bucket, s3_server):
    s3, name = bucket
    program = make_program(world.a.advertiser)
    image = png_bytes()
    response = world.a.client("advertiser").post(
        "/api/v1/creatives", {"program": program.pk, "kind": "banner", "name": "Spring 300x250",
                              "image": SimpleUploadedFile("banner.png", image, content_type="image/png")},
        format="multipart")
    assert response.status_code == 201, response.content
    creative = Creative.objects.get(pk=response.json()["id"])
    key = f"public/{creative.image.name}"
    assert creative.image.name.startswith("creatives/") and objects(s3, name) == {key: image}
    url = response.json()["image"]
    assert url == f"{s3_server}/{name}/{key}" and "Signature" not in url
    assert f'<img src="{url}"' in response.json()["rendered"]
    with urllib.request.urlopen(url) as answer:  # what a visitor of the affiliate's page loads
        assert answer.read() == image
    # Another network's advertiser sees nothing of it.
    assert world.b.client("advertiser").get(f"/api/v1/creatives/{creative.pk}").status_code == 404
    # Read back through the storage API, as the pages do.
    assert Creative.objects.get(pk=creative.pk).image.read() == image


def test_a_banner_uploaded_on_the_advertiser_page_is_in_the_bucket_and_shown(world, web, bucket):
    s3, name = bucket
    program = make_program(world.a.advertiser)
    image = png_bytes((468, 60))
    response = web("a", "advertiser").post(f"/advertiser/programs/{program.pk}/creatives", {
        "kind": "banner", "name": "Leaderboard", "body": "",
        "image": SimpleUploadedFile("wide.png", image, content_type="image/png")})
    assert response.status_code == 302, response.content
    creative = Creative.objects.get(program=program)
    assert (creative.width, creative.height) == (468, 60)
    assert objects(s3, name) == {f"public/{creative.image.name}": image}
    page = web("a", "advertiser").get(f"/advertiser/programs/{program.pk}/").content.decode()
    assert creative.image.url in page and creative.image.url.startswith("http://127.0.0.1:")
    assert web("b", "advertiser").get(f"/advertiser/programs/{program.pk}/").status_code == 404


def test_a_tax_form_uploaded_on_the_partner_page_is_private_in_the_bucket_and_read_back(
        world, web, bucket, django_capture_on_commit_callbacks):
    s3, name = bucket
    form = b"%PDF-1.4 W-9 of Alpha Blog LLC"
    response = web("a", "affiliate").post("/partner/payouts/settings/", {
        "kind": "tax", "legal_name": "Alpha Blog LLC", "country": "us", "tax_id": "12-3456789", "form_type": "w9",
        "form_file": SimpleUploadedFile("w9.pdf", form, content_type="application/pdf")})
    assert response.status_code == 302
    details = TaxDetails.objects.get(affiliate=world.a.affiliate)
    first_key = details.form_file.name
    assert first_key.startswith(f"tax-forms/{world.a.network.pk}/")  # outside the public prefix
    assert objects(s3, name) == {first_key: form}
    assert "X-Amz-Signature=" in details.form_file.url  # never a plain link
    with pytest.raises(urllib.error.HTTPError) as refused:  # and the bucket refuses one
        urllib.request.urlopen(details.form_file.url.split("?")[0])
    assert refused.value.code == 403
    owner = world.a.client("owner")
    download = owner.get(f"/api/v1/tax-details/form?affiliate={world.a.affiliate.pk}")
    assert download.status_code == 200 and b"".join(download.streaming_content) == form
    assert world.b.client("owner").get(
        f"/api/v1/tax-details/form?affiliate={world.a.affiliate.pk}").status_code == 404

    # A new form through the API replaces the old one in the bucket (deleted after the commit).
    second = b"%PDF-1.4 corrected W-9"
    with django_capture_on_commit_callbacks(execute=True):
        response = world.a.client("affiliate").patch(
            "/api/v1/tax-details", {"form_file": SimpleUploadedFile("w9.pdf", second, content_type="application/pdf")},
            format="multipart")
    assert response.status_code == 200, response.content
    details.refresh_from_db()
    assert objects(s3, name) == {details.form_file.name: second}
    download = owner.get(f"/api/v1/tax-details/form?affiliate={world.a.affiliate.pk}")
    assert b"".join(download.streaming_content) == second


def test_a_csv_import_is_kept_in_the_bucket_and_read_by_the_task(world, bucket):
    s3, name = bucket
    shop = make_shop(world.a)
    click = click_at(shop.link, timedelta(hours=2))
    data = csv_bytes(["order_id", "amount", "currency", "click_id"], [["S3-1", "100.00", "EUR", click.click_id]])
    response = upload(world.a.client("advertiser"), data)
    assert response.status_code == 202, response.content
    job = ConversionImport.objects.get(pk=response.json()["id"])
    assert objects(s3, name) == {job.file.name: data}
    body = committed(world.a.client("advertiser").get, f"/api/v1/imports/{job.pk}").json()
    assert (body["status"], body["created"]) == ("done", 1)
    assert Conversion.objects.get(network=world.a.network).order_id == "S3-1"
