"""What the operator's page of one advertiser or affiliate shows beside its profile: all-time figures from the
per-partnership day tables (clicks, conversions, sales, cost, payout per currency), commission sums by status,
and the audit entries about the party. Every query is scoped to the party's network."""

from collections import defaultdict
from decimal import Decimal

from django.db.models import F, Q, Sum

from commissions.models import Commission, CommissionDay
from core.money import quantize
from network import daily
from network.models import Advertiser, Affiliate, AuditLog
from programs.models import Program
from tracking.models import ClickDay, ConversionDay


def _party_filter(party) -> dict:
    return {"advertiser_id": party.pk} if isinstance(party, Advertiser) else {"affiliate_id": party.pk}


def _sums(model, party, *names: str, by_currency: bool = True) -> list[dict]:
    """The party's rows of a day table's per-partnership projection and its changes not folded in yet (as the
    reports read them), summed (per currency)."""
    rows = []
    for table in daily.with_changes(model, by_partnership=True):
        queryset = table.objects.for_network(party.network_id).filter(**_party_filter(party)).order_by()
        if by_currency:
            rows += queryset.values("currency").annotate(**{name: Sum(name) for name in names})
        else:
            rows.append(queryset.aggregate(**{name: Sum(name) for name in names}))
    return rows


def party_statistics(party) -> dict:
    """{clicks, unique_clicks, conversions, money: [{currency, sales, revenue, payout}]} of all time. An
    affiliate's conversions are its attributed ones; an advertiser's include the unattributed (program 0)."""
    clicks = {"clicks": 0, "unique_clicks": 0}
    for row in _sums(ClickDay, party, "clicks", "unique_clicks", by_currency=False):
        for name in clicks:
            clicks[name] += row[name] or 0
    money: dict[str, dict] = defaultdict(lambda: {"sales": Decimal(0), "revenue": Decimal(0), "payout": Decimal(0)})
    conversions = 0
    for row in _sums(ConversionDay, party, "conversions", "sales"):
        conversions += row["conversions"] or 0
        money[row["currency"]]["sales"] += row["sales"] or 0
    for row in _sums(CommissionDay, party, "revenue", "payout"):
        money[row["currency"]]["revenue"] += row["revenue"] or 0
        money[row["currency"]]["payout"] += row["payout"] or 0
    return {
        **clicks, "conversions": conversions,
        "money": [{"currency": currency, **{name: quantize(value, currency) + 0 for name, value in sums.items()}}
                  for currency, sums in sorted(money.items())],
    }


def commission_totals(party) -> list[dict]:
    """[{status, label, currency, amount, revenue}]: the party's commissions net of reversals, by status."""
    rows = (Commission.objects.for_network(party.network_id).filter(**_party_filter(party)).order_by()
            .values("status", "currency")
            .annotate(amount=Sum(F("amount") - F("reversed_amount")),
                      revenue=Sum(F("revenue") - F("reversed_revenue"))))
    labels = dict(Commission.Status.choices)
    order = list(labels)
    return [{"status": row["status"], "label": labels.get(row["status"], row["status"]), "currency": row["currency"],
             "amount": quantize(row["amount"] or 0, row["currency"]),
             "revenue": quantize(row["revenue"] or 0, row["currency"])}
            for row in sorted(rows, key=lambda r: (order.index(r["status"]) if r["status"] in order else 99,
                                                   r["currency"]))]


def party_audit(party):
    """The audit entries about the party: those targeting it (and an advertiser's programs), or done by its user."""
    about = Q(target_type=party._meta.label_lower, target_id=str(party.pk))
    if isinstance(party, Advertiser):
        programs = Program.objects.for_network(party.network_id).filter(advertiser=party).values_list("pk", flat=True)
        about |= Q(target_type=Program._meta.label_lower, target_id__in=[str(pk) for pk in programs])
    user_id = party.membership.user_id if party.membership_id else None
    if user_id is not None:
        about |= Q(actor_id=user_id)
    return AuditLog.objects.for_network(party.network_id).filter(about).select_related("actor")


def affiliate_referrals(affiliate: Affiliate):
    """The affiliates this one referred (the network's join page with its `?ref=`), newest first."""
    return (Affiliate.objects.for_network(affiliate.network_id).filter(referred_by=affiliate)
            .order_by("-created_at", "-id"))
