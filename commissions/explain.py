"""Why a commission is what it is, for the party reading it: the click, the attribution, the rule that won, the
tier, the calculation, adjustments and reversals, and the status history with who acted.

`commission_explanation` is the one place that builds it (the API's `explanation` and the three web pages);
what each party may see is decided here: an affiliate never sees revenue or margin, an advertiser never sees the
margin (nor the payout when the network keeps one), only operators see the click's technical details.
"""

import zoneinfo
from datetime import datetime
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext, pgettext_lazy

from core.money import format_amount, quantize
from core.words import reason_shown
from network.models import AuditLog, Membership, Role
from programs.models import CommissionRule, tier_level, tier_threshold
from programs.selectors import link_url
from tracking.attribution import within_window
from tracking.fraud_words import off_target_sentence
from tracking.fraud_words import title as signal_title
from tracking.models import Click, Conversion

from .caps import cap_words
from .explain_items import item_lines, items_formula
from .models import Commission
from .reversals import trued_down
from .rules import first_attributed_conversion, plain

AFFILIATE, ADVERTISER, OPERATOR = "affiliate", "advertiser", "operator"
PARTIES = (AFFILIATE, ADVERTISER, OPERATOR)
SUBS = ("sub1", "sub2", "sub3", "sub4", "sub5")
HUNDRED = Decimal(100)
MEASURE_LABELS = {"conversions_day": _lazy("conversions today"), "conversions_month": _lazy("conversions this month"),
                  "payout_month": _lazy("payout this month")}


def party_for(membership: Membership) -> str:
    """The explanation's reader for a membership: operators, the advertiser, or the affiliate."""
    if membership.is_operator:
        return OPERATOR
    return ADVERTISER if membership.role == Role.ADVERTISER else AFFILIATE


def commission_explanation(commission: Commission, *, party: str) -> dict:
    """The explanation of one commission for `party` (affiliate, advertiser or operator), as plain values:
    money as strings quantized to the currency, times as aware datetimes in the network's time zone."""
    if party not in PARTIES:
        raise ValueError(f"Unknown party {party!r}.")
    network = commission.network
    tz = zoneinfo.ZoneInfo(network.timezone)
    conversion = commission.conversion
    # A second-tier override pays on another affiliate's sale: its affiliate sees none of that sale's details.
    foreign_sale = party == AFFILIATE and commission.tier == 2
    shows_payout = party != ADVERTISER or commission.amount == commission.revenue
    shows_revenue = party != AFFILIATE
    body = {
        "party": party,
        "timezone": network.timezone,
        "commission": _summary(commission, party, tz, shows_payout, shows_revenue),
        "click": None if foreign_sale or conversion is None else _click(commission, conversion, party, tz),
        "attribution": None if foreign_sale or conversion is None else _attribution(conversion, party, tz),
        "rule": _rule(commission, party, shows_payout),
        "tier": _tier(commission, shows_payout),
        "cap": _cap(commission, tz),
        "items": item_lines(commission, shows_payout=shows_payout, shows_revenue=shows_revenue),
        "calculation": _calculation(commission, party, shows_payout, shows_revenue),
        "adjustments": _adjustments(commission, tz, shows_payout, shows_revenue),
        "order_changes": _order_changes(commission, tz, shows_payout, shows_revenue, foreign_sale),
        "period_retrues": _period_retrues(commission, tz, shows_payout, shows_revenue, foreign_sale),
        "reversals": _reversals(commission, party, tz, shows_payout, shows_revenue),
        "history": _history(commission, party, tz),
    }
    return body


# --- helpers ---------------------------------------------------------------------------------------------------
def _money(amount, currency: str) -> str:
    return str(quantize(Decimal(amount), currency))


def _show(amount, currency: str) -> str:
    return format_amount(Decimal(amount), currency)


def _local(moment: datetime | None, tz) -> datetime | None:
    return moment.astimezone(tz) if moment is not None else None


def _summary(c: Commission, party: str, tz, shows_payout: bool, shows_revenue: bool) -> dict:
    cur = c.currency
    data = {
        "id": c.pk, "kind": c.kind, "kind_label": c.get_kind_display(), "tier": c.tier, "status": c.status,
        "status_label": c.get_status_display(), "currency": cur, "created_at": _local(c.created_at, tz),
        "hold_until": _local(c.hold_until, tz), "reason": c.reason, "parent": c.parent_id,
        "program": {"id": c.program_id, "name": c.program.name},
        "advertiser": {"id": c.advertiser_id, "name": c.advertiser.name},
        "order_id": c.conversion.order_id if c.conversion_id and not (party == AFFILIATE and c.tier == 2) else "",
    }
    if party != AFFILIATE:
        data["affiliate"] = {"id": c.affiliate_id, "name": c.affiliate.name}
    if getattr(c, "adjusts_id", None):  # a tier true-up: the commission it adjusts
        data["adjusts"] = c.adjusts_id
    if shows_payout:
        data["amount"] = _money(c.amount, cur)
        data["remaining_amount"] = _money(c.remaining_amount, cur)
    if shows_revenue:
        data["revenue"] = _money(c.revenue, cur)
        data["remaining_revenue"] = _money(c.remaining_revenue, cur)
    if party == OPERATOR:
        data["margin"] = _money(c.remaining_revenue - c.remaining_amount, cur)
    return data


# --- the click and the attribution -------------------------------------------------------------------------------
def _click(c: Commission, conversion: Conversion, party: str, tz) -> dict | None:
    """The click the conversion came through: the stored row when retention kept it, else what the conversion
    copied from it (time, sub IDs, country)."""
    if not conversion.click_id and conversion.link_id is None:
        return None
    click = None
    # A first-click program's conversion came through the visitor's first click, not the one the order reported.
    click_id = conversion.first_click_id or conversion.click_id
    if click_id:
        click = Click.objects.for_network(c.network_id).filter(click_id=click_id).first()
    source = click or conversion
    link = conversion.link
    signals = []
    if click is not None:
        if click.is_bot:
            signals.append("bot")
        if not click.is_unique:
            signals.append("duplicate_click")
        if click.off_target:
            signals.append("off_target")
    data = {
        "click_id": click_id,
        "reported_click_id": conversion.click_id,
        "stored": click is not None,
        "clicked_at": _local(click.created_at if click is not None else conversion.clicked_at, tz),
        "link": None if link is None else {
            "id": link.pk, "code": link.code, "url": link_url(link), "destination_url": link.destination_url,
        },
        "sub_ids": {name: getattr(source, name) for name in SUBS if getattr(source, name)},
        "country": source.country,
        "signals": signals,
    }
    if party == OPERATOR and click is not None:
        data.update(user_agent=click.user_agent, referrer=click.referrer, ip_truncated=click.ip_truncated)
    return data


def _attribution(conversion: Conversion, party: str, tz) -> dict:
    program = conversion.program
    window = program.attribution_window_days if program is not None else None
    method = conversion.attribution
    data = {
        "method": method, "method_label": conversion.get_attribution_display(), "conversion": conversion.pk,
        "order_id": conversion.order_id, "converted_at": _local(conversion.created_at, tz),
        "window_days": window, "status": conversion.status, "fraud_signals": list(conversion.fraud_signals or []),
    }
    off_target = next((d for d in conversion.signal_details or [] if d.get("code") == "off_target"), None)
    if off_target is not None:
        data["off_target"] = {"reason": off_target.get("reason", ""), "text": off_target_sentence(off_target)}
    if method == Conversion.Attribution.CLICK:
        clicked = conversion.clicked_at
        inside = window is not None and clicked is not None and within_window(clicked, window, conversion.created_at)
        data["within_window"] = inside if clicked is not None else None
        data["model"] = program.attribution_model if program is not None else "last_click"
        if clicked is not None and conversion.first_click_id:
            data["seconds_after_click"] = max(int((conversion.created_at - clicked).total_seconds()), 0)
            data["reason"] = _(
                "The order reported click id %(reported)s, but the program credits the visitor's first click within "
                "its %(days)s-day attribution window (first click wins): %(click)s, %(delay)s before the sale.") % {
                "reported": conversion.click_id, "click": conversion.first_click_id,
                "delay": _duration(data["seconds_after_click"]), "days": window}
        elif clicked is not None and data["model"] == "first_click":
            data["seconds_after_click"] = max(int((conversion.created_at - clicked).total_seconds()), 0)
            data["reason"] = _(
                "The order reported click id %(click)s; the click was %(delay)s before the sale, within the "
                "program's %(days)s-day attribution window, and the visitor's first click on the program in it "
                "(first click wins).") % {
                "click": conversion.click_id, "delay": _duration(data["seconds_after_click"]), "days": window}
        elif clicked is not None:
            data["seconds_after_click"] = max(int((conversion.created_at - clicked).total_seconds()), 0)
            data["reason"] = _(
                "The order reported click id %(click)s; the click was %(delay)s before the sale, within the "
                "program's %(days)s-day attribution window (last click wins).") % {
                "click": conversion.click_id, "delay": _duration(data["seconds_after_click"]), "days": window}
        elif conversion.click_id:
            data["reason"] = _("The order reported click id %(click)s of this affiliate's link (last click "
                               "wins).") % {"click": conversion.click_id}
        else:
            data["reason"] = _("Attributed to this affiliate's tracking link%(code)s.") % {
                "code": f" {conversion.link.code}" if conversion.link_id else ""}
    elif method == Conversion.Attribution.COUPON:
        code = conversion.coupon.code if conversion.coupon_id else ""
        data["coupon"] = code
        data["reason"] = _("The order used coupon code %(code)s, which belongs to this affiliate.") % {"code": code}
    elif method == Conversion.Attribution.CUSTOMER:
        first = first_attributed_conversion(conversion)
        data["first_conversion_at"] = _local(first.created_at, tz) if first is not None else None
        if party != AFFILIATE:
            data["customer_id"] = conversion.customer_id
        data["reason"] = _(
            "A renewal by a known customer whose first order (%(first)s) this affiliate brought; recurring "
            "commissions follow the customer.") % {
            "first": data["first_conversion_at"].strftime("%Y-%m-%d") if first is not None else _("unknown")}
    else:
        data["reason"] = _("Not attributed to an affiliate.")
    return data


def _duration(seconds: int) -> str:
    if seconds < 120:
        return ngettext("%(n)s second", "%(n)s seconds", seconds) % {"n": seconds}
    if seconds < 7200:
        return ngettext("%(n)s minute", "%(n)s minutes", seconds // 60) % {"n": seconds // 60}
    if seconds < 172800:
        return ngettext("%(n)s hour", "%(n)s hours", seconds // 3600) % {"n": seconds // 3600}
    return ngettext("%(n)s day", "%(n)s days", seconds // 86400) % {"n": seconds // 86400}


# --- the rule, the tier and the calculation -----------------------------------------------------------------------
def _rule(c: Commission, party: str, shows_payout: bool) -> dict:
    snap = c.rule_snapshot or {}
    if c.tier == 2:
        percent = plain(snap["second_tier_percent"]) if snap.get("second_tier_percent") else None
        return {"source": "second_tier", "id": c.rule_id, "percent": percent,
                "reason": _("The affiliate referred the partner who made this sale: the program pays referrers "
                            "%(percent)s%% of their partners' commissions.") % {"percent": percent or "?"}}
    if snap.get("affiliate_override"):
        source = "affiliate_override"
        reason = _("A rule set for this affiliate: it takes precedence over group and default rules.")
    elif snap.get("group"):
        source = "group"
        reason = _("The rule of the affiliate's group “%(group)s”: it takes precedence over the program's "
                   "default rule.") % {"group": snap["group"]}
    else:
        source = "default"
        reason = _("The program's default rule: no rule is set for this affiliate or its group.")
    if snap.get("items"):
        reason = _("Each item of the order is paid by its own rule (see the items): a product rate matching its SKU "
                   "or category, else the program's rule. The order's rule: %(reason)s") % {"reason": reason}
    data = {
        "id": snap.get("rule_id", c.rule_id), "source": source, "reason": reason, "group": snap.get("group", ""),
        "event": snap.get("event", ""), "kind": snap.get("kind", ""), "payout": snap.get("payout"),
        "tiers": [{**_tier_threshold(t), "payout": t.get("payout")} for t in snap.get("tiers") or []],
        "tier_basis": snap.get("tier_basis") or "conversions",
        "tier_period": snap.get("tier_period", ""), "recurring_months": snap.get("recurring_months"),
        "recurring": _recurring_text(snap),
    }
    if party != AFFILIATE:
        data["revenue"] = snap.get("revenue")
    if not shows_payout:  # an advertiser under a margin: the affiliate's rates would reveal the margin
        data.pop("payout")
        data["tiers"] = [_tier_threshold(t) for t in data["tiers"]]
    return data


def _recurring_text(snap: dict) -> str:
    if "recurring_months" not in snap:
        return ""
    months = snap["recurring_months"]
    if months is None:
        return _("renewals pay for as long as the customer pays")
    if months == 0:
        return _("the first payment only (renewals do not pay)")
    return ngettext("renewals pay for %(n)s month", "renewals pay for %(n)s months", months) % {"n": months}


def _tier_threshold(tier: dict) -> dict:
    """A tier's threshold as the rule states it: `min_amount` (sales basis) or `min_conversions`."""
    if "min_amount" in tier:
        return {"min_amount": tier["min_amount"]}
    return {"min_conversions": tier.get("min_conversions")}


def _threshold(tier: dict):
    """A tier's threshold as shown: a count of conversions, or a sales amount (basis amount)."""
    return int(tier["min_conversions"]) if "min_conversions" in tier else plain(tier_threshold(tier))


def _tier(c: Commission, shows_payout: bool) -> dict | None:
    snap = c.rule_snapshot or {}
    tiers = sorted(snap.get("tiers") or [], key=tier_threshold)
    if not tiers or c.tier == 2:
        return None
    count = int(snap.get("conversions_in_period") or 0)
    amount_basis = snap.get("tier_basis") == CommissionRule.TierBasis.AMOUNT and "amount_in_period" in snap
    level = tier_level(tiers, snap["amount_in_period"] if amount_basis else count)
    period = snap.get("tier_period", "")
    data = {
        "reached": level, "min_conversions": _threshold(tiers[level - 1]) if level else 0,
        "rate": snap.get("rate"), "basis": snap.get("tier_basis", "conversions"), "conversions_in_period": count,
        "period": period,
    }
    if not shows_payout:
        data.pop("rate")
    if "amount_in_period" in snap:
        data["amount_in_period"] = _money(snap["amount_in_period"], c.currency)
    if level:
        data["reason"] = _("%(count)s approved conversions in this %(period)s before this one reached tier "
                           "%(level)s (from %(min)s).") % {"count": count, "period": period or "period",
                                                           "level": level, "min": data["min_conversions"]}
    else:
        data["reason"] = _("%(count)s approved conversions in this %(period)s before this one: below the first "
                           "tier (%(min)s), the rule's base rate applies.") % {
            "count": count, "period": period or "period", "min": _threshold(tiers[0])}
    return data


def _rate_text(kind: str, rate, currency: str) -> str:
    if rate is None:
        return ""
    return f"{plain(rate)}%" if kind == "percent" else _show(rate, currency)


def _calculation(c: Commission, party: str, shows_payout: bool, shows_revenue: bool) -> dict:
    snap, cur = c.rule_snapshot or {}, c.currency
    data = {"currency": cur, "base_amount": _money(c.base_amount, cur)}
    if c.kind == "adjustment":
        kind, rate, revenue_rate = "adjustment", None, None
    elif c.tier == 2:
        kind = "percent"
        rate = revenue_rate = plain(snap["second_tier_percent"]) if snap.get("second_tier_percent") else None
    elif c.kind == Commission.Kind.CLICK:
        kind, rate = "per_click", snap.get("payout")
        revenue_rate = snap.get("revenue") or rate
        data["clicks"] = c.clicks
    else:
        kind, rate = snap.get("kind", ""), snap.get("rate", snap.get("payout"))
        revenue_rate = snap.get("revenue") or rate
    lines = item_lines(c, shows_payout=shows_payout, shows_revenue=shows_revenue)
    if lines is not None:  # product-level rates: the sum of the item lines
        kind, rate, revenue_rate = "items", None, None
    data["kind"] = kind
    if shows_payout:
        formula = items_formula(lines, "commission", c.amount, cur) if lines else _formula(c, kind, rate, c.amount)
        data.update(rate=rate, amount=_money(c.amount, cur), formula=formula)
    if shows_revenue:
        formula = (items_formula(lines, "revenue", c.revenue, cur) if lines
                   else _formula(c, kind, revenue_rate, c.revenue))
        data.update(revenue_rate=revenue_rate, revenue=_money(c.revenue, cur),
                    revenue_formula=formula)
    if party == OPERATOR:
        data["margin"] = _money(c.revenue - c.amount, cur)
    return data


def _formula(c: Commission, kind: str, rate, result) -> str:
    cur = c.currency
    if kind == "percent":
        return f"{_show(c.base_amount, cur)} × {_rate_text(kind, rate, cur)} = {_show(result, cur)}"
    if kind == "per_click":
        return f"{c.clicks} × {_show(rate or 0, cur)} = {_show(result, cur)}"
    if kind == "adjustment":
        return _("adjustment of commission #%(id)s: %(amount)s") % {
            "id": getattr(c, "adjusts_id", None) or "?", "amount": _show(result, cur)}
    return _("fixed %(rate)s = %(amount)s") % {"rate": _rate_text(kind, rate, cur), "amount": _show(result, cur)}


# --- adjustments, reversals and history ---------------------------------------------------------------------------
def _adjustments(c: Commission, tz, shows_payout: bool, shows_revenue: bool) -> list[dict]:
    """Adjustment commissions (tier true-ups) made for this one (`adjusts`)."""
    rows = []
    for adj in Commission.objects.for_network(c.network_id).filter(adjusts=c).order_by("created_at", "id"):
        snap = adj.rule_snapshot or {}
        # The period's figures as the true-up (or the last re-true after a correction) counted them.
        figures = {**snap, **{k: v for k, v in (snap.get("trueup") or {}).items()
                              if k in ("amount_in_period", "conversions_in_period")}}
        row = {"id": adj.pk, "status": adj.status, "status_label": adj.get_status_display(),
               "created_at": _local(adj.created_at, tz), "reason": reason_shown(adj.reason),
               "snapshot": {k: v for k, v in figures.items()
                            if k in ("tier_basis", "amount_in_period", "rate", "conversions_in_period")}}
        if shows_payout:
            row["amount"] = _money(adj.amount, adj.currency)
        if shows_revenue:
            row["revenue"] = _money(adj.revenue, adj.currency)
        rows.append(row)
    return rows


def _order_changes(c: Commission, tz, shows_payout: bool, shows_revenue: bool, foreign_sale: bool) -> list[dict]:
    """The corrections of the order (`commissions.conversion_adjust`): when, the commission before and after, and
    the lines that changed (priced again, or `removed`). A second tier's affiliate sees the amounts only."""
    rows, cur = [], c.currency
    for change in (c.rule_snapshot or {}).get("conversion_adjustments") or []:
        row = {"at": _local(datetime.fromisoformat(change["at"]), tz), "lines": []}
        for key in ("amount", "revenue"):
            if shows_payout if key == "amount" else shows_revenue:
                row[f"{key}_before"], row[key] = _money(change[f"{key}_before"], cur), _money(change[key], cur)
        if shows_payout and change.get("reversed"):  # a correction after refunds: what they had reversed stays
            row["reversed"] = _money(change["reversed"], cur)
        if change.get("tier"):
            row["tier"] = _tier_change(change["tier"], c.program.currency, shows_payout)
        for line in [] if foreign_sale else change.get("lines") or []:
            shown = {"sku": line.get("sku", ""), "category": line.get("category", ""),
                     "quantity": line.get("quantity", 1), "amount": _money(line.get("amount") or 0, cur),
                     "removed": bool(line.get("removed"))}
            if shows_payout:
                shown["commission"] = _money(line.get("commission") or 0, cur)
            if shows_revenue:
                shown["revenue"] = _money(line.get("revenue") or 0, cur)
            row["lines"].append(shown)
        rows.append(row)
    return rows


def _tier_change(tier: dict, currency: str, shows_payout: bool) -> dict:
    """A correction of a sale in a trued-up period (`tier_basis: "amount"`): the period's sales before and after,
    the trued-up rate they reach (an advertiser under a margin sees the sales only), and why the period's other
    commissions keep theirs."""
    before, after = _show(tier["amount_in_period_before"], currency), _show(tier["amount_in_period"], currency)
    data = {"amount_in_period_before": _money(tier["amount_in_period_before"], currency),
            "amount_in_period": _money(tier["amount_in_period"], currency)}
    if shows_payout:
        data.update(rate_before=tier["rate_before"], rate=tier["rate"])
        data["reason"] = _(
            "The correction moves the period's sales from %(before)s to %(after)s: this sale is paid at the rate "
            "they reach, %(rate)s%% (the true-up had paid %(rate_before)s%%). The period's other commissions are "
            "paid that rate too: the period is trued up again on its corrected sales.") % {
            "before": before, "after": after, "rate": tier["rate"], "rate_before": tier["rate_before"]}
    else:
        data["reason"] = _(
            "The correction moves the period's sales from %(before)s to %(after)s: this sale is paid at the tier "
            "they reach, and so are the period's other commissions: the period is trued up again on its corrected "
            "sales.") % {"before": before, "after": after}
    return data


def _period_retrues(c: Commission, tz, shows_payout: bool, shows_revenue: bool, foreign_sale: bool) -> list[dict]:
    """The re-trues of this commission's tier period (`commissions.retrue`): a correction, refund or rejection of an
    order of the period moved its sales into another tier, so this commission (with its adjustment) is paid the rate
    reached."""
    rows, cur = [], c.currency
    for entry in (c.rule_snapshot or {}).get("retrued") or []:
        currency = c.program.currency
        before, after = _show(entry["amount_in_period_before"], currency), _show(entry["amount_in_period"], currency)
        order = "" if foreign_sale else entry.get("order_id", "")
        row = {"at": _local(datetime.fromisoformat(entry["at"]), tz), "order_id": order,
               "amount_in_period_before": _money(entry["amount_in_period_before"], currency),
               "amount_in_period": _money(entry["amount_in_period"], currency)}
        if shows_payout:
            row.update(rate_before=entry["rate_before"], rate=entry["rate"],
                       amount_before=_money(entry["amount_before"], cur), amount=_money(entry["amount"], cur))
        if entry.get("cause") in ("refunded", "rejected"):  # a refund or a rejection after the true-up
            row["cause"] = entry["cause"]
            row["reason"] = _lost_reason(entry, order, before, after, shows_payout)
        elif entry.get("own"):  # this sale's own correction: the true-up had left it at its rate
            row["reason"] = _tier_change(entry, currency, shows_payout)["reason"]
        elif shows_payout:
            row["reason"] = _(
                "A correction of another order of the period (%(order)s) moves its sales from %(before)s to "
                "%(after)s: the period is trued up again, and this commission is paid %(rate)s%% (it was paid "
                "%(rate_before)s%%).") % {"order": order or "—", "before": before, "after": after,
                                          "rate": entry["rate"], "rate_before": entry["rate_before"]}
        else:
            row["reason"] = _(
                "A correction of another order of the period (%(order)s) moves its sales from %(before)s to "
                "%(after)s: the period is trued up again, and this commission is paid the tier they reach.") % {
                "order": order or "—", "before": before, "after": after}
        if shows_revenue:
            row.update(revenue_before=_money(entry["revenue_before"], cur), revenue=_money(entry["revenue"], cur))
        rows.append(row)
    return rows


def _lost_reason(entry: dict, order: str, before: str, after: str, shows_payout: bool) -> str:
    """Why a refund or a rejection after the true-up re-trued this commission (`retrue.period_sales_lost`)."""
    values = {"order": order or "—", "before": before, "after": after, "rate": entry["rate"],
              "rate_before": entry["rate_before"]}
    if entry.get("own") and shows_payout:  # the refunded sale's own commission
        return _(
            "The refund of this order moves the period's sales from %(before)s to %(after)s: the period is trued up "
            "again, and what remains of this sale is paid %(rate)s%% (it was paid %(rate_before)s%%).") % values
    if entry.get("own"):
        return _(
            "The refund of this order moves the period's sales from %(before)s to %(after)s: the period is trued up "
            "again, and what remains of this sale is paid the tier they reach.") % values
    if entry["cause"] == "refunded" and shows_payout:
        return _(
            "A refund of another order of the period (%(order)s) moves its sales from %(before)s to %(after)s: the "
            "period is trued up again, and this commission is paid %(rate)s%% (it was paid %(rate_before)s%%).") \
            % values
    if entry["cause"] == "refunded":
        return _(
            "A refund of another order of the period (%(order)s) moves its sales from %(before)s to %(after)s: the "
            "period is trued up again, and this commission is paid the tier they reach.") % values
    if shows_payout:
        return _(
            "The rejection of another order of the period (%(order)s) moves its sales from %(before)s to %(after)s: "
            "the period is trued up again, and this commission is paid %(rate)s%% (it was paid %(rate_before)s%%).") \
            % values
    return _(
        "The rejection of another order of the period (%(order)s) moves its sales from %(before)s to %(after)s: the "
        "period is trued up again, and this commission is paid the tier they reach.") % values


def _audits(c: Commission) -> list[AuditLog]:
    return list(AuditLog.objects.for_network(c.network_id)
                .filter(target_type=Commission._meta.label_lower, target_id=str(c.pk))
                .select_related("actor").order_by("created_at", "id"))


def _reversals(c: Commission, party: str, tz, shows_payout: bool, shows_revenue: bool) -> dict | None:
    if not c.reversed_amount and not c.reversed_revenue and c.reversed_at is None:
        return None
    cur = c.currency
    base_currency = c.conversion.currency if c.conversion_id else cur
    data = {"reversed_at": _local(c.reversed_at, tz), "full": c.status == Commission.Status.REVERSED,
            "refunded_base": _money(c.refunded_base, base_currency), "base_currency": base_currency}
    reasons = []
    if c.refunded_base:
        reasons.append(_("Refund of %(refund)s of the order reported by the advertiser.") % {
            "refund": _show(c.refunded_base, base_currency)})
    down_amount, down_revenue = trued_down(c)
    if down_amount or down_revenue:
        # The tier true-up lowered this commission to the rate the whole period reached.
        reasons.append(reason_shown(c.reason) or _("Tier true-up at the end of the period."))
        down = {}
        if shows_payout:
            down["amount"] = _money(down_amount, cur)
        if shows_revenue:
            down["revenue"] = _money(down_revenue, cur)
        data["trued_down"] = down
    if not reasons:
        reasons.append(c.reason or _("Reversed."))
    data["reason"] = " ".join(reasons)
    if shows_payout:
        data["reversed_amount"] = _money(c.reversed_amount, cur)
    if shows_revenue:
        data["reversed_revenue"] = _money(c.reversed_revenue, cur)
    return data


def _actor_label(entry: AuditLog, party: str, roles: dict) -> str:
    if entry.actor_id is None:
        return _("automatic")
    role = roles.get(entry.actor_id)
    if party == OPERATOR:
        return f"{entry.actor.email} ({role or _('user')})"
    if role in (Role.OWNER, Role.STAFF):
        return _("the network")
    if role == Role.ADVERTISER:
        return _("the advertiser")
    return _("a user")


# What happened to a commission, as its history's "What" column says it (the key stays the API's `action`).
ACTION_LABELS = {
    "created": pgettext_lazy("commission history", "created"),
    "approved": pgettext_lazy("commission history", "approved"),
    "rejected": pgettext_lazy("commission history", "rejected"),
    "on_hold": pgettext_lazy("commission history", "put on hold"),
    "released": pgettext_lazy("commission history", "released from hold"),
    "unpaid": pgettext_lazy("commission history", "payment undone"),
    "reversed": pgettext_lazy("commission history", "reversed"),
    "partially_reversed": pgettext_lazy("commission history", "partially reversed"),
    "paid": pgettext_lazy("commission history", "paid"),
    "adjusted": pgettext_lazy("commission history", "adjusted"),
    "conversion_adjusted": pgettext_lazy("commission history", "order corrected"),
    "retrued": pgettext_lazy("commission history", "period trued up again"),
    "trued_down": pgettext_lazy("commission history", "tier true-up reduction"),
}


def _action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


EVENT_STATUS = {
    "commission.approved": Commission.Status.APPROVED, "commission.rejected": Commission.Status.REJECTED,
    "commission.on_hold": Commission.Status.ON_HOLD, "commission.released": Commission.Status.PENDING,
    "commission.unpaid": Commission.Status.APPROVED,
}


def _cap(c: Commission, tz) -> dict | None:
    """The cap this commission was counted against, or went past (then why it is held or rejected)."""
    cap = (c.rule_snapshot or {}).get("cap")
    if not cap:
        return None
    owner = _("the partnership's own caps") if cap.get("scope") == "partnership" else _("the program's caps")
    data = {"scope": cap.get("scope"), "action": cap.get("action"), "exceeded": cap.get("exceeded"),
            "limit": cap.get("limit"), "used": cap.get("used"), "period_start": cap.get("period_start"),
            "period_end": _local(datetime.fromisoformat(cap["period_end"]), tz) if cap.get("period_end") else None,
            "counted": cap.get("counted") or {}}
    if cap.get("exceeded"):
        outcome = {"reject": _("so it earns nothing (rejected)."),
                   "hold": _("so it is held for the advertiser's review."),
                   "pause": _("so it is held for the advertiser's review, and the program's clicks are paused until "
                              "the period ends.")}.get(cap.get("action"), "")
        data["reason"] = _("Past a cap: %(text)s, %(outcome)s") % {"text": cap_words(cap, c.currency),
                                                                     "outcome": outcome}
    else:
        parts = [_("%(measure)s: %(used)s of %(limit)s") % {"measure": MEASURE_LABELS.get(m, m), **v}
                 for m, v in data["counted"].items()]
        data["reason"] = _("Counted within %(owner)s (%(parts)s).") % {"owner": owner, "parts": "; ".join(parts)}
    return data


def _birth_status(c: Commission) -> str:
    cap = (c.rule_snapshot or {}).get("cap") or {}
    if cap.get("exceeded"):
        return Commission.Status.REJECTED if cap.get("action") == "reject" else Commission.Status.ON_HOLD
    conversion = c.conversion
    if conversion is not None and conversion.status == Conversion.Status.HELD:
        return Commission.Status.ON_HOLD
    if conversion is not None and conversion.status == Conversion.Status.REJECTED:
        return Commission.Status.REJECTED
    return Commission.Status.PENDING


def _history(c: Commission, party: str, tz) -> list[dict]:
    """Creation, then every recorded transition (the audit log) with who acted; payment from the payout's record."""
    labels = dict(Commission.Status.choices)
    audits = _audits(c)
    first_previous = next((a.data.get("previous") for a in audits if a.data.get("previous")), None)
    born = first_previous or _birth_status(c)
    signals = ", ".join(signal_title(code) for code in c.conversion.fraud_signals or []) if c.conversion_id else ""
    birth_reason = _("fraud signals: %(signals)s") % {"signals": signals} \
        if born != Commission.Status.PENDING and signals else ""
    if ((c.rule_snapshot or {}).get("cap") or {}).get("exceeded"):
        birth_reason = "; ".join(filter(None, [birth_reason, cap_words(c.rule_snapshot["cap"], c.currency)]))
    rows = [{"at": _local(c.created_at, tz), "action": "created", "action_label": _action_label("created"),
             "status": born, "status_label": labels.get(born),
             "actor": _("automatic"), "reason": birth_reason}]
    actor_ids = {a.actor_id for a in audits if a.actor_id}
    roles = dict(Membership.objects.filter(network_id=c.network_id, user_id__in=actor_ids)
                 .values_list("user_id", "role")) if actor_ids else {}
    for entry in audits:
        action = entry.action.removeprefix("commission.")
        if entry.action == "commission.reversed":
            status = Commission.Status.REVERSED if entry.data.get("full") else c.status
            action = "reversed" if entry.data.get("full") else "partially_reversed"
            reason = _("refund of %(refund)s") % {"refund": entry.data.get("refund", "")}
        else:
            status = EVENT_STATUS.get(entry.action, "")
            reason = reason_shown(entry.data.get("reason", "") or "")
        rows.append({"at": _local(entry.created_at, tz), "action": action, "action_label": _action_label(action),
                     "status": status,
                     "status_label": labels.get(status, status), "actor": _actor_label(entry, party, roles),
                     "reason": reason})
    if c.paid_at is not None:
        rows.append({"at": _local(c.paid_at, tz), "action": "paid", "action_label": _action_label("paid"),
                     "status": Commission.Status.PAID,
                     "status_label": labels[Commission.Status.PAID], "actor": _paid_by(c, party, roles),
                     "reason": ""})
    rows.sort(key=lambda row: row["at"])
    return rows


def _paid_by(c: Commission, party: str, roles: dict) -> str:
    """Payment is recorded once per payout batch (`commissions.paid` with the ids), just after `paid_at`."""
    for entry in (AuditLog.objects.for_network(c.network_id).filter(action="commissions.paid",
                                                                     created_at__gte=c.paid_at)
                  .select_related("actor").order_by("created_at", "id")[:20]):
        if c.pk in (entry.data.get("ids") or []):
            if entry.actor_id and entry.actor_id not in roles:
                roles.update(Membership.objects.filter(network_id=c.network_id, user_id=entry.actor_id)
                             .values_list("user_id", "role"))
            return _actor_label(entry, party, roles)
    return _("payout batch")
