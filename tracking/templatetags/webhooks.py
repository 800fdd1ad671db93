"""How a webhook endpoint's subscription reads on a page: "Every event" for `*`, else the event names."""

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def webhook_events(events) -> str:
    events = list(events or [])
    if "*" in events:
        return _("Every event")
    return ", ".join(events)
