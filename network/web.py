"""The base of every web page that acts in a network (any app's `views.py` builds on it).

`NetworkPageMixin` resolves the request's membership (the session's current network, see
`auth.membership_for_request`) and enforces roles: anonymous -> login page, a role not in
`roles` -> 403, no active membership -> 403 with a page that says so. Objects are read
through `self.scoped(Model)` (the network's rows only), so another network's object is a 404.

Adding a page in another app (e.g. the advertiser's programs)::

    # programs/views.py
    class ProgramListView(NetworkPageMixin, TemplateView):
        roles = frozenset({Role.ADVERTISER})
        template_name = "advertiser/programs.html"  # {% extends "advertiser/base.html" %}

        def get_context_data(self, **kwargs):
            programs = self.scoped(Program).filter(advertiser=self.party)
            return super().get_context_data(programs=programs, **kwargs)

    # its URL in the app's web URL module (included at the root in config/urls.py), and in
    # ProgramsConfig.ready(): navigation.register("advertiser", _("Programs"), "advertiser_programs", order=20)

Templates: `operator/base.html`, `advertiser/base.html`, `partner/base.html` (blocks `page_title`,
`content`, `scripts`); the overviews have an `overview_widgets` block and the API-key page
`integration_intro` / `integration_extra`; `{% load web %}` gives `{{ amount|money:currency }}`;
`<canvas data-chart-url="...">` plus `static/js/charts.js` draws a Chart.js chart from JSON
`{label, labels, data}`; `paginate(request, queryset)` below gives the `page` object that
`includes/pagination.html` renders; `is_htmx(request)` tells an htmx request (answer a fragment).
"""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from .auth import membership_for_request
from .models import Membership, Network
from .permissions import ALL_ROLES

PAGE_SIZE = 50


class NetworkPageMixin(LoginRequiredMixin):
    roles: frozenset = ALL_ROLES
    membership: Membership
    network: Network

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        membership = membership_for_request(request)
        if membership is None:
            return render(request, "no_membership.html", status=403)
        if membership.role not in self.roles:
            raise PermissionDenied("Your role may not open this page.")
        self.membership = membership
        self.network = membership.network
        return super().dispatch(request, *args, **kwargs)

    @property
    def party(self):
        """The Advertiser or Affiliate the membership acts as (None for operators)."""
        return self.membership.party

    def scoped(self, model):
        """The current network's rows of a tenant model: the only way pages read them."""
        return model.objects.for_network(self.network)

    def scoped_object(self, model, **lookup):
        return get_object_or_404(self.scoped(model), **lookup)

    def base_url(self) -> str:
        return self.request.build_absolute_uri("/").rstrip("/")


def paginate(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"
