"""WSGI entry point. Two hot paths are served before Django's middleware stack: /c/<code> (the click redirect)
and the common shape of POST /api/v1/conversions (the conversion postback's fast path)."""
import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()

from core import embedded  # noqa: E402
from tracking import targeting  # noqa: E402
from tracking.postback_fast import FastPostbackMiddleware  # noqa: E402  (needs the settings configured above)
from tracking.redirect import wsgi_dispatch  # noqa: E402

application = wsgi_dispatch(FastPostbackMiddleware(django_application))
embedded.start()  # the embedded default's recovery jobs (no beat without a broker); a no-op otherwise
targeting.warm()  # the country table and the user-agent rules, loaded before the first click needs them

# Everything loaded so far lives as long as the process: out of the garbage collector's sight, an old-generation
# collection no longer walks Django's hundreds of thousands of objects (a pause of milliseconds in the
# redirect's tail latency).
gc.collect()
gc.freeze()
