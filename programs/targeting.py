"""A program's targeting: the countries (ISO 3166-1 alpha-2) and device types its clicks may come from.

`{"countries_allowed": [...], "countries_blocked": [...], "devices": [...]}`; an empty list restricts nothing.
`targeting_clean` is the one check (model, API and form); `targeting_miss` is the one decision (the redirect).
"""

import functools

import pycountry
from babel import Locale
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.money import babel_locale

DEVICES = ("desktop", "mobile", "tablet")
KEYS = ("countries_allowed", "countries_blocked", "devices")
MAX_COUNTRIES = 300


@functools.cache
def country_codes() -> frozenset[str]:
    return frozenset(country.alpha_2 for country in pycountry.countries)


def country_name(code: str) -> str:
    """The country's name in the active language (CLDR's, through Babel); in English, the ISO list's common name."""
    english = (translation.get_language() or "en").startswith("en")
    if not english and (name := Locale.parse(babel_locale()).territories.get(code)):
        return name
    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or country.name if country else code


def _codes(value, name: str, errors: dict) -> list[str]:
    if value in (None, ""):
        return []
    if not isinstance(value, list | tuple):
        errors[name] = [_("A list of ISO 3166-1 alpha-2 country codes, such as [\"DE\", \"AT\"].")]
        return []
    if len(value) > MAX_COUNTRIES:
        errors[name] = [_("At most %(max)d countries.") % {"max": MAX_COUNTRIES}]
        return []
    codes, bad = [], []
    for item in value:
        code = item.strip().upper() if isinstance(item, str) else None
        if code not in country_codes():
            bad.append(_("'%(code)s' is not an ISO 3166-1 alpha-2 country code.") % {"code": item})
        elif code not in codes:
            codes.append(code)
    if bad:
        errors[name] = bad
    return sorted(codes)


def targeting_clean(value) -> dict:
    """The targeting in its stored form (codes upper case, sorted, once each), or ValidationError keyed by field."""
    if value in (None, ""):
        value = {}
    if not isinstance(value, dict):
        raise ValidationError({"targeting": [_("An object with countries_allowed, countries_blocked and devices.")]})
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(value) - set(KEYS))
    if unknown:
        errors["targeting"] = [_("Unknown targeting keys: %(keys)s.") % {"keys": ", ".join(map(str, unknown))}]
    allowed = _codes(value.get("countries_allowed"), "countries_allowed", errors)
    blocked = _codes(value.get("countries_blocked"), "countries_blocked", errors)
    if both := sorted(set(allowed) & set(blocked)):
        errors["countries_blocked"] = [_("Both allowed and blocked: %(codes)s.") % {"codes": ", ".join(both)}]
    devices = value.get("devices") or []
    if not isinstance(devices, list | tuple) or any(device not in DEVICES for device in devices):
        errors["devices"] = [_("A list of device types among desktop, mobile and tablet.")]
        devices = []
    if errors:
        raise ValidationError(errors)
    return {"countries_allowed": allowed, "countries_blocked": blocked,
            "devices": [device for device in DEVICES if device in devices]}


def validate_targeting(value) -> None:
    """Model field validator: errors under the field's own name, the key in the message."""
    try:
        targeting_clean(value)
    except ValidationError as error:
        raise ValidationError([f"{key}: {message}" for key, messages in error.message_dict.items()
                               for message in messages]) from None


def is_restricted(targeting: dict | None) -> bool:
    return bool(targeting) and any(targeting.get(key) for key in KEYS)


def needs_country(rules: tuple | None) -> bool:
    return rules is not None and bool(rules[0] or rules[1])


def compiled(targeting: dict | None) -> tuple[frozenset, frozenset, frozenset] | None:
    """(allowed countries, blocked countries, allowed devices) for the redirect, or None when nothing is restricted
    (the redirect then neither parses the user agent nor looks the address up)."""
    if not is_restricted(targeting):
        return None
    devices = frozenset(targeting.get("devices") or ())
    return (frozenset(targeting.get("countries_allowed") or ()), frozenset(targeting.get("countries_blocked") or ()),
            frozenset() if devices >= set(DEVICES) else devices)


def targeting_miss(rules: tuple, *, country: str, device: str) -> str:
    """Why a visit is outside the targeting ("" when inside): "country_blocked", "country_not_allowed" (an unknown
    country is not in an allow list) or "device_not_allowed"."""
    allowed, blocked, devices = rules
    if country and country in blocked:
        return "country_blocked"
    if allowed and country not in allowed:
        return "country_not_allowed"
    if devices and device not in devices:
        return "device_not_allowed"
    return ""



DEVICE_LABELS = {"desktop": gettext_lazy("desktop"), "mobile": gettext_lazy("mobile"), "tablet": gettext_lazy("tablet")}


def targeting_lines(targeting: dict | None) -> list[str]:
    """The targeting in words, one line per restriction (none: no line), for the advertiser's and affiliates' pages."""
    targeting = targeting or {}
    lines = []
    if allowed := targeting.get("countries_allowed"):
        lines.append(_("Only visitors from: %(countries)s") % {
            "countries": ", ".join(f"{country_name(code)} ({code})" for code in allowed)})
    if blocked := targeting.get("countries_blocked"):
        lines.append(_("Not visitors from: %(countries)s") % {
            "countries": ", ".join(f"{country_name(code)} ({code})" for code in blocked)})
    devices = targeting.get("devices") or []
    if devices and set(devices) != set(DEVICES):
        lines.append(_("Only on: %(devices)s") % {"devices": ", ".join(str(DEVICE_LABELS[d]) for d in devices)})
    return lines
