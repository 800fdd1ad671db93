"""The click hot path's settings, read once per process instead of once per access.

`settings.X` goes through Django's lazy settings object (about half a microsecond a read, six reads a click).
`conf()` returns a plain snapshot, rebuilt when a setting changes (override_settings in tests).
"""

from types import SimpleNamespace

from django.conf import settings
from django.core.signals import setting_changed

_NAMES = ("CLICK_COOKIE_NAME", "CLICK_QUEUE_BUFFERED", "CLICK_QUEUE_NODES", "CLICK_QUEUE_SHARDS", "CLICK_QUEUE_URL",
          "CLICK_STREAM", "IP_HASH_KEY", "SECURE_PROXY_SSL_HEADER", "TRUSTED_PROXY_COUNT")
_snapshot: SimpleNamespace | None = None


def conf() -> SimpleNamespace:
    global _snapshot
    if _snapshot is None:
        _snapshot = SimpleNamespace(**{name: getattr(settings, name) for name in _NAMES})
    return _snapshot


def _forget(*, setting, **kwargs) -> None:
    global _snapshot
    if setting in _NAMES:
        _snapshot = None


setting_changed.connect(_forget, dispatch_uid="tracking.hotconf")
