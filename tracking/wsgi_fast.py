"""The WSGI application with the postback fast path in front of Django's middleware stack.

`granian --interface wsgi tracking.wsgi_fast:application`; or wire `FastPostbackMiddleware` into
`config/wsgi.py` (the same one line).
"""

from config.wsgi import application as django_application

from .postback_fast import FastPostbackMiddleware

application = FastPostbackMiddleware(django_application)
