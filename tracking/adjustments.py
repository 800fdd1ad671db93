"""An advertiser's correction of a recorded conversion (the order changed after the sale): its amount and/or its
items. Commissions follow inside the same transaction (`conversion_adjusted`: commissions price the lines again
and post the difference), so a correction and its money commit or roll back together."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.money import quantize
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
    Refused (400) on a conversion with refunds (refund what changed instead), on an amount out of bounds, and
    when nothing is given or nothing changes."""
    if amount is None and items is None:
        raise ValidationError({"detail": [_("Give the new amount, the new items, or both.")]})
    with transaction.atomic():
        conversion = Conversion.objects.for_network(network).select_for_update().get(pk=conversion.pk)
        if conversion.refunded_amount > 0:
            raise ValidationError({"detail": [_("This conversion has refunds: refund what changed instead of "
                                                "adjusting it.")]})
        lines = None
        if items is not None:
            lines = item_lines(items)
            if lines is None:
                raise ValidationError({"items": [_("Each item is an object with sku, category, amount, quantity.")]})
            if amount is None:
                amount = sum((line["amount"] for line in lines), Decimal(0))
        error = amount_error(amount, conversion.currency)
        if error is not None:
            raise ValidationError({"amount": [error]})
        if lines is not None and sum((line["amount"] for line in lines), Decimal(0)) > amount:
            raise ValidationError({"items": [_("The items total more than the conversion's amount.")]})
        before = {"amount": conversion.amount, "items": conversion.items}
        new_items = conversion.items if items is None else items
        if amount == conversion.amount and new_items == conversion.items:
            raise ValidationError({"detail": [_("Nothing changes: give a different amount or items.")]})
        with conversions_kept(network.pk, [conversion.pk]):
            conversion.amount, conversion.items = amount, new_items
            conversion.save(update_fields=["amount", "items"])
        audit_log_record(network=network, actor=actor, action="conversion.adjusted", target=conversion,
                         data={"amount_before": str(quantize(before["amount"], conversion.currency)),
                               "amount": str(quantize(amount, conversion.currency)),
                               "currency": conversion.currency, "items_changed": items is not None})
        conversion_adjusted.send(sender=Conversion, conversion=conversion, before=before, actor=actor)
    return conversion
