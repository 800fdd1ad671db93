from django.urls import re_path

from . import api

urlpatterns = [re_path(r"^reports/?$", api.ReportView.as_view(), name="reports")]
