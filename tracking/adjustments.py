"""An advertiser's correction of a recorded conversion (the order changed after the sale): its amount and/or its
items. Commissions follow inside the same transaction (`conversion_adjusted`: commissions price the lines again
and post the difference), so a correction and its money commit or roll back together."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from core.money import format_amount, quantize
from network.models import Network, User
from network.services import audit_log_record

from .daily import conversions_kept
from .items import item_lines
from .models import Conversion
from .recording import amount_error
from .signals import conversion_adjusted


def conversion_adjust(*, network: Network, conversion: Conversion, amount: Decimal | None = None,
                      items: list[dict] | None = None, actor: User | None = None) -> Conversion:
    """Set the conversion's `amount` and/or `items` (items without an amount: the amount becomes their total).
    After partial refunds the corrected order replaces the cart and what was refunded stays refunded: the new amount
    must leave something beyond it. Refused (400) on a fully refunded conversion, on an amount out of bounds or not
    above what was refunded, and when nothing is given or nothing changes."""
    if amount is None and items is None:
        raise ValidationError({"detail": [gettext("Give the new amount, the new items, or both.")]})
    with transaction.atomic():
        conversion = Conversion.objects.for_network(network).select_for_update().get(pk=conversion.pk)
        refunded = Decimal(conversion.refunded_amount)
        if refunded > 0 and refunded >= conversion.amount:
            raise ValidationError({"detail": [gettext("This conversion is fully refunded: nothing is left of the "
                                                      "order to correct.")]})
        lines = None
        if items is not None:
            lines = item_lines(items)
            if lines is None:
                raise ValidationError({"items": [gettext("Each item is an object with sku, category, amount, "
                                                         "quantity.")]})
            if amount is None:
                amount = sum((line["amount"] for line in lines), Decimal(0))
        error = amount_error(amount, conversion.currency)
        if error is not None:
            raise ValidationError({"amount": [error]})
        if lines is not None and sum((line["amount"] for line in lines), Decimal(0)) > amount:
            raise ValidationError({"items": [gettext("The items total more than the conversion's amount.")]})
        recorded = sum((line["amount"] for line in item_lines(conversion.items) or []), Decimal(0))
        if lines is None and recorded > amount:  # an amount alone: the recorded items must still fit in it
            raise ValidationError({"amount": [gettext("Less than the total of the order's items (%(total)s).")
                                              % {"total": format_amount(recorded, conversion.currency)}]})
        if refunded > 0 and amount <= refunded:
            raise ValidationError({"amount": [gettext(
                "%(refunded)s of this order is already refunded: the corrected amount must be more than that.")
                % {"refunded": format_amount(refunded, conversion.currency)}]})
        before = {"amount": conversion.amount, "items": conversion.items}
        new_items = conversion.items if items is None else items
        if amount == conversion.amount and new_items == conversion.items:
            raise ValidationError({"detail": [gettext("Nothing changes: give a different amount or items.")]})
        with conversions_kept(network.pk, [conversion.pk]):
            conversion.amount, conversion.items = amount, new_items
            conversion.save(update_fields=["amount", "items"])
        audit_log_record(network=network, actor=actor, action="conversion.adjusted", target=conversion,
                         data={"amount_before": str(quantize(before["amount"], conversion.currency)),
                               "amount": str(quantize(amount, conversion.currency)),
                               "currency": conversion.currency, "items_changed": items is not None})
        conversion_adjusted.send(sender=Conversion, conversion=conversion, before=before, actor=actor)
    return conversion
