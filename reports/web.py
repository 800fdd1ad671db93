"""The report page shared by the three parties: filters -> the same selector the API uses -> table, chart
(fed by the JSON API) and CSV link. htmx requests get the panel only."""

from urllib.parse import urlencode

from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from rest_framework.exceptions import ValidationError

from network.models import Affiliate, Role
from network.web import NetworkPageMixin, is_htmx
from programs.models import Program

from .api import build_query
from .selectors import GROUPS, TIME_GROUPS, columns_for, currencies_for, rate_percent, report

PARAMS = ("group_by", "date_from", "date_to", "program", "affiliate", "currency")
GROUP_LABELS = {"day": _("Day"), "week": _("Week"), "month": _("Month"), "program": _("Program"),
                "affiliate": _("Affiliate"), "sub1": _("Sub ID 1"), "sub2": _("Sub ID 2"), "sub3": _("Sub ID 3"),
                "sub4": _("Sub ID 4"), "sub5": _("Sub ID 5"), "country": _("Country")}
# One word a thing on every page: "sales" is what the customers paid, "cost" what the advertiser pays (the API's
# `revenue`: the network's revenue), "payout" what the affiliate earns.
COLUMN_LABELS = {"clicks": _("Clicks"), "unique_clicks": _("Unique clicks"), "conversions": _("Conversions"),
                 "sales": _("Sales"), "revenue": _("Cost"), "payout": _("Payout"), "profit": _("Profit"),
                 "conversion_rate": _("Conv. rate"), "epc": _("EPC")}
MONEY_COLUMNS = {"sales", "revenue", "payout", "profit", "epc"}
CHART_METRIC = {Role.AFFILIATE: "payout", Role.ADVERTISER: "sales"}


def _cells(row: dict, columns: list[str]) -> list[tuple]:
    """(value, is money, column) per column; the conversion rate shown as a percentage."""
    cells = []
    for name in columns:
        value = row[name]
        if name == "conversion_rate" and value is not None:
            value = f"{rate_percent(value, 2)} %"
        cells.append((value, name in MONEY_COLUMNS, name))
    return cells


def _party_link(role: str, group_by: str, key) -> str | None:
    """An operator's row of one affiliate links the affiliate's page."""
    if role == "operator" and group_by == "affiliate" and isinstance(key, int) and key:
        return reverse("operator_affiliate", kwargs={"pk": key})
    return None


class ReportPage(NetworkPageMixin, TemplateView):
    """Subclasses set `roles` and `template_name` (the party's page extending its base layout)."""

    panel_template = "includes/report_panel.html"

    def get(self, request, *args, **kwargs):
        context = self.get_context_data(**kwargs)
        if is_htmx(request):
            return render(request, self.panel_template, context)
        return self.render_to_response(context)

    def get_context_data(self, **kwargs):
        params = {name: self.request.GET[name] for name in PARAMS if self.request.GET.get(name)}
        role = "operator" if self.membership.is_operator else self.membership.role
        errors, data, query = {}, None, None
        try:
            query = build_query(params=params, network=self.network, membership=self.membership)
            data = report(query)
        except ValidationError as exc:
            errors = dict(exc.detail)
        columns = columns_for(role)
        if query is not None:
            params = {"group_by": query.group_by, "date_from": query.date_from.isoformat(),
                      "date_to": query.date_to.isoformat(), "currency": query.currency,
                      **{k: v for k, v in params.items() if k in ("program", "affiliate")}}
        table = total = None
        if data is not None:
            table = [(row["label"], _cells(row, columns), _party_link(role, query.group_by, row["key"]))
                     for row in data["rows"]]
            total = _cells(data["totals"], columns)
        api_url = reverse("reports")
        return super().get_context_data(
            report=data, table=table, total=total, errors=errors, params=params,
            columns=[(c, COLUMN_LABELS[c], c in MONEY_COLUMNS) for c in columns],
            groups=[(g, GROUP_LABELS[g]) for g in GROUPS if not (g == "affiliate" and role == Role.AFFILIATE)],
            programs=self.scoped(Program).visible_to(self.membership).order_by("name"),
            affiliates=(self.scoped(Affiliate).visible_to(self.membership).order_by("name")
                        if role != Role.AFFILIATE else None),
            currencies=currencies_for(network=self.network, membership=self.membership),
            is_time=params.get("group_by", "day") in TIME_GROUPS,
            chart_metric=CHART_METRIC.get(role, "revenue"),
            chart_metric_label=COLUMN_LABELS[CHART_METRIC.get(role, "revenue")],
            group_label=GROUP_LABELS.get(params.get("group_by", "day"), GROUP_LABELS["day"]),
            json_url=f"{api_url}?{urlencode(params)}", csv_url=f"{api_url}?{urlencode({**params, 'format': 'csv'})}",
            page_url=self.request.path, **kwargs)
