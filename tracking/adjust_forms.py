"""The advertiser's correction of an order on its conversion page: the new amount and the order's lines (sku,
category, amount, quantity; lines added or removed), read into what `adjustments.conversion_adjust` takes, which
checks them as it checks the API's."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.money import parse_amount, quantize

from .items import ITEM_TEXT_LENGTH, MAX_ITEM_QUANTITY, item_lines
from .models import Conversion

MAX_LINES = 200  # the API takes 500 items; a page with more rows than this is not a form anyone fills in


class AdjustForm(forms.Form):
    amount = forms.CharField(label=_("New amount"), required=False,
                             help_text=_("Empty with lines: the lines' total."))


class AdjustLineForm(forms.Form):
    sku = forms.CharField(label=_("SKU"), required=False, max_length=ITEM_TEXT_LENGTH)
    category = forms.CharField(label=pgettext_lazy("product", "Category"), required=False,
                               max_length=ITEM_TEXT_LENGTH)
    amount = forms.CharField(label=_("Line amount"), required=False)
    quantity = forms.IntegerField(label=_("Quantity"), required=False, min_value=1, max_value=MAX_ITEM_QUANTITY)
    remove = forms.BooleanField(label=_("Remove"), required=False)

    def blank(self) -> bool:
        data = self.cleaned_data
        return not (data.get("sku") or data.get("category") or data.get("amount"))


def _amount(form: forms.Form, raw: str, currency: str) -> Decimal | None:
    try:
        amount = parse_amount(raw)
    except ValueError:
        form.add_error("amount", _('Enter an amount such as "10.00".'))
        return None
    if amount < 0:
        form.add_error("amount", _("Must be zero or more."))
    elif amount != quantize(amount, currency):
        form.add_error("amount", _("More decimal places than %(currency)s has.") % {"currency": currency})
    else:
        return amount
    return None


def line_forms(conversion: Conversion, data=None, *, more: int = 0) -> list[AdjustLineForm]:
    """The order's lines as form rows: the conversion's items and one empty row (a GET), or the rows posted, with
    `more` empty rows added (the *Add a line* button)."""
    if data is None:
        lines = item_lines(conversion.items) or []
        initial = [{"sku": line["sku"], "category": line["category"], "quantity": line["quantity"],
                    "amount": str(quantize(line["amount"], conversion.currency))} for line in lines]
        return [AdjustLineForm(prefix=f"items-{i}", initial=row) for i, row in enumerate([*initial, {}])]
    try:
        count = max(0, min(int(data.get("items-TOTAL_FORMS", "0")), MAX_LINES))
    except ValueError:
        count = 0
    rows = [AdjustLineForm(data, prefix=f"items-{i}") for i in range(count)]
    return rows + [AdjustLineForm(prefix=f"items-{count + i}") for i in range(min(more, MAX_LINES - count))]


def correction_read(conversion: Conversion, form: AdjustForm, rows: list[AdjustLineForm]
                    ) -> tuple[Decimal | None, list[dict] | None] | None:
    """(amount, items) for the correction: items None when the lines are the order's as recorded (an amount-only
    correction keeps the items as sent, with any fields of theirs the form does not show). None: errors are on the
    forms."""
    rows_valid = [row.is_valid() for row in rows]  # each row's errors next to it, not only the first's
    if not form.is_valid() or not all(rows_valid):
        return None
    currency = conversion.currency
    amount = None
    if form.cleaned_data["amount"].strip():
        amount = _amount(form, form.cleaned_data["amount"].strip(), currency)
        if amount is None:
            return None
    items, ok = [], True
    for row in rows:
        if row.cleaned_data.get("remove") or row.blank():
            continue
        if not row.cleaned_data.get("amount", "").strip():
            row.add_error("amount", _("Give the line's amount."))
            ok = False
            continue
        line_amount = _amount(row, row.cleaned_data["amount"].strip(), currency)
        if line_amount is None:
            ok = False
            continue
        items.append({"sku": row.cleaned_data["sku"].strip(), "category": row.cleaned_data["category"].strip(),
                      "amount": str(line_amount), "quantity": row.cleaned_data.get("quantity") or 1})
    if not ok:
        return None
    recorded = item_lines(conversion.items) or []
    same = [(line["sku"], line["category"], line["quantity"], line["amount"]) for line in recorded] == [
        (item["sku"], item["category"], item["quantity"], Decimal(item["amount"])) for item in items]
    if same or (not conversion.items and not items):
        if amount is None:  # the lines as recorded and no amount: the same order
            form.add_error(None, _("Nothing changes: give a different amount or items."))
            return None
        return amount, None
    return amount, items

