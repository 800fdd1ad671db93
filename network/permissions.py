"""Who may call what: membership of the request's network, and roles."""

from rest_framework.permissions import BasePermission

from .auth import membership_for_request
from .models import Role

ALL_ROLES = frozenset(Role.values)
OPERATORS = frozenset({Role.OWNER, Role.STAFF})


class IsNetworkMember(BasePermission):
    """Authenticated and acting in a network (through an API key or the session)."""

    message = "Authentication with a network membership is required."

    def has_permission(self, request, view):
        return membership_for_request(request) is not None


class HasRole(BasePermission):
    """The membership's role is among the view's `roles` for this action.

    A view sets `roles` (a set of roles) or `action_roles` (per viewset action, falling
    back to `roles`).
    """

    message = "Your role may not do this."

    def has_permission(self, request, view):
        membership = membership_for_request(request)
        if membership is None:
            return False
        roles = getattr(view, "action_roles", {}).get(getattr(view, "action", None))
        if roles is None:
            roles = getattr(view, "roles", ALL_ROLES)
        return membership.role in roles
