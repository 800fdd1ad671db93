"""What every page's layout shows: the current network and role, the switcher, the nav."""

from . import navigation
from .auth import membership_for_request
from .selectors import memberships_of_user


def web(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    membership = membership_for_request(request)
    if membership is None:
        return {"current_membership": None}
    return {
        "current_membership": membership,
        "current_network": membership.network,
        "current_section": navigation.section_for(membership.role),
        "current_section_label": navigation.SECTION_LABELS[navigation.section_for(membership.role)],
        "nav_items": lambda: navigation.items_for(role=membership.role, path=request.path),
        "user_memberships": lambda: list(memberships_of_user(user)),
    }
