"""The one scoping mechanism every API view goes through.

A view names its tenant `model`; `get_queryset()` (which subclasses may not override)
reads `model.objects.for_network(request's network)` and hands it to `scope_queryset()`
for role rules. An object of another network is therefore never found: 404. A view that
truly needs an unscoped query must call it `dangerously_get_queryset`.
"""

from functools import cached_property

from rest_framework import generics, viewsets

from .auth import membership_for_request
from .models import Membership, Network
from .permissions import HasRole, IsNetworkMember


class TenantScoped:
    model = None
    permission_classes = [IsNetworkMember, HasRole]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} overrides get_queryset(); narrow with scope_queryset() instead, "
                "or name an unscoped query dangerously_get_queryset()."
            )

    @cached_property
    def membership(self) -> Membership:
        return membership_for_request(self.request)

    @property
    def network(self) -> Network:
        return self.membership.network

    @property
    def role(self) -> str:
        return self.membership.role

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no network
            return self.model.objects.none()
        return self.scope_queryset(self.model.objects.for_network(self.network))

    def scope_queryset(self, queryset):
        """Narrow the network's rows to what this membership may see (override per view)."""
        return queryset

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "request", None) is not None and membership_for_request(self.request) is not None:
            context["network"] = self.network
            context["membership"] = self.membership
        return context


class TenantGenericAPIView(TenantScoped, generics.GenericAPIView):
    pass


class TenantViewSet(TenantScoped, viewsets.GenericViewSet):
    pass
