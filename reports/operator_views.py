"""The operator's report page (its own numbers only: the selector scopes by membership)."""

from network.permissions import OPERATORS

from .web import ReportPage


class ReportsView(ReportPage):
    roles = OPERATORS
    template_name = "operator/reports_index.html"
