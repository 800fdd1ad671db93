"""Production settings refuse to start insecurely and pass `check --deploy`."""

import os
import subprocess
import sys

BASE_ENV = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG"}}
STRONG_SECRET = "x" * 20 + "-production-secret-key-with-enough-entropy-42!"


def manage(*args, **env):
    return subprocess.run(
        [sys.executable, "manage.py", *args], env={**BASE_ENV, **env}, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_to_start_without_secret_key():
    result = manage("check", DEBUG="0", ALLOWED_HOSTS="example.com")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = manage("check", DEBUG="0", SECRET_KEY=STRONG_SECRET)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_check_deploy_is_clean_in_production():
    result = manage("check", "--deploy", "--fail-level", "WARNING", DEBUG="0", SECRET_KEY=STRONG_SECRET,
                    ALLOWED_HOSTS="affiliates.example.com")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_embedded_default_needs_no_variables():
    env = {k: v for k, v in BASE_ENV.items() if k not in {"DATABASE_URL", "CITUS_URL", "REDIS_URL"}}
    result = subprocess.run(
        [sys.executable, "-c", "import django,os;os.environ['DJANGO_SETTINGS_MODULE']='config.settings';"
         "django.setup();from django.conf import settings as s;"
         "print(s.DEBUG, s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER,"
         " s.CACHES['default']['BACKEND'], s.EMAIL_BACKEND)"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True", "django.db.backends.sqlite3", "True", "django.core.cache.backends.locmem.LocMemCache",
        "django.core.mail.backends.console.EmailBackend",
    ]


def test_real_services_mode_uses_postgres_and_redis():
    env = {**BASE_ENV, "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/whatever",
           "REDIS_URL": "redis://127.0.0.1:6379/0"}
    result = subprocess.run(
        [sys.executable, "-c", "import django,os;os.environ['DJANGO_SETTINGS_MODULE']='config.settings';"
         "django.setup();from django.conf import settings as s;"
         "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.CACHES['default']['BACKEND'],"
         " s.CELERY_TASK_ALWAYS_EAGER)"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql", "redis://127.0.0.1:6379/0",
        "django.core.cache.backends.redis.RedisCache", "False",
    ]
