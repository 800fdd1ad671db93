"""API shapes for tenancy."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.filters import MAX_ID

from .models import Advertiser, Affiliate, Announcement, ApiKey, Membership, Network, PartnerGroup


class NetworkSerializer(serializers.ModelSerializer):
    class Meta:
        model = Network
        fields = ["id", "name", "slug", "default_currency", "timezone", "is_public", "advertiser_tracking_domains"]
        extra_kwargs = {
            "advertiser_tracking_domains": {
                "help_text": "Advertisers may add a tracking domain for their programs (/api/v1/tracking-domains)."},
            "is_public": {"help_text": "Listed on the installation's home page: anyone may find its join page."},
        }


class NetworkSettingsSerializer(serializers.ModelSerializer):
    """The network's settings as its operators read and change them (`/api/v1/network`)."""

    language = serializers.CharField(read_only=True, help_text="The language of the network's pages and e-mails "
                                     "(en, lv, ru, id, pl); empty: each person's browser language.")

    class Meta:
        model = Network
        fields = ["id", "name", "slug", "default_currency", "timezone", "language", "is_public",
                  "affiliate_approval_required", "advertiser_tracking_domains"]
        read_only_fields = ["id", "name", "slug", "default_currency", "timezone", "language",
                            "advertiser_tracking_domains"]
        extra_kwargs = {
            "is_public": {"help_text": "Listed on the installation's home page: anyone may find its join page "
                                       "(/n/<slug>/join)."},
            "affiliate_approval_required": {"help_text": "Affiliates who sign up wait for an operator's approval."},
        }


class MeSerializer(serializers.Serializer):
    network = NetworkSerializer()
    role = serializers.CharField()
    user = serializers.DictField()
    party = serializers.DictField(allow_null=True, help_text="The key's advertiser or affiliate: type, id, name, "
                                  "email, status; an affiliate's also its `referral_code`.")

    @staticmethod
    def for_membership(membership: Membership) -> dict:
        party = membership.party
        return {
            "network": membership.network,
            "role": membership.role,
            "user": {"id": membership.user_id, "email": membership.user.email},
            "party": None
            if party is None
            else {"type": membership.role, "id": party.pk, "name": party.name, "email": party.email,
                  "status": party.status,
                  # An affiliate's referral code: the network's join page with `?ref=<code>` refers new partners.
                  **({"referral_code": party.referral_code} if hasattr(party, "referral_code") else {})},
        }


class PartyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    email = serializers.EmailField(max_length=254)


def _group_field(**kwargs):
    return serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_ID,
                                    help_text="A partner group of the network (its id); null: no group.", **kwargs)


class AffiliateCreateSerializer(PartyCreateSerializer):
    referred_by = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_ID)
    group = _group_field()


class AffiliateUpdateSerializer(serializers.Serializer):
    group = _group_field()


class AdvertiserSerializer(serializers.ModelSerializer):
    class Meta:
        model = Advertiser
        fields = ["id", "name", "email", "status", "created_at"]


class AffiliateSerializer(serializers.ModelSerializer):
    group_name = serializers.SerializerMethodField()

    class Meta:
        model = Affiliate
        fields = ["id", "name", "email", "status", "referred_by", "referral_code", "group", "group_name",
                  "created_at"]
        read_only_fields = ["referral_code"]
        extra_kwargs = {"referral_code": {"help_text": "The affiliate's referral code: the network's join page "
                                                        "with `?ref=<code>` records who referred a new partner."}}

    @extend_schema_field({"type": "string", "nullable": True})
    def get_group_name(self, affiliate) -> str | None:
        return affiliate.group.name if affiliate.group_id else None


class PartnerGroupSerializer(serializers.ModelSerializer):
    affiliates = serializers.SerializerMethodField(help_text="How many of the network's affiliates are in it.")

    class Meta:
        model = PartnerGroup
        fields = ["id", "name", "description", "affiliates", "created_at"]
        read_only_fields = ["created_at"]

    def get_affiliates(self, group) -> int:
        if hasattr(group, "affiliate_count"):
            return group.affiliate_count
        return Affiliate.objects.for_network(group.network_id).filter(group=group).count()


class PartnerGroupWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=60)
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class PartnerGroupAssignSerializer(serializers.Serializer):
    affiliates = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), allow_empty=False, min_length=1, max_length=1000,
        help_text="Affiliate ids to put in this group (an advertiser: affiliates partnered in its programs).")


class PartnerGroupAssignedSerializer(serializers.Serializer):
    group = serializers.IntegerField()
    affiliates = serializers.ListField(child=serializers.IntegerField())
    changed = serializers.IntegerField(help_text="How many were not in the group before.")


class PartyCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField()
    api_key = serializers.CharField(help_text="Shown once; store it now.")


class ApiKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]


class ApiKeyCreatedSerializer(ApiKeySerializer):
    api_key = serializers.CharField(read_only=True, help_text="Shown once; store it now.")

    class Meta(ApiKeySerializer.Meta):
        fields = ApiKeySerializer.Meta.fields + ["api_key"]


class AnnouncementSerializer(serializers.ModelSerializer):
    class Meta:
        model = Announcement
        fields = ["id", "audience", "title", "body", "created_at"]
        read_only_fields = ["created_at"]
