"""Forms of the operator's payout pages: payout settings (validated by `policy.settings_normalize`), mark failed,
results upload."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .policy import FEE_KINDS, FEE_PAYERS, settings_normalize

WEEKDAYS = [(0, _("Monday")), (1, _("Tuesday")), (2, _("Wednesday")), (3, _("Thursday")), (4, _("Friday")),
            (5, _("Saturday")), (6, _("Sunday"))]
SCHEDULES = [("manual", _("Manual (run batches by hand)")), ("weekly", _("Weekly")), ("monthly", _("Monthly"))]
FEE_KIND_LABELS = {"none": _("No fee"), "flat": _("Flat fee per payout"), "percent": _("Percent of the payout")}
FEE_PAYER_LABELS = {"affiliate": _("The affiliate (deducted from what is sent)"),
                    "network": _("The network (recorded only)")}
# Keys of settings_normalize's errors -> the field that shows them.
ERROR_FIELDS = {"schedule.kind": "schedule_kind", "schedule.weekday": "weekday", "schedule.day": "day",
                "thresholds": "thresholds", "fee.kind": "fee_kind", "fee.flat": "fee_flat",
                "fee.percent": "fee_percent", "fee.paid_by": "fee_paid_by", "detail": None, "schedule": None,
                "fee": None}


def _lines(mapping: dict) -> str:
    return "\n".join(f"{currency} {amount}" for currency, amount in sorted(mapping.items()))


def _parse_lines(text: str) -> dict:
    """'EUR 50.00' per line -> {"EUR": "50.00"}; the amounts are validated by settings_normalize."""
    out = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2:
            raise ValidationError(_("Line %(number)s: write a currency and an amount, e.g. “EUR 50.00”.") % {
                "number": number})
        currency = parts[0].upper()
        if currency in out:
            raise ValidationError(_("Line %(number)s: %(currency)s is listed twice.") % {
                "number": number, "currency": currency})
        out[currency] = parts[1]
    return out


class PayoutSettingsForm(forms.Form):
    schedule_kind = forms.ChoiceField(choices=SCHEDULES, label=_("Payout schedule"))
    weekday = forms.TypedChoiceField(choices=WEEKDAYS, coerce=int, label=_("Weekday (weekly schedule)"),
                                     help_text=_("In the network's time zone."))
    day = forms.IntegerField(label=_("Day of the month (monthly schedule)"),
                             help_text=_("1 to 31; a shorter month pays on its last day."))
    thresholds = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label=_("Minimum payout per currency"),
        help_text=_("One per line: currency and amount, e.g. “EUR 50.00”. A balance below it waits for the next run; "
                  "a currency not listed is paid from any positive balance."),
    )
    fee_kind = forms.ChoiceField(choices=[(k, FEE_KIND_LABELS[k]) for k in FEE_KINDS], label=_("Payout fee"))
    fee_flat = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                               label=_("Flat fee per currency"),
                               help_text=_("One per line, e.g. “EUR 1.00” (flat fee only)."))
    fee_percent = forms.CharField(max_length=20, label=_("Fee percent"), help_text=_("0 to 100 (percent fee only)."))
    fee_paid_by = forms.ChoiceField(choices=[(k, FEE_PAYER_LABELS[k]) for k in FEE_PAYERS], label=_("Fee paid by"))

    normalized: dict

    @classmethod
    def initial_for(cls, stored) -> dict:
        """Form values from stored settings (settings that no longer validate show the defaults)."""
        try:
            data = settings_normalize(stored or {})
        except ValidationError:
            data = settings_normalize({})
        return {"schedule_kind": data["schedule"]["kind"], "weekday": data["schedule"]["weekday"],
                "day": data["schedule"]["day"], "thresholds": _lines(data["thresholds"]),
                "fee_kind": data["fee"]["kind"], "fee_flat": _lines(data["fee"]["flat"]),
                "fee_percent": data["fee"]["percent"], "fee_paid_by": data["fee"]["paid_by"]}

    def clean_thresholds(self) -> dict:
        return _parse_lines(self.cleaned_data["thresholds"])

    def clean_fee_flat(self) -> dict:
        return _parse_lines(self.cleaned_data["fee_flat"])

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        raw = {
            "schedule": {"kind": cleaned["schedule_kind"], "weekday": cleaned["weekday"], "day": cleaned["day"]},
            "thresholds": cleaned["thresholds"],
            "fee": {"kind": cleaned["fee_kind"], "flat": cleaned["fee_flat"], "percent": cleaned["fee_percent"],
                    "paid_by": cleaned["fee_paid_by"]},
        }
        try:
            self.normalized = settings_normalize(raw)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                field, currency = ERROR_FIELDS.get(key), ""
                for prefix in ("thresholds", "fee.flat"):
                    if key.startswith(prefix + "."):
                        field, currency = ERROR_FIELDS[prefix], key[len(prefix) + 1:]
                for message in messages:
                    self.add_error(field, f"{currency}: {message}" if currency else message)
        return cleaned


class MarkFailedForm(forms.Form):
    reason = forms.CharField(max_length=255, label=_("Why it failed"))


class ResultsUploadForm(forms.Form):
    file = forms.FileField(label=_("Provider result file (CSV)"),
                           help_text=_("PayPal's payouts report or your bank's result file: a reference "
                                     "(payout-123) and a status (paid, failed...) per row."))
