"""Shared set-up for the payout tests: approved commissions of exact amounts, payout methods, racing starts."""

import threading
from decimal import Decimal

from commissions.models import Commission
from commissions.services import commission_approve
from payouts import batches
from payouts.models import MethodKind, PayoutMethod
from programs.models import TrackingLink
from tests.commissions.helpers import convert, program_with_link


def earn(tenant, amount: str, *, affiliate=None, currency: str | None = None, approve: bool = True) -> Commission:
    """An approved commission of exactly `amount` for `affiliate` (a fixed rule on a program per currency)."""
    affiliate = affiliate or tenant.affiliate
    currency = currency or tenant.network.default_currency
    link = TrackingLink.objects.filter(affiliate=affiliate, program__currency=currency).first()
    if link is None:
        _, link = program_with_link(tenant, affiliate=affiliate, currency=currency, name=f"P {currency}",
                                    rules=[{"event": "sale", "kind": "fixed", "payout": Decimal(amount)}])
    link.program.rules.update(payout=Decimal(amount))
    order = f"o-{affiliate.pk}-{currency}-{Commission.objects.count() + 1}"
    _, [commission] = convert(tenant, link, order, "100", currency=currency)
    if approve:
        commission_approve(network=tenant.network, commission=commission, operator=True)
        commission.refresh_from_db()
    return commission


def method(affiliate, kind=MethodKind.STRIPE_CONNECT, **fields) -> PayoutMethod:
    defaults = {
        MethodKind.STRIPE_CONNECT: {"stripe_account_id": f"acct_aff{affiliate.pk}", "stripe_onboarded": True},
        MethodKind.PAYPAL: {"paypal_email": affiliate.email},
        MethodKind.BANK: {"bank_holder": affiliate.name, "bank_account": "DE89370400440532013000",
                          "bank_bic": "COBADEFFXXX", "bank_country": "DE"},
    }[kind]
    PayoutMethod.objects.filter(affiliate=affiliate, is_default=True).update(is_default=False)
    return PayoutMethod.objects.create(network_id=affiliate.network_id, affiliate=affiliate, kind=kind,
                                       is_default=True, **(defaults | fields))


def hold_runs_until_starts_tried(monkeypatch, starts: int, *callers) -> None:
    """Make racing batch starts overlap whatever the machine's load: a batch's run waits at its first step
    boundary until `starts` calls of `payout_batch_start` (as imported by each module in `callers`) have
    returned or raised. Without it, a loaded machine can run the first batch to its end before the second
    start is tried, and the second then rightly finds nothing running."""
    tried, changed = [0], threading.Condition()
    start = batches.payout_batch_start

    def counted_start(**kwargs):
        try:
            return start(**kwargs)
        finally:
            with changed:
                tried[0] += 1
                changed.notify_all()

    def held_checkpoint(step, **context):
        with changed:
            assert changed.wait_for(lambda: tried[0] >= starts, timeout=30), "the other start was never tried"

    for module in callers:
        monkeypatch.setattr(module, "payout_batch_start", counted_start)
    monkeypatch.setattr(batches, "checkpoint", held_checkpoint)
