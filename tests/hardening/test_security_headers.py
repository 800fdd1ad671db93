"""Security headers and HTTPS from the environment: production settings answer with HSTS, nosniff, frame and
referrer policies, COOP, a Content-Security-Policy and secure cookies; the templates need no inline script."""

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.test import Client

from tests.network.test_settings import BASE_ENV, STRONG_SECRET

TEMPLATES = Path(settings.BASE_DIR) / "templates"

PROBE = """
import django, json, os
os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'
django.setup()
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST='affiliates.example.com')
out = {}
for name, path, secure in (('plain', '/healthz', False), ('healthz', '/healthz', True),
                           ('docs', '/api/docs/', True), ('missing', '/nope', True),
                           ('docs_http', '/api/docs/', False)):
    response = client.get(path, secure=secure)
    out[name] = {'status': response.status_code, 'headers': dict(response.headers)}
out['settings'] = {name: getattr(settings, name) for name in (
    'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', 'SECURE_SSL_REDIRECT',
    'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_HSTS_PRELOAD', 'DEBUG')}
print(json.dumps(out))
"""


def production(**extra):
    with tempfile.TemporaryDirectory() as folder:
        env = {**BASE_ENV, "DEBUG": "0", "SECRET_KEY": STRONG_SECRET, "ALLOWED_HOSTS": "affiliates.example.com",
               "DATABASE_URL": f"sqlite:///{folder}/probe.sqlite3",
               "TESTING": "1", **extra}  # TESTING: static files without a collectstatic manifest
        env.pop("REDIS_URL", None)
        env.pop("CITUS_URL", None)  # the probe's own SQLite database, not a Citus run's coordinator
        result = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120,
                                cwd=settings.BASE_DIR)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_answers_carry_the_security_headers():
    out = production()
    headers = out["healthz"]["headers"]
    assert out["healthz"]["status"] == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp and "'unsafe-eval'" not in csp
    assert "unsafe-inline" not in re.search(r"script-src[^;]*", csp).group(0)
    assert "camera=()" in headers["Permissions-Policy"]
    # The API docs (Swagger UI) load their start-up script from a URL, not inline, under the same policy.
    assert out["docs"]["status"] == 200 and "Content-Security-Policy" in out["docs"]["headers"]
    # Error pages carry the headers too.
    assert out["missing"]["status"] == 404 and "Content-Security-Policy" in out["missing"]["headers"]
    assert out["settings"] == {
        "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True, "SESSION_COOKIE_HTTPONLY": True,
        "SECURE_SSL_REDIRECT": True, "SECURE_HSTS_SECONDS": 31536000, "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True, "DEBUG": False,
    }


def test_production_redirects_plain_http_to_https_except_the_health_check():
    out = production()
    assert out["docs_http"]["status"] == 301
    assert out["docs_http"]["headers"]["Location"] == "https://affiliates.example.com/api/docs/"
    assert out["plain"]["status"] == 200  # /healthz is exempt (load balancers probe over HTTP)


def test_https_settings_can_be_turned_off_for_a_plain_http_staging_host():
    out = production(SECURE_SSL_REDIRECT="0", SECURE_HSTS_SECONDS="0", SESSION_COOKIE_SECURE="0",
                     CSRF_COOKIE_SECURE="0", CONTENT_SECURITY_POLICY="default-src 'self'")
    assert out["docs_http"]["status"] == 200
    assert "Strict-Transport-Security" not in out["healthz"]["headers"]
    assert out["healthz"]["headers"]["Content-Security-Policy"] == "default-src 'self'"
    assert out["settings"]["SESSION_COOKIE_SECURE"] is False and out["settings"]["CSRF_COOKIE_SECURE"] is False


def test_pages_in_development_carry_the_policy_too(db):
    response = Client().get("/accounts/login/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
    assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"


def test_api_answers_carry_the_policy(world):
    response = world.a.client("owner").get("/api/v1/me")
    assert response.status_code == 200 and "Content-Security-Policy" in response


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
JS_URL = re.compile(r"(href|src|action)\s*=\s*[\"']\s*javascript:", re.IGNORECASE)


def test_templates_have_no_inline_script_or_event_handler():
    """The policy allows scripts from this site only: an inline one would silently stop working."""
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER, JS_URL):
            for match in pattern.finditer(text):
                offenders.append(f"{path.relative_to(TEMPLATES)}: {match.group(0)}")
    assert offenders == []


def test_finished_batch_progress_asks_htmx_to_reload_the_page(world):
    from django.utils import timezone

    from payouts.models import PayoutBatch
    from tests.pages import web_client

    batch = PayoutBatch.objects.create(network=world.a.network, status=PayoutBatch.Status.COMPLETED,
                                       completed_at=timezone.now())
    response = web_client(world.a.owner).get(f"/operator/payouts/batches/{batch.pk}/?fragment=progress",
                                             HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Refresh"] == "true"
    assert b"<script" not in response.content
