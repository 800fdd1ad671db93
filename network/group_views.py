"""Bulk assignment of affiliates to a partner group from the operator's affiliates list and the advertiser's
partners list (checkboxes and one select): the same service and checks as `POST /api/v1/partner-groups/<id>/assign`."""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from core.filters import MAX_ID

from . import services
from .models import Affiliate, PartnerGroup, Role
from .permissions import OPERATORS
from .web import NetworkPageMixin

MAX_SELECTED = 1000


def _ids(values) -> list[int] | None:
    """Distinct positive ids from form values; None when one is not an id."""
    ids = []
    for value in values:
        if not value.isdigit() or not 0 < int(value) <= MAX_ID:
            return None
        if int(value) not in ids:
            ids.append(int(value))
    return ids


class PartnerGroupAssignView(NetworkPageMixin, View):
    """POST `affiliates` (ids, repeated), `group` (an id, or empty: no group) and `next` (the list to go back to)."""

    roles = OPERATORS | {Role.ADVERTISER}

    def post(self, request):
        back = request.POST.get("next", "")
        home = "/operator/" if self.membership.role in OPERATORS else "/advertiser/"
        back = back if back.startswith(home) else home
        ids = _ids(request.POST.getlist("affiliates"))
        group_value = request.POST.get("group", "")
        group = None
        if group_value:
            group_ids = _ids([group_value])
            group = self.scoped(PartnerGroup).filter(pk=group_ids[0]).first() if group_ids else None
            if group is None:
                messages.error(request, _("Choose one of the network's partner groups."))
                return redirect(back)
        if not ids or len(ids) > MAX_SELECTED:
            messages.error(request, _("Tick the affiliates to put in the group (at most %(n)s).") % {"n": MAX_SELECTED})
            return redirect(back)
        affiliates = list(Affiliate.objects.visible_to(self.membership).filter(pk__in=ids))
        if len(affiliates) != len(ids):
            messages.error(request, _("Some of the ticked affiliates are not yours to group: nothing was changed."))
            return redirect(back)
        changed = services.partner_group_assign(network=self.network, group=group, affiliates=affiliates,
                                                actor=request.user)
        if group is None:
            text = ngettext("%(n)s affiliate left its partner group.", "%(n)s affiliates left their partner group.",
                            changed) % {"n": changed}
        else:
            text = ngettext("%(n)s affiliate moved to “%(group)s”.", "%(n)s affiliates moved to “%(group)s”.",
                            changed) % {"n": changed, "group": group.name}
        messages.success(request, text)
        return redirect(back)
