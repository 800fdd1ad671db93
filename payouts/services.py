"""Writes for payout methods, tax details and a network's payout settings (batches: `batches.py`, a payout's
end: `transitions.py`)."""

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from network.models import Affiliate, Network, User
from network.services import audit_log_record

from .models import MethodKind, PayoutMethod, TaxDetails
from .onboarding import stored_state, stripe_account_country, stripe_account_state
from .policy import settings_normalize
from .providers import stripe_connect

METHOD_FIELDS = {
    MethodKind.PAYPAL: ("paypal_email",),
    # The BIC too, unless the IBAN's bank is known (`_validate_method`).
    MethodKind.BANK: ("bank_holder", "bank_account", "bank_country"),
    MethodKind.STRIPE_CONNECT: (),
}
EDITABLE = ("label", "paypal_email", "bank_holder", "bank_account", "bank_bic", "bank_country")


def iban_is_valid(value: str) -> bool:
    """ISO 13616 check digits (mod 97)."""
    iban = value.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", iban):
        return False
    digits = "".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])
    return int(digits) % 97 == 1


def iban_bank_bic(value: str) -> str:
    """The BIC of the bank an IBAN belongs to, from the bank registries `schwifty` maintains (per country, by the
    IBAN's bank code); "" when the bank is not known or the value is no IBAN."""
    try:
        bic = IBAN(value).bic
    except SchwiftyException:
        return ""
    return str(bic) if bic else ""


def _validate_method(method: PayoutMethod) -> None:
    errors = {}
    for name in METHOD_FIELDS[method.kind]:
        if not str(getattr(method, name) or "").strip():
            errors[name] = [_("This field is required for this payout method.")]
    if method.kind == MethodKind.PAYPAL and method.paypal_email:
        method.paypal_email = method.paypal_email.strip()
        twins = PayoutMethod.objects.filter(network_id=method.network_id, affiliate_id=method.affiliate_id,
                                            kind=MethodKind.PAYPAL, paypal_email__iexact=method.paypal_email)
        if twins.exclude(pk=method.pk).exists():
            errors["paypal_email"] = [_("You already added this PayPal address.")]
    if method.kind == MethodKind.BANK:
        account = method.bank_account.replace(" ", "").upper()
        is_iban = account[:2].isalpha()
        if is_iban and not iban_is_valid(account):
            errors["bank_account"] = [_("Not a valid IBAN (check digits).")]
        method.bank_account = account
        method.bank_bic = method.bank_bic.replace(" ", "").upper()
        method.bank_country = method.bank_country.upper()
        if method.bank_country and not re.fullmatch(r"[A-Z]{2}", method.bank_country):
            errors["bank_country"] = [_("A two-letter ISO 3166 country code.")]
        if not method.bank_bic and "bank_account" not in errors and account:
            # Optional when the IBAN says which bank it is: the BIC is then filled in from it.
            method.bank_bic = iban_bank_bic(account) if is_iban else ""
            if not method.bank_bic:
                errors["bank_bic"] = [_("We do not know the bank of this IBAN: add its BIC.") if is_iban
                                      else _("Add the BIC/SWIFT or routing number of this account.")]
    if errors:
        raise ValidationError(errors)


def _make_default(method: PayoutMethod) -> None:
    PayoutMethod.objects.filter(network_id=method.network_id, affiliate_id=method.affiliate_id,
                                is_default=True).exclude(pk=method.pk).update(is_default=False)
    if not method.is_default:
        method.is_default = True
        PayoutMethod.objects.filter(network_id=method.network_id, pk=method.pk).update(is_default=True)


def _lock_affiliate(network: Network, affiliate: Affiliate) -> None:
    # Serializes method edits of one affiliate, so "one default" holds without relying on the index to fail.
    Affiliate.objects.select_for_update().filter(network=network, pk=affiliate.pk).first()


@transaction.atomic
def payout_method_create(*, network: Network, affiliate: Affiliate, kind: str, is_default: bool = False,
                         actor: User | None = None, **fields) -> PayoutMethod:
    """A PayPal or bank method (Stripe Connect ones come from `payout_method_stripe_onboard`). The first method
    of an affiliate is its default."""
    if kind not in (MethodKind.PAYPAL, MethodKind.BANK):
        raise ValidationError({"kind": [_("Create a Stripe Connect method through its onboarding link.")]})
    _lock_affiliate(network, affiliate)
    method = PayoutMethod(network=network, affiliate=affiliate, kind=kind,
                          **{k: v for k, v in fields.items() if k in EDITABLE})
    _validate_method(method)
    method.save()
    if is_default or not PayoutMethod.objects.filter(network=network, affiliate=affiliate, is_default=True).exists():
        _make_default(method)
    audit_log_record(network=network, actor=actor, action="payout_method.created", target=method,
                     data={"kind": kind})
    return method


@transaction.atomic
def payout_method_update(*, network: Network, method: PayoutMethod, actor: User | None = None,
                         is_default: bool | None = None, **fields) -> PayoutMethod:
    _lock_affiliate(network, method.affiliate)
    method = PayoutMethod.objects.select_for_update().get(network=network, pk=method.pk)
    changed = [name for name in fields if name in EDITABLE]
    for name in changed:
        setattr(method, name, fields[name])
    _validate_method(method)
    method.save(update_fields=[*changed, "updated_at"])
    if is_default:
        _make_default(method)
    audit_log_record(network=network, actor=actor, action="payout_method.updated", target=method,
                     data={"fields": sorted(fields), "default": bool(is_default)})
    return method


@transaction.atomic
def payout_method_delete(*, network: Network, method: PayoutMethod, actor: User | None = None) -> None:
    """Delete a method; when it was the default, the oldest remaining one becomes the default."""
    _lock_affiliate(network, method.affiliate)
    was_default, affiliate_id = method.is_default, method.affiliate_id
    audit_log_record(network=network, actor=actor, action="payout_method.deleted", target=method,
                     data={"kind": method.kind})
    method.delete()
    if was_default:
        successor = PayoutMethod.objects.filter(network=network, affiliate_id=affiliate_id).order_by("id").first()
        if successor is not None:
            _make_default(successor)


@transaction.atomic
def payout_method_set_default(*, network: Network, method: PayoutMethod, actor: User | None = None) -> PayoutMethod:
    _lock_affiliate(network, method.affiliate)
    _make_default(method)
    method.refresh_from_db()
    audit_log_record(network=network, actor=actor, action="payout_method.default", target=method)
    return method


def payout_method_stripe_onboard(*, network: Network, affiliate: Affiliate, refresh_url: str, return_url: str,
                                 country: str = "", actor: User | None = None) -> tuple[PayoutMethod, str]:
    """The affiliate's Stripe Connect method (an Express account is created in the affiliate's `country` when
    there is none) and a fresh onboarding link (Account Links expire within minutes, so one is made per request)."""
    method = PayoutMethod.objects.for_network(network).filter(affiliate=affiliate,
                                                              kind=MethodKind.STRIPE_CONNECT).first()
    if method is None or not method.stripe_account_id:
        if not stripe_connect.is_configured():
            raise stripe_connect.StripeNotConfigured("STRIPE_SECRET_KEY is not set.")
        country = stripe_account_country(network=network, affiliate=affiliate, country=country)
        account = stripe_connect.account_create(network_id=network.pk, affiliate_id=affiliate.pk,
                                                email=affiliate.email, country=country)
        with transaction.atomic():
            _lock_affiliate(network, affiliate)
            method, _ = PayoutMethod.objects.get_or_create(
                network=network, affiliate=affiliate, kind=MethodKind.STRIPE_CONNECT,
                defaults={"stripe_account_id": account.id})
            if not method.stripe_account_id:
                method.stripe_account_id = account.id
                method.save(update_fields=["stripe_account_id", "updated_at"])
            if not PayoutMethod.objects.filter(network=network, affiliate=affiliate, is_default=True).exists():
                _make_default(method)
            audit_log_record(network=network, actor=actor, action="payout_method.stripe_account",
                             target=method, data={"account": account.id})
    link = stripe_connect.account_link_create(account_id=method.stripe_account_id, refresh_url=refresh_url,
                                              return_url=return_url)
    method.refresh_from_db()
    return method, link.url


def stripe_account_updated(*, account_id: str, payouts_enabled: bool, details_submitted: bool,
                           account: dict | None = None) -> int:
    """Stripe's `account.updated`: an Express account finished (or lost) onboarding; `account` (the event's
    object) is kept as the method's account state, which the payout settings page shows."""
    fields = {"stripe_onboarded": bool(payouts_enabled and details_submitted)}
    if account is not None:
        fields["stripe_account_state"] = stored_state(stripe_account_state(account))
    return PayoutMethod.objects.filter(stripe_account_id=account_id).update(**fields)


@transaction.atomic
def tax_details_update(*, network: Network, affiliate: Affiliate, actor: User | None = None,
                       **fields) -> TaxDetails:
    details, _ = TaxDetails.objects.select_for_update().get_or_create(network=network, affiliate=affiliate)
    old_file = details.form_file.name if details.form_file else ""
    for name in ("legal_name", "country", "tax_id", "form_type", "form_file"):
        if name in fields:
            setattr(details, name, fields[name])
    details.country = details.country.upper()
    details.save(update_fields=["legal_name", "country", "tax_id", "form_type", "form_file", "updated_at"])
    if "form_file" in fields and old_file and old_file != details.form_file.name:
        transaction.on_commit(lambda: details.form_file.storage.delete(old_file))
    audit_log_record(network=network, actor=actor, action="tax_details.updated", target=details,
                     data={"fields": sorted(fields)})
    return details


@transaction.atomic
def payout_settings_update(*, network: Network, changes: dict, actor: User | None = None) -> dict:
    """Merge `changes` over the stored settings (schedule and fee merge key by key; thresholds replace) and
    store them validated. Raises ValidationError with field errors and changes nothing on bad input."""
    if not isinstance(changes, dict):
        raise ValidationError({"detail": ["Payout settings are a JSON object."]})
    network = Network.objects.select_for_update().get(pk=network.pk)
    try:
        current = settings_normalize(network.payout_settings or {})
    except ValidationError:
        current = settings_normalize({})
    merged = dict(current)
    for key, value in changes.items():
        if key in ("schedule", "fee") and isinstance(value, dict):
            merged[key] = current[key] | value
        else:
            merged[key] = value
    normalized = settings_normalize(merged)
    network.payout_settings = normalized
    network.save(update_fields=["payout_settings"])
    audit_log_record(network=network, actor=actor, action="payout_settings.updated", target=network,
                     data={"settings": normalized})
    return normalized
