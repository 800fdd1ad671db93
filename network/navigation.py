"""The navigation of each party's pages: one list per section, which any app may extend.

Sections: "operator" (owner, staff), "advertiser", "partner" (affiliate). An app adds its pages
in its `AppConfig.ready()` (or at import of its web URL module)::

    from network import navigation
    navigation.register("advertiser", _("Programs"), "advertiser_programs", order=20)

Items are sorted by `order` (the overview is 0; network's own pages use 10-90 and 900+, so
other apps fit in between), and registering the same `url_name` twice keeps one. `roles`
narrows an item to some roles of the section (e.g. owner-only pages). The base layout of
each party renders the list; an item is marked current when the path starts with its URL.
"""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .models import Role

SECTION_OF_ROLE = {
    Role.OWNER: "operator",
    Role.STAFF: "operator",
    Role.ADVERTISER: "advertiser",
    Role.AFFILIATE: "partner",
}
SECTIONS = ("operator", "advertiser", "partner")
# Each section's name as its pages' layouts show it (the nav's label names it too).
SECTION_LABELS = {"operator": _("Network operator"), "advertiser": _("Advertiser"), "partner": _("Partner portal")}


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    order: int = 100
    roles: frozenset | None = None


_items: dict[str, dict[str, NavItem]] = {section: {} for section in SECTIONS}


def register(section: str, label: str, url_name: str, *, order: int = 100, roles=None) -> None:
    if section not in _items:
        raise ValueError(f"Unknown section '{section}'; one of {', '.join(SECTIONS)}.")
    _items[section][url_name] = NavItem(label, url_name, order, frozenset(roles) if roles else None)


def section_for(role: str) -> str:
    return SECTION_OF_ROLE[role]


def items_for(*, role: str, path: str) -> list[dict]:
    """The nav entries a role sees, with their URLs and which one is current."""
    entries = []
    items = sorted(_items[section_for(role)].values(), key=lambda item: (item.order, str(item.label)))
    for item in items:
        if item.roles is not None and role not in item.roles:
            continue
        url = reverse(item.url_name)
        # The label in the page's language (registered with gettext_lazy; a plain string shows as written).
        entries.append({"label": str(item.label), "url": url, "url_name": item.url_name})
    # The longest matching URL is current, so the overview ("/operator/") is not always lit.
    current = max((e for e in entries if path.startswith(e["url"])), key=lambda e: len(e["url"]), default=None)
    for entry in entries:
        entry["current"] = entry is current
    return entries


# The network app's own pages.
register("operator", _("Overview"), "operator_dashboard", order=0)
register("operator", _("Advertisers"), "operator_advertisers", order=10)
register("operator", _("Affiliates"), "operator_affiliates", order=20)
register("operator", _("Announcements"), "operator_announcements", order=900)
register("operator", _("Staff"), "operator_staff", order=910)
register("operator", _("Settings"), "operator_settings", order=920)
register("operator", _("Audit log"), "operator_audit", order=930)
register("advertiser", _("Overview"), "advertiser_dashboard", order=0)
register("advertiser", _("Integration"), "advertiser_integration", order=900)
register("partner", _("Overview"), "partner_dashboard", order=0)
register("partner", _("Announcements"), "partner_announcements", order=800)
register("partner", _("API keys"), "partner_integration", order=900)


# --- Overview widgets: other apps add panels to a party's overview without the network app importing them.
@dataclass(frozen=True)
class Widget:
    template: str
    context: object  # callable(view) -> dict, rendered as `widget` inside the template
    order: int = 100


_widgets: dict[str, dict[str, Widget]] = {section: {} for section in SECTIONS}


def register_widget(section: str, name: str, *, template: str, context, order: int = 100) -> None:
    """Add a panel to a section's overview (registering a name twice keeps the last)."""
    if section not in _widgets:
        raise ValueError(f"Unknown section '{section}'; one of {', '.join(SECTIONS)}.")
    _widgets[section][name] = Widget(template, context, order)


def widgets_for(section: str, view) -> list[dict]:
    """The section's overview panels, each as {"template", "context"}, computed for this page view."""
    widgets = sorted(_widgets[section].values(), key=lambda widget: widget.order)
    return [{"template": widget.template, "context": widget.context(view)} for widget in widgets]
