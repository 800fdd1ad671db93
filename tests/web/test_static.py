"""The vendored assets pass production's manifest storage (collectstatic) and are what pages load."""

from django.core.management import call_command
from django.test import Client


def test_collectstatic_with_the_production_storage_hashes_the_vendored_assets(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    call_command("collectstatic", "--noinput", "-v", "0")
    names = {path.name for path in (tmp_path / "vendor").iterdir()}
    for asset in ("htmx.min", "chart.umd.min", "pico.min"):
        assert any(n.startswith(asset + ".") and n.count(".") >= 3 and not n.endswith(".gz") for n in names), names


def test_layout_loads_vendored_assets_not_a_cdn(db):
    page = Client().get("/accounts/login/").content.decode()
    assert "/static/vendor/pico.min.css" in page and "/static/vendor/htmx.min.js" in page
    assert "cdn" not in page.lower() and "https://" not in page
