"""Demo payouts: each demo affiliate gets a payout method (Stripe Connect with a made-up account, PayPal, bank),
the network a monthly schedule, and one batch that is paid. Stripe is never called: the batch runs in manual
mode and the operator's "mark paid" settles every payout. Idempotent: the batch is keyed by its period."""

from django.db.models import Count

from .batches import BatchRunning, payout_batch_run, payout_batch_start
from .models import MethodKind, Payout, PayoutBatch, PayoutMethod
from .transitions import payout_mark_paid

PERIOD = "demo:first-batch"
SETTINGS = {
    "schedule": {"kind": "monthly", "weekday": 0, "day": 1},
    "thresholds": {"EUR": "1.00", "USD": "1.00"},
    "fee": {"kind": "none", "flat": {}, "percent": "0", "paid_by": "affiliate"},
}


def _methods(network, affiliates) -> None:
    plans = [
        (MethodKind.STRIPE_CONNECT, {"stripe_account_id": "acct_1DemoTrailReviews", "stripe_onboarded": True}),
        (MethodKind.PAYPAL, {}),
        (MethodKind.BANK, {"bank_country": "DE", "bank_account": "DE89370400440532013000",
                           "bank_bic": "COBADEFFXXX"}),
    ]
    for affiliate, (kind, fields) in zip(affiliates, plans, strict=False):
        if PayoutMethod.objects.filter(network=network, affiliate=affiliate).exists():
            continue
        if kind == MethodKind.PAYPAL:
            fields = {"paypal_email": affiliate.email}
        if kind == MethodKind.BANK:
            fields = fields | {"bank_holder": affiliate.name}
        PayoutMethod.objects.create(network=network, affiliate=affiliate, kind=kind, is_default=True, **fields)


def seed(ctx: dict) -> None:
    network = ctx.get("network")
    affiliates = list(ctx.get("affiliates") or [])
    if network is None or not affiliates:
        return
    _methods(network, affiliates)
    if not network.payout_settings:
        network.payout_settings = SETTINGS
        network.save(update_fields=["payout_settings"])
    try:
        batch = payout_batch_start(network=network, period_key=PERIOD, actor=getattr(ctx.get("owner"), "user", None))
    except BatchRunning:
        ctx.setdefault("summary", []).append("Payouts: a batch is running; the demo batch was not made.")
        return
    batch = payout_batch_run(batch_id=batch.pk, network_id=batch.network_id, manual=True)
    for payout in batch.payouts.filter(status=Payout.Status.PROCESSING).order_by("pk"):
        payout_mark_paid(network=network, payout=payout, reference=f"DEMO-{payout.pk}", source="demo")
    batch = PayoutBatch.objects.get(network=network, pk=batch.pk)
    counts = dict(batch.payouts.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    ctx.setdefault("summary", []).append(
        f"Payouts: batch #{batch.pk} {batch.status}, {counts.get('paid', 0)} paid, {len(batch.skipped)} skipped")
