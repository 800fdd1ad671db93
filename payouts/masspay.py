"""Mass-pay files for PayPal and bank payouts, and the provider's result file coming back.

PayPal Payouts (web upload) file: no header; one row per payout: recipient e-mail, amount, currency, Customer ID
(our reference, at most 30 characters, no spaces), note to the recipient (in their language), recipient wallet
(PAYPAL). One
currency per file. Bank file (for the bank's bulk transfer import or a person): a header row, then holder, IBAN
or account, BIC or routing, country, amount, currency, reference. Only payouts awaiting payment are listed.
"""

import csv
import io

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from core.csvsafe import spreadsheet_text
from core.money import quantize
from core.words import message
from network.i18n import choice_word, language_of
from network.services import audit_log_record

from .models import MethodKind, Payout, PayoutBatch
from .transitions import PayoutTransitionError, payout_mark_failed, payout_mark_paid

BANK_HEADER = ["holder", "iban", "bic", "country", "amount", "currency", "reference"]
PAID_WORDS = {"paid", "completed", "complete", "success", "succeeded", "successful", "sent"}
FAILED_WORDS = {"failed", "failure", "returned", "denied", "blocked", "refunded", "reversed", "rejected",
                "unclaimed_returned", "canceled", "cancelled"}
ID_COLUMNS = ("customer id", "customer_id", "reference", "unique id", "payout id", "payout_id", "sender item id")
STATUS_COLUMNS = ("status", "transaction status", "result")
REASON_COLUMNS = ("reason", "failure reason", "error", "note")
REF_COLUMNS = ("transaction id", "paypal transaction id", "provider_reference", "provider reference")
MAX_ROWS = 5000


def _cell(value: str) -> str:
    """Spreadsheet-safe text: a leading = + - @ (after any blanks) would be read as a formula."""
    return spreadsheet_text(str(value))


def _payouts(batch: PayoutBatch, kind: str):
    # Not `batch.payouts`: a batch from the API carries those prefetched with a few columns only.
    return Payout.objects.filter(network_id=batch.network_id, batch_id=batch.pk, method_kind=kind,
                                 status=Payout.Status.PROCESSING).order_by("pk")


def _recipient_note(payout: Payout, network) -> str:
    """PayPal's note to the recipient, in the affiliate's language (their choice, else the network's)."""
    with language_of(user=payout.affiliate.membership.user, network=network):
        return _("Affiliate payout %(reference)s") % {"reference": payout.reference}


def paypal_currencies(batch: PayoutBatch) -> list[str]:
    return sorted(set(_payouts(batch, MethodKind.PAYPAL).values_list("currency", flat=True)))


def paypal_csv(batch: PayoutBatch, currency: str | None = None) -> str:
    currencies = paypal_currencies(batch)
    if currency is None:
        if len(currencies) > 1:
            raise ValidationError({"currency": [_("PayPal takes one currency per file; choose one of %(currencies)s.")
                                                % {"currencies": ", ".join(currencies)}]})
        currency = currencies[0] if currencies else None
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    network = batch.network
    for payout in (_payouts(batch, MethodKind.PAYPAL).filter(currency=currency)
                   .select_related("affiliate__membership__user")):
        writer.writerow([
            _cell(payout.method_snapshot.get("paypal_email", "")), str(quantize(payout.net, payout.currency)),
            payout.currency, payout.reference, _cell(_recipient_note(payout, network)), "PAYPAL",
        ])
    return out.getvalue()


def bank_csv(batch: PayoutBatch) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(BANK_HEADER)
    for payout in _payouts(batch, MethodKind.BANK):
        snap = payout.method_snapshot
        writer.writerow([
            _cell(snap.get("bank_holder", "")), _cell(snap.get("bank_account", "")), _cell(snap.get("bank_bic", "")),
            _cell(snap.get("bank_country", "")), str(quantize(payout.net, payout.currency)), payout.currency,
            payout.reference,
        ])
    return out.getvalue()


def _column(header: list[str], names: tuple) -> int | None:
    for index, name in enumerate(header):
        if name in names:
            return index
    return None


def _parse(raw: bytes) -> list[dict]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError({"file": [_("The file is not UTF-8 text.")]}) from exc
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise ValidationError({"file": [_("Not a CSV file: %(error)s") % {"error": exc}]}) from exc
    if not rows:
        raise ValidationError({"file": [_("The file is empty.")]})
    header = [h.strip().lower() for h in rows[0]]
    id_col, status_col = _column(header, ID_COLUMNS), _column(header, STATUS_COLUMNS)
    if id_col is None or status_col is None:
        raise ValidationError({"file": [_("A header row with a reference column (e.g. “Customer ID” or “reference”) "
                                           "and a “status” column is required.")]})
    reason_col, ref_col = _column(header, REASON_COLUMNS), _column(header, REF_COLUMNS)
    if len(rows) - 1 > MAX_ROWS:
        raise ValidationError({"file": [ngettext("At most %(count)s row.", "At most %(count)s rows.", MAX_ROWS)
                                        % {"count": MAX_ROWS}]})
    parsed = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue

        def get(col, row=row):
            return row[col].strip() if col is not None and col < len(row) else ""

        parsed.append({"line": number, "reference": get(id_col), "status": get(status_col).lower(),
                       "reason": get(reason_col), "provider_reference": get(ref_col)})
    return parsed


def _line(row: dict) -> str:
    return _("line %(number)s") % {"number": row["line"]}


def results_import(*, network, batch: PayoutBatch, raw: bytes, actor=None) -> list[dict]:
    """Apply the provider's result file to the batch's PayPal/bank payouts: all rows or none.

    Each row names a payout by reference (`payout-<id>`) and a status (paid/completed/success... or
    failed/returned/denied...; others, e.g. pending or unclaimed, leave the payout as it is)."""
    rows = _parse(raw)
    payouts = {p.reference: p for p in batch.payouts.exclude(method_kind=MethodKind.STRIPE_CONNECT)}
    errors = {}
    for row in rows:
        payout = payouts.get(row["reference"])
        if payout is None:
            errors[_line(row)] = [_("No PayPal or bank payout “%(reference)s” in this batch.") % {
                "reference": row["reference"]}]
        elif row["status"] in PAID_WORDS and payout.status not in (Payout.Status.PROCESSING, Payout.Status.PAID):
            errors[_line(row)] = [_("Payout %(id)s is %(status)s; it cannot be marked paid.") % {
                "id": payout.pk, "status": choice_word(Payout.Status, payout.status)}]
        elif row["status"] in FAILED_WORDS and payout.status not in (Payout.Status.PROCESSING, Payout.Status.FAILED):
            errors[_line(row)] = [_("Payout %(id)s is %(status)s; it cannot be marked failed.") % {
                "id": payout.pk, "status": choice_word(Payout.Status, payout.status)}]
    if errors:
        raise ValidationError(errors)
    results = []
    with transaction.atomic():
        for row in rows:
            payout = payouts[row["reference"]]
            try:
                if row["status"] in PAID_WORDS:
                    payout = payout_mark_paid(network=network, payout=payout, actor=actor, source="results",
                                              reference=row["provider_reference"], provider_status=row["status"])
                elif row["status"] in FAILED_WORDS:
                    payout = payout_mark_failed(network=network, payout=payout, actor=actor, source="results",
                                                reason=row["reason"] or message(
                                                    gettext_noop("Provider: %(status)s"), {"status": row["status"]}),
                                                provider_status=row["status"])
            except PayoutTransitionError as exc:  # changed meanwhile: reject the whole file
                raise ValidationError({_line(row): [str(exc)]}) from exc
            results.append({"line": row["line"], "payout": payout.pk, "status": payout.status})
        audit_log_record(network=network, actor=actor, action="payout_batch.results_imported", target=batch,
                         data={"rows": len(rows), "paid": sum(r["status"] == Payout.Status.PAID for r in results),
                               "failed": sum(r["status"] == Payout.Status.FAILED for r in results)})
    return results
