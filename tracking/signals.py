"""What tracking tells later apps (commissions), and its own task modules, without depending on them.

Each names the network of its rows (`network_id`, `network_ids`), so the tasks read them on that network.

- `conversion_recorded(sender=Conversion, conversion_id=int, network_id=int)`: sent once per new conversion, after its
  transaction commits. Receivers queue their own work (the commission computation).
- `conversions_recorded(sender=Conversion, conversion_ids=list[int], network_id=int)`: the same for a batch of new
  conversions of one network (a CSV import's chunk), after their transaction commits: receivers handle them as one
  batch.
- `conversion_refunded(sender=Conversion, conversion=Conversion, amount=Decimal, actor=User | None,
  items=list[{sku, amount}] | None)`: sent inside the refund's transaction with this refund's amount (in the
  conversion's currency), who refunded and, for a refund by item, the items' amounts, so receivers' writes
  (reversing commissions, audited with that actor) commit or roll back with it (a ValidationError raised there
  answers the refund's 400).
- `conversion_adjusted(sender=Conversion, conversion=Conversion, before={"amount", "items"}, actor=User | None)`:
  sent inside the adjustment's transaction (`adjustments.conversion_adjust`) with what the conversion was before;
  receivers (commissions priced again) commit or roll back with it.
- `deliveries_created(sender=Delivery, delivery_ids=list[int], network_ids=list[int])`: sent after the commit
  that wrote deliveries (webhooks, postbacks) to send; `tasks_outbound` queues one send each.
- `conversion_awaiting_click(sender=Conversion, conversion_id=int, network_id=int)`: sent after the commit of a
  conversion recorded before its click was ingested; `tasks_outbound` queues its late attribution.
- `conversion_import_queued(sender=ConversionImport, import_id=int, network_id=int)`: sent after the commit of a
  new CSV import; `tasks_imports` queues its processing.

The last three keep the task modules above the services they run (`tasks_outbound` imports `services` and
`outbound`; neither imports it back).
"""

from django.dispatch import Signal

conversion_recorded = Signal()
conversions_recorded = Signal()
conversion_refunded = Signal()
conversion_adjusted = Signal()
deliveries_created = Signal()
conversion_awaiting_click = Signal()
conversion_import_queued = Signal()
