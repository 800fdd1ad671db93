"""ASGI entry point. /c/<code> (the click redirect) is served before Django's middleware stack."""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_asgi_application()

from core import embedded  # noqa: E402
from tracking import targeting  # noqa: E402
from tracking.redirect import asgi_dispatch  # noqa: E402  (needs the settings configured above)

application = asgi_dispatch(django_application)
embedded.start()  # the embedded default's recovery jobs (no beat without a broker); a no-op otherwise
targeting.warm()  # the country table and the user-agent rules, loaded before the first click needs them
