"""What tracking tells later apps (commissions) without depending on them.

- `conversion_recorded(sender=Conversion, conversion_id=int)`: sent once per new conversion, after its
  transaction commits. Receivers queue their own work (the commission computation).
- `conversion_refunded(sender=Conversion, conversion=Conversion, amount=Decimal, actor=User | None)`: sent
  inside the refund's transaction with this refund's amount (in the conversion's currency) and who refunded,
  so receivers' writes (reversing commissions, audited with that actor) commit or roll back with it.
"""

from django.dispatch import Signal

conversion_recorded = Signal()
conversion_refunded = Signal()
