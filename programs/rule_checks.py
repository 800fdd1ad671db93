"""What a commission rule may say, checked in one place. `rules_clean` is what `services.program_create/update`
run before writing rules, so every caller (API, web form, demo data, a shell) gets the same errors; the API's
serializers call the same checks to report them field by field (`rule_clean`, `rules_check_for_currency`).

Errors are Django `ValidationError`s: one rule's as {field: [messages]}; those of a list of rules as `RuleErrors`,
whose `detail` keeps the API's shape ({"<index>": {field: [messages]}}, or [messages] about the list).
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from core.money import AMOUNT_DECIMAL_PLACES, AMOUNT_MAX_DIGITS, AmountTooLarge, parse_amount, quantize
from network.i18n import choice_word
from network.models import Affiliate, Network, PartnerGroup

from .models import CommissionRule

PERCENT_PLACES = Decimal("0.01")
MAX_TIERS = 20
MAX_RECURRING_MONTHS = 1200
MAX_CONVERSIONS = 10**9
# Stored amounts have AMOUNT_MAX_DIGITS digits, AMOUNT_DECIMAL_PLACES of them after the point.
MAX_AMOUNT = Decimal(10) ** (AMOUNT_MAX_DIGITS - AMOUNT_DECIMAL_PLACES)
RULE_FIELDS = ("event", "kind", "payout", "revenue", "tiers", "tier_period", "tier_basis", "recurring_months",
               "affiliate", "group", "match")
MATCH_KEYS = ("sku", "category")
MAX_MATCH_VALUES = 500
MAX_MATCH_LENGTH = 128
MATCH_INVALID = 'Either {"sku": [...]} or {"category": [...]}: a list of SKUs or categories (strings).'
AMOUNT_INVALID = 'Enter an amount as a string or integer, e.g. "10.00".'
AMOUNT_TOO_LARGE = "The amount is too large."


class RuleErrors(ValidationError):
    """Errors of a list of rules. As a Django error: {"rules": [messages, each naming its rule]}; `detail` is the
    API's shape."""

    def __init__(self, detail: dict | list):
        self.detail = detail
        if isinstance(detail, dict):
            messages = [gettext("Rule %(number)s, %(field)s: %(message)s") % {
                "number": int(index) + 1, "field": field, "message": message}
                for index, fields in detail.items() for field, items in fields.items() for message in items]
        else:
            messages = list(detail)
        super().__init__({"rules": messages})


def tier_key(basis: str | None) -> str:
    """The tiers' threshold key for a rule's tier_basis."""
    return "min_amount" if basis == CommissionRule.TierBasis.AMOUNT else "min_conversions"


def parse_rule_amount(value) -> Decimal:
    """A rate or threshold as the API takes it (a string or integer, never a float); ValidationError otherwise."""
    try:
        amount = parse_amount(value)
    except AmountTooLarge as exc:
        raise ValidationError(AMOUNT_TOO_LARGE) from exc
    except ValueError as exc:
        raise ValidationError(AMOUNT_INVALID) from exc
    if abs(amount) >= MAX_AMOUNT:
        raise ValidationError(AMOUNT_TOO_LARGE)
    return amount


def rate_error(value: Decimal, kind: str) -> str | None:
    if value < 0:
        return gettext("Must be zero or more.")
    if kind == CommissionRule.Kind.PERCENT:
        if value > 100:
            return gettext("A percent must be between 0 and 100.")
        if value != value.quantize(PERCENT_PLACES):
            return gettext("A percent has at most two decimal places.")
    return None


def _shape(rule: dict) -> dict:
    """Types and ranges, as the API's fields check them (callers other than the API may skip those)."""
    errors: dict[str, list[str]] = {}
    rule = dict(rule)
    for name in sorted(set(rule) - set(RULE_FIELDS)):
        errors[name] = ["Not a rule field."]
    rule.setdefault("event", CommissionRule.Event.SALE)
    for name, choices in (("event", CommissionRule.Event), ("kind", CommissionRule.Kind),
                          ("tier_period", CommissionRule.TierPeriod), ("tier_basis", CommissionRule.TierBasis)):
        if (name in rule or name == "kind") and rule.get(name) not in choices.values:
            errors[name] = [f"Choose one of: {', '.join(choices.values)}."]
    for name in ("payout", "revenue"):
        if rule.get(name) is None:
            if name == "payout":
                errors[name] = ["This field is required."]
            continue
        try:
            rule[name] = parse_rule_amount(rule[name])
        except ValidationError as exc:
            errors[name] = exc.messages
    tiers = rule.get("tiers") or []
    if not isinstance(tiers, list | tuple) or not all(isinstance(tier, dict) for tier in tiers):
        errors["tiers"] = ["A list of tiers, each {min_conversions or min_amount, payout}."]
    else:
        try:
            rule["tiers"] = [_tier_shape(tier) for tier in tiers]
        except ValidationError as exc:
            errors["tiers"] = exc.messages
    months = rule.get("recurring_months", 0)
    if months is not None and (isinstance(months, bool) or not isinstance(months, int)
                               or not 0 <= months <= MAX_RECURRING_MONTHS):
        errors["recurring_months"] = [f"A whole number from 0 to {MAX_RECURRING_MONTHS}, or null (forever)."]
    if errors:
        raise ValidationError(errors)
    return rule


def _tier_shape(tier: dict) -> dict:
    shaped = {"payout": parse_rule_amount(tier.get("payout"))}
    if tier.get("min_conversions") is not None:
        value = tier["min_conversions"]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CONVERSIONS:
            raise ValidationError(f"min_conversions: a whole number from 0 to {MAX_CONVERSIONS}.")
        shaped["min_conversions"] = value
    if tier.get("min_amount") is not None:
        shaped["min_amount"] = parse_rule_amount(tier["min_amount"])
    return shaped


def match_clean(value) -> dict:
    """A rule's `match` as stored: {} (the whole order), {"sku": [...]} or {"category": [...]} (its listed
    values, stripped, without repeats); ValidationError otherwise."""
    if value is None or value == {}:
        return {}
    if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in MATCH_KEYS:
        raise ValidationError(MATCH_INVALID)
    key, values = next(iter(value.items()))
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v.strip() for v in values):
        raise ValidationError(MATCH_INVALID)
    if len(values) > MAX_MATCH_VALUES:
        raise ValidationError(f"At most {MAX_MATCH_VALUES} values.")
    if any(len(v.strip()) > MAX_MATCH_LENGTH for v in values):
        raise ValidationError(f"A value has at most {MAX_MATCH_LENGTH} characters.")
    return {key: list(dict.fromkeys(v.strip() for v in values))}


def match_key(match: dict | None) -> tuple:
    """What makes two rules' matches the same (case does not count, as in `CommissionRule.matches`)."""
    return tuple(sorted((key, tuple(sorted({v.casefold() for v in values}))) for key, values in (match or {}).items()))


def rule_clean(rule: dict, *, network: Network, shaped: bool = False) -> dict:
    """One rule checked and normalized for writing (tiers as stored, the affiliate as an object in `network`);
    ValidationError({field: [messages]}) otherwise. `shaped`: types and ranges are checked already (the API)."""
    attrs = dict(rule) if shaped else _shape(rule)
    errors = {}
    kind = attrs["kind"]
    for name in ("payout", "revenue"):
        if attrs.get(name) is not None and (message := rate_error(attrs[name], kind)):
            errors[name] = [message]
    if attrs["event"] == CommissionRule.Event.CLICK and kind == CommissionRule.Kind.PERCENT:
        errors["kind"] = [gettext("A click has no order amount: click rules are fixed.")]
    try:
        attrs["match"] = match_clean(attrs.get("match"))
    except ValidationError as exc:
        errors["match"] = exc.messages
    else:
        if attrs["match"] and attrs["event"] == CommissionRule.Event.CLICK:
            errors["match"] = [gettext("A click has no items: only sale and lead rules match SKUs or categories.")]
    tiers = attrs.get("tiers") or []
    key = tier_key(attrs.get("tier_basis"))
    if len(tiers) > MAX_TIERS:
        errors["tiers"] = [gettext("At most %(n)s tiers.") % {"n": MAX_TIERS}]
    elif tiers:
        thresholds = [tier.get(key) for tier in tiers]
        if any(value is None for value in thresholds):
            errors["tiers"] = [gettext("Each tier needs %(key)s (the rule's tier_basis).") % {"key": key}]
        else:
            thresholds = [Decimal(str(value)) for value in thresholds]
            if key == "min_amount" and any(value < 0 for value in thresholds):
                errors["tiers"] = [gettext("min_amount must be zero or more.")]
            elif any(b <= a for a, b in zip(thresholds, thresholds[1:], strict=False)):
                errors["tiers"] = [gettext("Tiers must be strictly ascending by %(key)s.") % {"key": key}]
            else:
                bad = [gettext("Tier %(number)s: %(message)s") % {"number": i, "message": m}
                       for i, t in enumerate(tiers)
                       if (m := rate_error(Decimal(str(t["payout"])), kind))]
                if bad:
                    errors["tiers"] = bad
    affiliate, group = attrs.get("affiliate"), attrs.get("group")
    if affiliate is not None and group is not None:
        errors["group"] = [gettext("A rule targets one affiliate or one group, not both.")]
    for name, model in (("affiliate", Affiliate), ("group", PartnerGroup)):
        target = attrs.get(name)
        if target is None:
            continue
        # An id, or an object (of this network only: another network's object is unknown here too).
        target_id = target.pk if isinstance(target, model) else target
        found = None
        if isinstance(target_id, int) and not isinstance(target_id, bool):
            found = model.objects.for_network(network).filter(pk=target_id).first()
        if found is None:
            errors.setdefault(name, [gettext("Unknown affiliate.") if model is Affiliate
                                     else gettext("Unknown partner group.")])
        attrs[name] = found
    if errors:
        raise ValidationError(errors)
    attrs["tiers"] = [{key: t[key] if key == "min_conversions" else str(t[key]), "payout": str(t["payout"])}
                      for t in tiers]
    attrs.setdefault("recurring_months", 0)
    return attrs


def rules_check_for_currency(rules: list[dict], currency: str) -> None:
    """Fixed amounts must fit the currency (no fractions of a cent); one rule per event and target. Takes rules
    as `rule_clean` returns them; RuleErrors otherwise."""
    errors: dict[str, dict] = {}  # keyed by the rule's index, as DRF reports nested list errors
    seen: set = set()
    duplicate = None
    for index, rule in enumerate(rules):
        rule_errors = {}
        amounts = {"tiers": [Decimal(t["min_amount"]) for t in rule.get("tiers", []) if "min_amount" in t]}
        if rule["kind"] == CommissionRule.Kind.FIXED:
            amounts = {"payout": [rule["payout"]], "revenue": [rule.get("revenue")],
                       "tiers": amounts["tiers"] + [Decimal(t["payout"]) for t in rule.get("tiers", [])]}
        for name, values in amounts.items():
            if any(v is not None and v != quantize(v, currency) for v in values):
                rule_errors[name] = [gettext("More decimal places than %(currency)s has.") % {"currency": currency}]
        target = (rule["event"], getattr(rule.get("affiliate"), "pk", None), getattr(rule.get("group"), "pk", None),
                  match_key(rule.get("match")))
        if target in seen:
            duplicate = gettext("Two rules for the event %(event)s and the same target.") % {
                "event": choice_word(CommissionRule.Event, rule["event"])}
        seen.add(target)
        if rule_errors:
            errors[str(index)] = rule_errors
    if errors:
        raise RuleErrors(errors)
    if duplicate:
        raise RuleErrors([duplicate])


def rules_clean(*, network: Network, currency: str, rules: list[dict]) -> list[dict]:
    """Every rule checked (`rule_clean`), then the list against the program's currency; RuleErrors otherwise."""
    cleaned, errors = [], {}
    for index, rule in enumerate(rules):
        try:
            cleaned.append(rule_clean(rule, network=network))
        except ValidationError as exc:
            errors[str(index)] = exc.message_dict
    if errors:
        raise RuleErrors(errors)
    rules_check_for_currency(cleaned, currency)
    return cleaned
