"""The partner's report page (its own numbers only: the selector scopes by membership)."""

from network.models import Role

from .web import ReportPage


class ReportsView(ReportPage):
    roles = frozenset({Role.AFFILIATE})
    template_name = "partner/reports_index.html"
