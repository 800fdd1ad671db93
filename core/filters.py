"""Shared django-filter filters for the API."""

import django_filters
from django import forms
from drf_spectacular.utils import OpenApiParameter, extend_schema_field

MAX_ID = 2**63 - 1
# An object id as the schema documents it: what the filters and `core.api.id_param` accept, no more, no less.
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


REQUIRED_FOR_ROLES = "x-required-for-roles"


def id_parameter(name: str, description: str = "", *, required_for=()) -> OpenApiParameter:
    """A query parameter that names an object by id (`?affiliate=12`), documented with the bounds it is held to.
    `required_for`: the roles whose keys must send it (OpenAPI has no role-dependent `required`): listed in the
    description for people and under `x-required-for-roles` for tools (the schema fuzz test reads it)."""
    extensions = None
    if required_for:
        roles = sorted(str(role) for role in required_for)
        description = f"{description} Required for {' and '.join(roles)} keys (400 without it).".strip()
        extensions = {REQUIRED_FOR_ROLES: roles}
    return OpenApiParameter(name, dict(ID_SCHEMA), OpenApiParameter.QUERY, description=description,
                            extensions=extensions)


@extend_schema_field(ID_SCHEMA)
class IdFilter(django_filters.NumberFilter):
    """An object id: a whole number from 1 up (django-filter's NumberFilter takes decimals such as 1e308, which
    reach the database as integers too large for any column)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)
