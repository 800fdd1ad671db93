"""The advertiser's report page (its own numbers only: the selector scopes by membership)."""

from network.models import Role

from .web import ReportPage


class ReportsView(ReportPage):
    roles = frozenset({Role.ADVERTISER})
    template_name = "advertiser/reports_index.html"
