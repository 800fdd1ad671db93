"""WSGI entry point. /c/<code> (the click redirect) is served before Django's middleware stack."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()

from tracking.redirect import wsgi_dispatch  # noqa: E402  (needs the settings configured above)

application = wsgi_dispatch(django_application)
