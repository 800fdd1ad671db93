"""WSGI entry point. Two hot paths are served before Django's middleware stack: /c/<code> (the click redirect)
and the common shape of POST /api/v1/conversions (the conversion postback's fast path)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()

from tracking.postback_fast import FastPostbackMiddleware  # noqa: E402  (needs the settings configured above)
from tracking.redirect import wsgi_dispatch  # noqa: E402

application = wsgi_dispatch(FastPostbackMiddleware(django_application))
