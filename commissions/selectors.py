"""Reads for commissions, scoped to a network and to what a membership may see."""

from datetime import timedelta
from decimal import Decimal

import django_filters
from django.db.models import F, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.days import local_day_bounds
from core.filters import IdFilter
from core.money import quantize
from network.models import Affiliate, Membership, Network, User
from programs.models import Program
from tracking.models import Conversion

from .models import Commission


class CommissionFilter(django_filters.FilterSet):
    """status, program, affiliate, and created dates (inclusive, in the network's time zone)."""

    status = django_filters.ChoiceFilter(choices=Commission.Status.choices)
    kind = django_filters.ChoiceFilter(choices=Commission.Kind.choices)
    program = IdFilter(field_name="program_id")
    affiliate = IdFilter(field_name="affiliate_id")
    conversion = IdFilter(field_name="conversion_id")
    date_from = django_filters.DateFilter(method="filter_date_from")
    date_to = django_filters.DateFilter(method="filter_date_to")

    class Meta:
        model = Commission
        fields = ["status", "kind", "program", "affiliate", "conversion"]

    def _tz(self) -> str:
        view = self.request.parser_context.get("view") if self.request is not None else None
        return view.network.timezone if view is not None else "UTC"

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=local_day_bounds(value, tz=self._tz())[0])

    def filter_date_to(self, queryset, name, value):
        return queryset.filter(created_at__lt=local_day_bounds(value, tz=self._tz())[1])


def payable_commissions(*, network, affiliate, currency) -> QuerySet:
    """Approved commissions of an affiliate in one currency: what a payout batch marks paid."""
    return Commission.objects.for_network(network).filter(
        affiliate=affiliate, currency=currency, status=Commission.Status.APPROVED
    ).order_by("pk")


def conversions_without_commissions(*, days: int, settle_seconds: int = 120) -> tuple[list[int], list[int]]:
    """Attributed conversions of the last `days` days (older than `settle_seconds`, so a kick still in flight
    is not raced) that have no commission: the catch-up's work. Includes those no rule pays; computing them
    again writes nothing. Across networks (the beat's sweep): the conversion ids and, in step, their networks."""
    now = timezone.now()
    rows = list(
        Conversion.objects.filter(created_at__gte=now - timedelta(days=days),
                                  created_at__lt=now - timedelta(seconds=settle_seconds),
                                  affiliate__isnull=False, attribution_pending=False, commissions__isnull=True)
        .order_by("pk").values_list("pk", "network_id")
    )
    return [pk for pk, _ in rows], [network_id for _, network_id in rows]


def commissions_of_conversion(*, network, conversion: Conversion) -> QuerySet:
    """A conversion's commissions (the affiliate's, then the second tier's), for the one who sees the conversion."""
    return (Commission.objects.for_network(network).filter(conversion=conversion)
            .select_related("affiliate").order_by("tier"))


# Second-tier (referral) commissions that count as earned: the rejected never were; reversals are netted.
_REFERRAL_BUCKETS = {
    Commission.Status.PENDING: "pending", Commission.Status.ON_HOLD: "pending",
    Commission.Status.APPROVED: "approved", Commission.Status.PAID: "paid", Commission.Status.REVERSED: "approved",
}


def referral_earnings(*, network, affiliate) -> dict:
    """What `affiliate` earned as a referrer (tier-2 commissions, net of reversals), in one query:
    `{"totals": [{currency, pending, approved, paid, total}], "by_referral": {affiliate_id: {currency: amount}}}`.
    A fully reversed commission nets to zero, so it adds nothing."""
    rows = (Commission.objects.for_network(network).filter(affiliate=affiliate, tier=2)
            .exclude(status=Commission.Status.REJECTED)
            .annotate(referral_id=Coalesce("parent__affiliate_id", "adjusts__parent__affiliate_id"))
            .values("currency", "status", "referral_id")
            .annotate(net=Sum(F("amount") - F("reversed_amount"))).order_by())
    totals: dict[str, dict] = {}
    by_referral: dict[int, dict] = {}
    zero = Decimal(0)
    for row in rows:
        currency, net = row["currency"], row["net"] or zero
        total = totals.setdefault(currency, {"currency": currency, "pending": zero, "approved": zero, "paid": zero})
        bucket = _REFERRAL_BUCKETS.get(row["status"], "approved")
        total[bucket] += net
        if row["referral_id"] is not None:
            per = by_referral.setdefault(row["referral_id"], {})
            per[currency] = per.get(currency, zero) + net
    result = []
    for currency, total in sorted(totals.items()):
        row = {key: (value if key == "currency" else quantize(value, currency)) for key, value in total.items()}
        row["total"] = row["pending"] + row["approved"] + row["paid"]
        result.append(row)
    return {"totals": result, "by_referral": {
        pk: sorted((currency, quantize(amount, currency)) for currency, amount in per.items())
        for pk, per in by_referral.items()}}


# What an e-mail prints of a commission, and of the instances it shares with others (read in the same statement):
# {relation path: (model, {column of the statement: the model's attribute})}.
_EMAIL_FIELDS = ("id", "network_id", "currency", "amount", "reversed_amount", "reason", "conversion_id", "kind",
                 "adjusts_id", "program_id", "affiliate_id")
_EMAIL_RELATED = {
    "conversion": (Conversion, {"conversion_id": "id", "conversion__order_id": "order_id"}),
    "network": (Network, {"network_id": "id", "network__slug": "slug", "network__language": "language"}),
    "program": (Program, {"program_id": "id", "program__name": "name"}),
    "affiliate": (Affiliate, {"affiliate_id": "id", "affiliate__name": "name", "affiliate__email": "email",
                              "affiliate__membership_id": "membership_id"}),
    "affiliate.membership": (Membership, {"affiliate__membership_id": "id",
                                          "affiliate__membership__user_id": "user_id"}),
    "affiliate.membership.user": (User, {"affiliate__membership__user_id": "id",
                                         "affiliate__membership__user__language": "language"}),
}


def _reader(model, positions: dict[str, int]):
    """(attnames in the model's field order, their positions in a row): what `from_db` takes to build an instance
    as `only(*attnames)` reads it, the other fields deferred."""
    names = [field.attname for field in model._meta.concrete_fields if field.attname in positions]
    return names, [positions[name] for name in names]


def commissions_to_email(*, network_ids: list[int], ids: list[int]) -> dict[int, Commission]:
    """The commissions an e-mail batch names, by id, with what their e-mails print (recipient, language, program,
    network, order id), in one statement on their networks (one, unless a task queued before it named the network
    had its networks read by id). An affiliate, program or network is one instance shared by its commissions (a
    batch names thousands of commissions of a few of each); fields not read load on access, as with `only`."""
    columns = list(dict.fromkeys([*_EMAIL_FIELDS, *(c for _m, names in _EMAIL_RELATED.values() for c in names)]))
    position = {column: n for n, column in enumerate(columns)}
    own_names, own_at = _reader(Commission, {name: position[name] for name in _EMAIL_FIELDS})
    related = []
    for path, (model, names) in _EMAIL_RELATED.items():
        *parents, relation = path.split(".")
        related.append((path, model, position[next(iter(names))], parents, relation,
                        *_reader(model, {attname: position[column] for column, attname in names.items()})))
    rows = (Commission.objects.filter(network_id__in=network_ids, pk__in=ids).order_by()
            .values_list(*columns))
    db = rows.db
    shared: dict[tuple, object] = {}
    found = {}
    for row in rows:
        commission = Commission.from_db(db, own_names, [row[n] for n in own_at])
        for path, model, pk_at, parents, relation, names, at in related:
            pk = row[pk_at]
            if pk is None:
                continue
            instance = shared.get((path, pk))
            if instance is None:
                instance = shared[path, pk] = model.from_db(db, names, [row[n] for n in at])
            owner = commission
            for parent in parents:
                owner = owner._state.fields_cache[parent]
            owner._state.fields_cache[relation] = instance  # what assigning the relation caches
        found[commission.pk] = commission
    return found
