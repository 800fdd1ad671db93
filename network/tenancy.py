"""The one scoping mechanism every API view goes through.

A view names its tenant `model`; `get_queryset()` (which subclasses may not override)
reads `model.objects.for_network(request's network)` and hands it to `scope_queryset()`
for role rules. An object of another network is therefore never found: 404. A view that
truly needs an unscoped query must call it `dangerously_get_queryset`.

Every POST through it honours an `Idempotency-Key` header (network.idempotency).
"""

from functools import cached_property

from rest_framework import generics, viewsets

from . import idempotency
from .auth import membership_for_request
from .models import Membership, Network
from .permissions import HasRole, IsNetworkMember


class TenantScoped:
    model = None
    permission_classes = [IsNetworkMember, HasRole]
    idempotent_posts = True  # the schema documents the Idempotency-Key header on these views' POSTs
    # Bodies kept whole for an Idempotency-Key's fingerprint: Django's DATA_UPLOAD_MAX_MEMORY_SIZE, or this (uploads).
    idempotency_body_limit: int | None = None
    _idempotency_claim = None

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

    def dispatch(self, request, *args, **kwargs):
        self._idempotency_claim = None
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            if self._idempotency_claim is not None:  # an error escaped the handler: nothing to keep
                idempotency.idempotency_release(self._idempotency_claim)
                self._idempotency_claim = None

    def initial(self, request, *args, **kwargs):
        if idempotency.wants_idempotency(request.META, request.method):
            idempotency.body_read(request, self.idempotency_body_limit)
        super().initial(request, *args, **kwargs)  # authenticated, permitted and throttled before a key is taken
        self._idempotency_claim = idempotency.idempotency_begin(request, self.membership)

    def handle_exception(self, exc):
        if isinstance(exc, idempotency.Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        claim, self._idempotency_claim = self._idempotency_claim, None
        if claim is not None:
            idempotency.idempotency_finish(claim, response)
        return response

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
