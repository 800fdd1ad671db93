"""Sessions live where every web process reads them: the cache (written through to the database) with Redis, or
signed cookies; the store is chosen from the environment."""

import os
import subprocess
import sys

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

SHOW_ENGINE = "import django; django.setup(); from django.conf import settings; print(settings.SESSION_ENGINE)"
LOAD_SESSION = (
    "import sys, django; django.setup(); from django.contrib.sessions.backends.cached_db import SessionStore; "
    "print(SessionStore(sys.argv[1]).load().get('_auth_user_id', 'none'))"
)
SERVICES = {"DATABASE_URL", "REDIS_URL", "CLICK_QUEUE_URL", "SESSION_STORE"}


def in_another_process(code: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in SERVICES} | {"DJANGO_SETTINGS_MODULE": "config.settings"}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120,
                          env=base | env)


def engine(**env: str) -> str:
    result = in_another_process(SHOW_ENGINE, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().rsplit(".", 1)[-1]


def test_the_session_store_follows_the_environment():
    assert engine() == "db"  # the embedded default: its in-process cache is not shared between processes
    assert engine(REDIS_URL="redis://127.0.0.1:6379/15") == "cached_db"  # the real mode
    assert engine(REDIS_URL="redis://127.0.0.1:6379/15", SESSION_STORE="cache") == "cache"
    assert engine(SESSION_STORE="signed_cookies") == "signed_cookies"


@pytest.mark.parametrize(("store", "words"), [("cache", "needs REDIS_URL"), ("cached_db", "needs REDIS_URL"),
                                               ("file", "must be one of")])
def test_a_session_store_that_cannot_be_shared_refuses_to_start(store, words):
    result = in_another_process(SHOW_ENGINE, SESSION_STORE=store)
    assert result.returncode != 0 and words in result.stderr


@pytest.mark.redis
@pytest.mark.postgres
def test_a_login_is_read_by_another_process_from_the_shared_cache(world, settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    client = Client()
    client.force_login(world.a.owner.user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert Session.objects.filter(session_key=key).exists()  # written through to the database
    # Another web process (its own interpreter; this test's transaction is not committed, so it can only have
    # found the login in Redis).
    # Under CITUS_URL (inherited by the other process) there is no DATABASE_URL.
    database = {"DATABASE_URL": os.environ["DATABASE_URL"]} if "DATABASE_URL" in os.environ else {}
    result = in_another_process(LOAD_SESSION, key, REDIS_URL=settings.REDIS_URL, **database)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(world.a.owner.user.pk)


def test_signed_cookie_sessions_keep_nothing_on_the_server(world, settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    client = Client()
    client.force_login(world.a.owner.user)
    response = client.get("/operator/", follow=True)
    assert response.status_code == 200 and world.a.owner.user.email in response.content.decode()
    assert not Session.objects.exists()
