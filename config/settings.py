"""Settings, read from the environment only (12-factor).

No variables: the embedded default (SQLite, eager Celery, local-memory cache, console e-mail,
DEBUG on). `DATABASE_URL` and `REDIS_URL` switch to PostgreSQL and Redis. `DEBUG=0` is
production: it refuses to start without `SECRET_KEY` and `ALLOWED_HOSTS`.
"""

import os
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

from config import beat, uploads

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)
TESTING = env.bool("TESTING", default="pytest" in sys.modules)


def _dev_secret_key() -> str:
    # Every process of a dev server must agree on the key (sessions, signed cookies), so the
    # generated one is kept in a git-ignored file.
    path = BASE_DIR / ".dev_secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = get_random_secret_key()
        path.write_text(key)
        return key


if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="") or _dev_secret_key()
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver", "[::1]"])
else:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be set (50+ characters) when DEBUG is off.")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off.")

# Keyed hash of visitor IPs (privacy): its own secret so rotating SECRET_KEY keeps click hashes comparable.
IP_HASH_KEY = env.str("IP_HASH_KEY", default="") or SECRET_KEY

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "core",
    "network",
    "programs",
    "tracking",
    "commissions",
    "payouts",
    "reports",
]

MIDDLEWARE = [
    # First: verified branded tracking domains pass the host check (only those; network.hosts).
    "network.hosts.TrackingHostMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "core.middleware.ApiErrorsAsJsonMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # A stranger's language: the switcher's cookie, else the browser's Accept-Language (after the session,
    # before CommonMiddleware, as Django asks); network.middleware.NetworkLanguageMiddleware refines it below.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The member's network time zone for every page (needs the session and the user).
    "network.middleware.NetworkTimeZoneMiddleware",
    # The language: the user's choice > the network's language > the browser's (network.i18n); the API stays English.
    "network.middleware.NetworkLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Under DEBUG (the demo) a visitor still gets the site's 404 and 500 pages, not Django's technical ones.
    "core.middleware.FriendlyErrorPagesMiddleware",
]
# Django's technical 404/500 pages (URL list, settings, traceback) under DEBUG: for a developer, never the demo.
DEBUG_ERROR_PAGES = env.bool("DEBUG_ERROR_PAGES", default=False)

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
SITE_ID = 1

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Data stores -------------------------------------------------------------------------
# `CITUS_URL` (a Citus coordinator whose database already has its workers added) takes the place of DATABASE_URL;
# the test run then distributes the migrated tables by network_id (tests/conftest.py, core/citus.py).
CITUS_URL = env.str("CITUS_URL", default="")
DATABASES = {"default": env.db_url_config(CITUS_URL) if CITUS_URL else
             env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default runs tasks in-process next to web requests, many threads writing at once (Django's
    # advice for concurrent writers): a transaction takes the write lock at BEGIN (IMMEDIATE), so it waits for
    # it (the busy timeout, seconds) instead of failing at once with "database is locked" when a read turns
    # into a write; WAL lets readers go on while one writes (a property of the file, kept once set).
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "transaction_mode": "IMMEDIATE",
        "timeout": env.int("SQLITE_TIMEOUT", default=20),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    })
    if TESTING:
        # A file, not Django's shared in-memory database: threads of the concurrency tests then lock and wait
        # as the server's do (a shared cache fails at once). One per process: test runs may run side by side.
        DATABASES["default"].setdefault("TEST", {}).setdefault(
            "NAME", str(Path(tempfile.gettempdir()) / f"affiliate-network-test-{os.getpid()}.sqlite3"))
# A database lock that outlasts that wait answers 503 (Retry-After), not 500, outside the API too.
MIDDLEWARE.append("core.dbretry.DatabaseBusyMiddleware")
# A streaming replica of the primary for report reads (core/replica.py); unset: everything reads the primary.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = env.db_url_config(DATABASE_REPLICA_URL) | {
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"], "CONN_HEALTH_CHECKS": True,
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["core.replica.ReplicaRouter"]
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if TESTING and REDIS_URL and os.environ.get("PYTEST_XDIST_WORKER", "").startswith("gw"):
    # Parallel test processes (pytest-xdist, scripts/test.sh) each take their own Redis database, as each takes
    # its own test database: worker gw<n> uses the URL's database number plus n.
    _redis = urlsplit(REDIS_URL)
    _redis_db = int(_redis.path.strip("/") or 0) + int(os.environ["PYTEST_XDIST_WORKER"][2:])
    REDIS_URL = urlunsplit(_redis._replace(path=f"/{_redis_db}"))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="afn"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Where a login lives, so that any web process serves any request: "cached_db" (the default with Redis: read from
# the cache, written through to the database, so no session query per request and a Redis restart logs nobody
# out), "cache" (Redis only), "signed_cookies" (in the browser, signed with SECRET_KEY; the server cannot end
# one before it expires) or "db" (the default without Redis: the in-process cache is not shared by processes).
SESSION_STORE = env.str("SESSION_STORE", default="cached_db" if REDIS_URL else "db")
if SESSION_STORE not in ("db", "cached_db", "cache", "signed_cookies"):
    raise ImproperlyConfigured("SESSION_STORE must be one of db, cached_db, cache, signed_cookies.")
if SESSION_STORE in ("cache", "cached_db") and not REDIS_URL:
    raise ImproperlyConfigured(f"SESSION_STORE={SESSION_STORE} needs REDIS_URL (a cache every process shares).")
SESSION_ENGINE = f"django.contrib.sessions.backends.{SESSION_STORE}"

# --- Celery ------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
# Eager tasks (the embedded default) run after the request's commit: a failure there is logged and left to the
# task's retry or the in-process catch-up, not raised into a response whose data is already saved (tests turn
# it on in tests/conftest.py to see every failure).
CELERY_TASK_EAGER_PROPAGATES = env.bool("CELERY_TASK_EAGER_PROPAGATES", default=False)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis broker: a task taken by a worker that died unacknowledged (acks_late) goes back to the queue after this
# many seconds. Keep it above the longest task time limit and the longest retry countdown, or a task still
# running (or waiting for its countdown) is handed to a second worker as well.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
# Periodic tasks: the one table in config/beat.py.
CELERY_BEAT_SCHEDULE = beat.CELERY_BEAT_SCHEDULE

# No broker (the embedded default): no beat either, so the web process runs the recovery jobs (the commission
# catch-up, the resumption of interrupted payout batches) itself every this many seconds (core/embedded.py);
# 0 turns them off.
EMBEDDED_CATCH_UP_SECONDS = env.float("EMBEDDED_CATCH_UP_SECONDS", default=0 if REDIS_URL or TESTING else 30)

# --- Auth --------------------------------------------------------------------------------
AUTH_USER_MODEL = "network.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# --- I18N --------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
# Each language under its own name (the switcher lists them so whoever reads it finds theirs).
LANGUAGES = [
    ("en", "English"),
    ("lv", "Latviešu"),
    ("ru", "Русский"),
    ("id", "Bahasa Indonesia"),
    ("pl", "Polski"),
]
# The catalogues (locale/<lang>/LC_MESSAGES/django.po and the compiled .mo; README "Translations").
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media --------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Uploads: `default` (private: tax forms, imports) and `public` (creatives), local disk or an S3-compatible bucket
# when S3_BUCKET is set (config/uploads.py).
STORAGES = uploads.storages_setting(
    env, static_backend="django.contrib.staticfiles.storage.StaticFilesStorage" if DEBUG or TESTING
    else "whitenoise.storage.CompressedManifestStaticFilesStorage")

# --- E-mail ------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Affiliate Network <no-reply@localhost>")

# --- API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "network.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["network.permissions.IsNetworkMember"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_METADATA_CLASS": "core.metadata.Metadata",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PARSER_CLASSES": ["core.inputs.JSONParser"],
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Fixed-window counters in the cache; the conversion postback has its own scope (tracking.api).
    "DEFAULT_THROTTLE_CLASSES": ["core.throttling.ApiKeyRateThrottle", "core.throttling.AnonRateThrottle"],
}
# Rate limits ("N/s", "N/min", "N/hour", "N/day"; "0" turns one off): per API key for the API, per key for
# POST /api/v1/conversions (merchants' servers post in bursts), per client address without a key.
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="1200/min")
CONVERSION_THROTTLE_RATE = env.str("CONVERSION_THROTTLE_RATE", default="60000/min")
# CSV imports of conversions (POST /api/v1/conversions/import, the advertiser's import page): the largest file.
CONVERSION_IMPORT_MAX_BYTES = env.int("CONVERSION_IMPORT_MAX_BYTES", default=20 * 2**20)
ANON_THROTTLE_RATE = env.str("ANON_THROTTLE_RATE", default="300/min")
# Networks started from the web (/start/network/) and sign-ups (/accounts/signup/, the join pages), per client
# address (hashed): a script cannot fill the installation with networks or accounts.
NETWORK_START_RATE_LIMIT = env.str("NETWORK_START_RATE_LIMIT", default="5/hour")
SIGNUP_RATE_LIMIT = env.str("SIGNUP_RATE_LIMIT", default="5/hour")
SPECTACULAR_SETTINGS = {
    "TITLE": "Affiliate Network API",
    "DESCRIPTION": "Programs, tracking links, conversions, commissions and payouts. "
    "Authenticate with `Authorization: Bearer <api key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.schema.add_error_responses",
        "core.schema.add_links",
    ],
    # Served from our own static files: the docs work with no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets that share a field name across models get their own schema names.
    "ENUM_NAME_OVERRIDES": {
        "PartyStatusEnum": "network.models.PartyStatus",
        "ProgramStatusEnum": "programs.models.Program.Status",
        "PartnershipStatusEnum": "programs.models.Partnership.Status",
        "RuleKindEnum": "programs.models.CommissionRule.Kind",
        "RuleEventEnum": "programs.models.CommissionRule.Event",
        "CreativeKindEnum": "programs.models.Creative.Kind",
        "ConversionStatusEnum": "tracking.models.Conversion.Status",
        "ConversionEventEnum": "tracking.models.Conversion.Event",
        "DeliveryStatusEnum": "tracking.models_outbound.Delivery.Status",
        "DeliveryKindEnum": "tracking.models_outbound.Delivery.Kind",
        "WebhookEventEnum": "tracking.serializers.WEBHOOK_EVENT_CHOICES",
        "CommissionStatusEnum": "commissions.models.Commission.Status",
        "CommissionKindEnum": "commissions.models.Commission.Kind",
        "AccountKindEnum": "commissions.models.Account.Kind",
        "PayoutStatusEnum": "payouts.models.Payout.Status",
        "PayoutBatchStatusEnum": "payouts.models.PayoutBatch.Status",
        "PayoutMethodKindEnum": "payouts.models.MethodKind",
    },
}

# The address the server listens on (scripts/run.sh passes it to runserver): links built with no request to take
# the address from (the demo's output, e-mails sent by tasks) use it when no public URL is set.
BIND = env.str("BIND", default="127.0.0.1:8000")


def _bind_url(bind: str) -> str:
    host, _, port = bind.rpartition(":") if bind.rpartition(":")[2].isdigit() else (bind, "", "")
    # Every interface: this machine answers on its loopback.
    if host in ("", "0.0.0.0", "::", "[::]"):  # noqa: S104
        host = "127.0.0.1"
    return f"http://{host}:{port}" if port else f"http://{host}"


# Public base URL of tracking links (`https://trk.example.com`), the platform's tracking domain. Empty: the
# address the request came to (the embedded default and the demo follow whatever host and port serve them).
# A network's verified branded domain takes its place for that network's links (network.hosts).
TRACKING_BASE_URL = env.str("TRACKING_BASE_URL", default="").rstrip("/")
# Public base URL of the web app, for links in e-mails sent by tasks (no request to build them from).
SITE_URL = env.str("SITE_URL", default=TRACKING_BASE_URL or _bind_url(BIND)).rstrip("/")
# The demo shop (/demo/shop/, a merchant's page with track.js) where seed_demo points the demo's Northwind
# programs. On by default under DEBUG (the demo); empty: no shop, the demo programs keep their example URLs.
DEMO_SHOP_URL = env.str("DEMO_SHOP_URL", default=f"{SITE_URL}/demo/shop/" if DEBUG else "")
# The host name a branded tracking domain's CNAME record points to (shown to whoever adds one, checked on verify).
TRACKING_CNAME_TARGET = (env.str("TRACKING_CNAME_TARGET", default="")
                         or urlsplit(TRACKING_BASE_URL or SITE_URL).hostname or "localhost").lower().rstrip(".")
# A verified tracking domain is re-checked daily (CNAME and TXT); after this many failed checks in a row it is
# unverified (its links fall back to the platform's address) and its owner is e-mailed.
TRACKING_DOMAIN_MAX_FAILED_CHECKS = env.int("TRACKING_DOMAIN_MAX_FAILED_CHECKS", default=3)
# Outbound postbacks and webhooks may target private addresses only when this is on (SSRF).
OUTBOUND_ALLOW_PRIVATE = env.bool("OUTBOUND_ALLOW_PRIVATE", default=False)
# Webhook endpoints must be https:// (they carry order data and its signature) unless this is off: the embedded
# default under DEBUG allows http, to try a receiver on localhost.
WEBHOOK_HTTPS_ONLY = env.bool("WEBHOOK_HTTPS_ONLY", default=not DEBUG)

# --- Security (production values unless DEBUG) -------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_PROXY", default=True) else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# The reverse proxy asks /tls/ask over plain HTTP before it has a certificate for a new tracking domain.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^tls/ask$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
# The language switcher's cookie (a stranger's choice; a user's is saved on the account).
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Scripts only from this site (templates carry no inline script or handler: static/js/app.js wires them);
# inline styles stay allowed for the style attributes of Swagger UI, the admin and htmx's indicator rule.
# The partner's Stripe onboarding form is redirected to Stripe's hosted pages.
CONTENT_SECURITY_POLICY = env.str("CONTENT_SECURITY_POLICY", default="; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:",
    "font-src 'self'", "connect-src 'self'", "object-src 'none'", "base-uri 'self'", "frame-ancestors 'none'",
    "form-action 'self' https://connect.stripe.com",
]))
PERMISSIONS_POLICY = env.str("PERMISSIONS_POLICY", default="camera=(), microphone=(), geolocation=(), payment=()")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
# Tests write uploads (the demo's banner) to a scratch folder, not the developer's media folder.
if TESTING and not env.str("MEDIA_ROOT", default=""):
    MEDIA_ROOT = Path(tempfile.gettempdir()) / "affiliate-network-test-media"

# --- Web accounts (django-allauth) and pages ------------------------------------------------
INSTALLED_APPS += ["allauth", "allauth.account"]
MIDDLEWARE += ["allauth.account.middleware.AccountMiddleware"]
TEMPLATES[0]["OPTIONS"]["context_processors"].append("network.context_processors.web")
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",  # /admin/ (username is the e-mail)
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_ADAPTER = "network.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
# Self sign-ups (the networks' join pages) must prove their address before they can log in.
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Affiliate Network] "
ACCOUNT_LOGOUT_REDIRECT_URL = "/accounts/login/"
# Failed logins per address and per e-mail (allauth's format: "N/period/ip,N/period/key"), and all logins per
# address; counted in the cache. The client address is read like the click redirect's (network.adapters).
ACCOUNT_RATE_LIMITS = {
    "login_failed": env.str("LOGIN_FAILED_RATE_LIMIT", default="10/m/ip,5/5m/key"),
    "login": env.str("LOGIN_RATE_LIMIT", default="30/m/ip"),
}
# A signed-in person may start a new network from the web (/start/network/) and becomes its owner. Off: networks
# are created with `manage.py bootstrap_network` only. On in the embedded default and the demo; a production
# installation (DEBUG off) opens it on purpose.
ALLOW_NETWORK_SIGNUP = env.bool("ALLOW_NETWORK_SIGNUP", default=DEBUG)
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
# Invitation links (set your password) stay valid this long.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3 * 24 * 3600)

# --- Conversions and outbound deliveries (tracking) ---------------------------------------
# A conversion this soon after its click is flagged "too_fast" (seconds).
CONVERSION_MIN_SECONDS_AFTER_CLICK = env.int("CONVERSION_MIN_SECONDS_AFTER_CLICK", default=10)
# A posted click id whose click is not ingested yet is attributed later if it is at most this old (seconds).
CLICK_INGEST_GRACE_SECONDS = env.int("CLICK_INGEST_GRACE_SECONDS", default=600)
# Outbound webhooks/postbacks: attempts in all, first retry delay (doubles each time), timeout per attempt.
OUTBOUND_MAX_ATTEMPTS = env.int("OUTBOUND_MAX_ATTEMPTS", default=5)
OUTBOUND_RETRY_BASE_SECONDS = env.int("OUTBOUND_RETRY_BASE_SECONDS", default=30)
OUTBOUND_TIMEOUT_SECONDS = env.float("OUTBOUND_TIMEOUT_SECONDS", default=10.0)
# Stripe Connect (payouts): the platform's secret key and the webhook endpoint's signing secret.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# Where the Stripe API is; only a local stand-in (fault drills, staging) changes it.
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="https://api.stripe.com")
# The platform account's country: an affiliate's Express account in another country is created with the
# recipient service agreement (it only receives transfers).
STRIPE_PLATFORM_COUNTRY = env.str("STRIPE_PLATFORM_COUNTRY", default="US").upper()

# --- Click tracking (the /c/<code> hot path and its queue) ------------------------------
# The click queue: a Redis Stream read by the ingester's consumer group. Empty: clicks are written directly.
# Sharded by network (tracking/click_queue.py): CLICK_QUEUE_SHARDS streams, shard 0 keeps the key CLICK_STREAM, shard
# i > 0 is CLICK_STREAM:i, each with its consumer group; shard i lives on CLICK_QUEUE_NODES[i % len] (Redis URLs;
# empty: every shard on CLICK_QUEUE_URL). An ingester reads CLICK_INGEST_SHARDS ("0,2,4-7"; empty: all).
CLICK_QUEUE_NODES = env.list("CLICK_QUEUE_NODES", default=[])
CLICK_QUEUE_URL = env.str("CLICK_QUEUE_URL", default=REDIS_URL) or (CLICK_QUEUE_NODES[0] if CLICK_QUEUE_NODES else "")
CLICK_STREAM = env.str("CLICK_STREAM", default="afn:clicks")
CLICK_QUEUE_SHARDS = env.int("CLICK_QUEUE_SHARDS", default=1)
if CLICK_QUEUE_SHARDS < 1:
    raise ImproperlyConfigured("CLICK_QUEUE_SHARDS must be 1 or more.")
CLICK_INGEST_SHARDS = env.str("CLICK_INGEST_SHARDS", default="")
# The minimal /c/ handler writes clicks to the stream in per-process batches (64 clicks or 2 ms; a process
# killed hard loses its unwritten batch); off: one XADD per click before answering.
CLICK_QUEUE_BUFFERED = env.bool("CLICK_QUEUE_BUFFERED", default=True)
# Same link and visitor hash within this many seconds: a duplicate click.
CLICK_DUPLICATE_WINDOW_SECONDS = env.int("CLICK_DUPLICATE_WINDOW_SECONDS", default=60)
CLICK_COOKIE_NAME = env.str("CLICK_COOKIE_NAME", default="afn_click")
# The postback's fast path prepares its statements once per PostgreSQL connection. Turn off behind a pooler in
# transaction mode that does not keep prepared statements (PgBouncer before 1.21).
POSTBACK_PREPARED_STATEMENTS = env.bool("POSTBACK_PREPARED_STATEMENTS", default=True)
# Reverse proxies in front of the app that append to X-Forwarded-For; 0 = use the socket address only.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
