"""The visitor-facing click redirect (/c/<code>). Production serves it before Django (config.wsgi);
this route serves it through Django (tests, runserver)."""

from django.urls import re_path

from tracking.redirect import redirect_view

urlpatterns = [re_path(r"^c/(?P<code>[^/]*)/?$", redirect_view, name="click-redirect")]
