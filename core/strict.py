"""The API's input held to what its schema says, for every endpoint at once (installed by `CoreConfig.ready`, so new
endpoints inherit it):

- Text fields take JSON strings only (`type: string`). DRF's CharField turns a number into its digits (`{"name":
  12}` is the name "12"), so a client that sends the wrong type is never told. CharField and its subclasses
  (e-mail, URL, slug, regex, IP address) refuse a number, a boolean, a list or an object with "Not a valid string."
  Form and query-string input is always text, so only JSON bodies can tell.
- A filter on a foreign key (`?program=12`, from a FilterSet's `Meta.fields`) is an id filter (`core.filters.
  IdFilter`: a whole number from 1 up, documented so): django-filter's default answers 400 "Select a valid choice"
  for an id that exists in no network, and filters by one that exists in another, which tells one from the other.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

NOT_A_STRING = _("Not a valid string.")
_installed = False


def install_strict_input() -> None:
    global _installed
    if _installed:
        return
    lenient = serializers.CharField.to_internal_value

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError(NOT_A_STRING, code="invalid")
        return lenient(self, data)

    serializers.CharField.to_internal_value = to_internal_value
    _filter_foreign_keys_by_id()
    _installed = True


def _filter_foreign_keys_by_id() -> None:
    from django.db import models
    from django_filters import rest_framework
    from django_filters.filterset import FILTER_FOR_DBFIELD_DEFAULTS

    from .filters import IdFilter

    # django-filter's own defaults, and the copy its DRF FilterSet (what `filterset_fields` builds on) keeps.
    for defaults in (FILTER_FOR_DBFIELD_DEFAULTS, rest_framework.FilterSet.FILTER_DEFAULTS):
        for field_class in (models.ForeignKey, models.OneToOneField):
            defaults[field_class] = {"filter_class": IdFilter}
