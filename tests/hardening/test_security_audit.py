"""Every action that moves money, done through the API, leaves an audit-log row naming who did it."""

from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from commissions.models import Commission
from network.models import AuditLog
from payouts.models import MethodKind, Payout, PayoutBatch
from tests.commissions.helpers import convert, program_with_link
from tests.payouts.helpers import earn, method


def audited(network, action, target, actor_user) -> AuditLog:
    rows = AuditLog.objects.filter(network=network, action=action, target_type=target._meta.label_lower,
                                   target_id=str(target.pk))
    assert rows.exists(), f"no {action} for {target!r}: {list(AuditLog.objects.values_list('action', flat=True))}"
    row = rows.latest("pk")
    assert row.actor_id == actor_user.pk, (action, row.actor_id, actor_user.pk)
    return row


def test_commission_decisions_and_refunds_are_audited_with_their_actor(world):
    tenant = world.a
    _, link = program_with_link(tenant, rules=[{"event": "sale", "kind": "percent", "payout": Decimal("10")}])
    commissions = [convert(tenant, link, f"AUD-{n}", "100.00")[1][0] for n in range(6)]
    advertiser, owner = tenant.client("advertiser"), tenant.client("owner")
    adv_user, owner_user = tenant.advertiser.membership.user, tenant.owner.user
    c_approve, c_reject, c_hold, c_bulk1, c_bulk2, c_refund = commissions

    assert advertiser.post(f"/api/v1/commissions/{c_approve.pk}/approve").status_code == 200
    audited(tenant.network, "commission.approved", c_approve, adv_user)

    response = advertiser.post(f"/api/v1/commissions/{c_reject.pk}/reject", {"reason": "fraud"}, format="json")
    assert response.status_code == 200
    assert audited(tenant.network, "commission.rejected", c_reject, adv_user).data["reason"] == "fraud"

    assert owner.post(f"/api/v1/commissions/{c_hold.pk}/hold", {"reason": "review"}, format="json").status_code == 200
    audited(tenant.network, "commission.on_hold", c_hold, owner_user)
    assert owner.post(f"/api/v1/commissions/{c_hold.pk}/release").status_code == 200
    audited(tenant.network, "commission.released", c_hold, owner_user)

    response = advertiser.post("/api/v1/commissions/bulk-approve", {"ids": [c_bulk1.pk, c_bulk2.pk]}, format="json")
    assert response.status_code == 200 and response.json()["approved"] == 2
    audited(tenant.network, "commission.approved", c_bulk1, adv_user)
    audited(tenant.network, "commission.approved", c_bulk2, adv_user)

    conversion = c_refund.conversion
    response = advertiser.post(f"/api/v1/conversions/{conversion.pk}/refund", {"amount": "40.00"}, format="json")
    assert response.status_code == 200, response.content
    row = audited(tenant.network, "conversion.refunded", conversion, adv_user)
    assert Decimal(row.data["amount"]) == Decimal("40") and row.data["currency"] == "EUR"
    audited(tenant.network, "commission.reversed", c_refund, adv_user)


def test_payout_settings_and_methods_changes_are_audited(world):
    tenant = world.a
    owner_user, aff_user = tenant.owner.user, tenant.affiliate.membership.user
    response = tenant.client("owner").patch("/api/v1/payout-settings", {"thresholds": {"EUR": "25.00"}},
                                            format="json")
    assert response.status_code == 200
    row = audited(tenant.network, "payout_settings.updated", tenant.network, owner_user)
    assert "thresholds" in str(row.data)

    affiliate = tenant.client("affiliate")
    response = affiliate.post("/api/v1/payout-methods", {"kind": "paypal", "paypal_email": "me@pay.test"},
                              format="json")
    assert response.status_code == 201
    first = tenant.affiliate.payout_methods.get(pk=response.json()["id"])
    audited(tenant.network, "payout_method.created", first, aff_user)
    response = affiliate.post("/api/v1/payout-methods", {
        "kind": "bank", "bank_holder": "Alpha Blog", "bank_account": "DE89 3704 0044 0532 0130 00",
        "bank_bic": "COBADEFFXXX", "bank_country": "DE"}, format="json")
    second = tenant.affiliate.payout_methods.get(pk=response.json()["id"])
    assert affiliate.patch(f"/api/v1/payout-methods/{first.pk}", {"paypal_email": "new@pay.test"},
                           format="json").status_code == 200
    audited(tenant.network, "payout_method.updated", first, aff_user)
    assert affiliate.post(f"/api/v1/payout-methods/{second.pk}/set-default").status_code == 200
    audited(tenant.network, "payout_method.default", second, aff_user)
    assert affiliate.delete(f"/api/v1/payout-methods/{first.pk}").status_code == 204
    audited(tenant.network, "payout_method.deleted", first, aff_user)


def test_payout_batch_lifecycle_is_audited_with_its_actors(world):
    tenant = world.a
    owner, staff = tenant.client("owner"), tenant.client("staff")
    owner_user, staff_user = tenant.owner.user, tenant.staff.user
    earn(tenant, "30.00", affiliate=tenant.affiliate)
    earn(tenant, "20.00", affiliate=tenant.affiliate2)
    method(tenant.affiliate, MethodKind.PAYPAL)
    method(tenant.affiliate2, MethodKind.BANK)

    response = owner.post("/api/v1/payout-batches")
    assert response.status_code == 201, response.content
    batch = PayoutBatch.objects.get(pk=response.json()["id"])
    audited(tenant.network, "payout_batch.started", batch, owner_user)
    audited(tenant.network, "payout_batch.sent", batch, owner_user)  # the run acts for whoever started it
    paypal, bank = Payout.objects.get(affiliate=tenant.affiliate), Payout.objects.get(affiliate=tenant.affiliate2)
    audited(tenant.network, "payout.created", paypal, owner_user)
    assert set(Commission.objects.filter(status="paid").values_list("affiliate", flat=True)) == {
        tenant.affiliate.pk, tenant.affiliate2.pk}

    assert staff.post(f"/api/v1/payout-batches/{batch.pk}/run").status_code == 200
    audited(tenant.network, "payout_batch.resumed", batch, staff_user)

    assert staff.post(f"/api/v1/payouts/{paypal.pk}/mark-paid", {"reference": "PP-1"},
                      format="json").status_code == 200
    assert audited(tenant.network, "payout.paid", paypal, staff_user).data["reference"] == "PP-1"

    upload = SimpleUploadedFile("results.csv", f"Reference,Status,Reason\npayout-{bank.pk},Returned,Closed\n".encode(),
                                content_type="text/csv")
    response = owner.post(f"/api/v1/payout-batches/{batch.pk}/results", {"file": upload}, format="multipart")
    assert response.status_code == 200, response.content
    audited(tenant.network, "payout.failed", bank, owner_user)
    row = audited(tenant.network, "payout_batch.results_imported", batch, owner_user)
    assert (row.data["rows"], row.data["failed"]) == (1, 1)
    # The last open payout closed the batch: completed, by the one whose file closed it.
    batch.refresh_from_db()
    assert batch.status == PayoutBatch.Status.COMPLETED
    audited(tenant.network, "payout_batch.completed", batch, owner_user)


def test_marking_the_last_payout_by_hand_completes_the_batch_with_that_actor(world):
    tenant = world.a
    earn(tenant, "30.00")
    method(tenant.affiliate, MethodKind.BANK)
    batch = PayoutBatch.objects.get(pk=tenant.client("owner").post("/api/v1/payout-batches").json()["id"])
    payout = Payout.objects.get()
    response = tenant.client("staff").post(f"/api/v1/payouts/{payout.pk}/mark-failed", {"reason": "closed"},
                                           format="json")
    assert response.status_code == 200
    audited(tenant.network, "payout.failed", payout, tenant.staff.user)
    audited(tenant.network, "payout_batch.completed", batch, tenant.staff.user)
    assert AuditLog.objects.filter(action="payout_batch.completed").count() == 1
