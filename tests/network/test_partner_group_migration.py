"""The data migration to partner groups keeps every affiliate's and rule's group: a group name of before becomes
one PartnerGroup per network, and the group rule still pays the same affiliates."""

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("network", "0005_idempotencykey"), ("programs", "0004_i13_fraud_program_velocity")]
AFTER = [("network", "0009_affiliate_group_name_removed"), ("programs", "0008_rule_group_name_removed")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.skipif(bool(settings.CITUS_URL), reason=(
    "migrates back to single-column keys, which a distributed table cannot have (Citus wants network_id in every "
    "key): on Citus the schema never migrates back past payouts/0007"))
@pytest.mark.django_db(transaction=True)
def test_group_names_become_partner_groups_of_their_network():
    old = _migrate(BEFORE)
    try:
        Network, User, Membership = (old.get_model("network", name) for name in ("Network", "User", "Membership"))
        Affiliate, Advertiser = old.get_model("network", "Affiliate"), old.get_model("network", "Advertiser")
        Program, Rule = old.get_model("programs", "Program"), old.get_model("programs", "CommissionRule")
        affiliates = {}
        for slug in ("a", "b"):
            network = Network.objects.create(name=slug, slug=slug)
            for name, group in (("gold-1", "gold"), ("gold-2", "gold"), ("none", "")):
                user = User.objects.create(username=f"{slug}{name}", email=f"{name}@{slug}.test")
                membership = Membership.objects.create(network=network, user=user, role="affiliate")
                affiliates[slug, name] = Affiliate.objects.create(
                    network=network, membership=membership, name=name, email=f"{name}@{slug}.test", group=group).pk
            user = User.objects.create(username=f"{slug}shop", email=f"shop@{slug}.test")
            advertiser = Advertiser.objects.create(
                network=network, name="Shop", email=f"shop@{slug}.test",
                membership=Membership.objects.create(network=network, user=user, role="advertiser"))
            program = Program.objects.create(network=network, advertiser=advertiser, name="P", currency="EUR",
                                             landing_url="https://shop.example.com/")
            for group in ("", "gold", "silver"):  # no affiliate is in "silver" yet
                Rule.objects.create(network=network, program=program, kind="percent", payout=10, group=group)
    finally:
        new = _migrate(AFTER)
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    PartnerGroup = new.get_model("network", "PartnerGroup")
    Affiliate, Rule = new.get_model("network", "Affiliate"), new.get_model("programs", "CommissionRule")
    for slug in ("a", "b"):
        groups = {g.name: g for g in PartnerGroup.objects.filter(network__slug=slug)}
        assert set(groups) == {"gold", "silver"}
        assert Affiliate.objects.get(pk=affiliates[slug, "gold-1"]).group_id == groups["gold"].pk
        assert Affiliate.objects.get(pk=affiliates[slug, "gold-2"]).group_id == groups["gold"].pk
        assert Affiliate.objects.get(pk=affiliates[slug, "none"]).group_id is None
        rules = Rule.objects.filter(network__slug=slug)
        assert sorted(str(r.group_id and r.group.name) for r in rules) == ["None", "gold", "silver"]
        assert rules.get(group__name="gold").group_id == groups["gold"].pk
