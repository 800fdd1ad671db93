"""Web pages of branded tracking domains: the operator's (a section of the network settings page) and the
advertiser's own (when the network lets advertisers add one). Add, verify, delete: network.domains does the work."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView

from . import domains
from .models import Advertiser, Role, TrackingDomain
from .permissions import OPERATORS
from .web import NetworkPageMixin

ADVERTISER = frozenset({Role.ADVERTISER})


class TrackingDomainForm(forms.Form):
    domain = forms.CharField(max_length=300, label=gettext_lazy("Domain"),
                             widget=forms.TextInput(attrs={"placeholder": _("trk.example.com"), "autocomplete": "off"}))

    def __init__(self, *args, advertisers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if advertisers is not None:
            self.fields["advertiser"] = forms.ModelChoiceField(
                queryset=advertisers, required=False, label=gettext_lazy("For"),
                empty_label=gettext_lazy("The whole network"))


def form_errors(form: forms.Form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


class TrackingDomainsMixin(NetworkPageMixin):
    """Operators: every domain of the network; an advertiser: its own, and changes only when the network allows."""

    def domains(self):
        return self.scoped(TrackingDomain).visible_to(self.membership).select_related("advertiser")

    @property
    def is_operator(self) -> bool:
        return self.membership.role in OPERATORS

    @property
    def may_change(self) -> bool:
        return self.is_operator or self.network.advertiser_tracking_domains

    def domain_form(self, data=None) -> TrackingDomainForm:
        advertisers = self.scoped(Advertiser).order_by("name") if self.is_operator else None
        return TrackingDomainForm(data, advertisers=advertisers)

    def domains_context(self, form=None) -> dict:
        return {"tracking_domains": self.domains(), "cname_target": domains.cname_target(),
                "domain_form": form or self.domain_form(), "may_change_domains": self.may_change,
                "is_operator": self.is_operator}

    def back(self) -> str:
        return reverse("operator_settings") if self.is_operator else reverse("advertiser_tracking_domains")


class AdvertiserTrackingDomainsView(TrackingDomainsMixin, TemplateView):
    roles = ADVERTISER
    template_name = "advertiser/tracking_domains.html"

    def get_context_data(self, domain_form=None, **kwargs):
        return super().get_context_data(**self.domains_context(domain_form), **kwargs)


class TrackingDomainAddView(TrackingDomainsMixin, View):
    """POST a domain (operators: and the advertiser it is for); errors re-render the page with the form's."""

    roles = OPERATORS | ADVERTISER
    # The operator's page the form lives on (network.operator_views.NetworkSettingsView, given by the URL conf:
    # that module builds its page with this one's mixin).
    settings_view = None

    def post(self, request):
        if not self.may_change:
            raise PermissionDenied(_("This network does not let advertisers add tracking domains."))
        if not self.is_operator and self.party is None:
            raise PermissionDenied(_("This account has no advertiser profile."))
        form = self.domain_form(request.POST)
        if form.is_valid():
            advertiser = form.cleaned_data.get("advertiser") if self.is_operator else self.party
            try:
                row = domains.tracking_domain_add(network=self.network, domain=form.cleaned_data["domain"],
                                                  advertiser=advertiser, actor=request.user)
            except ValidationError as exc:
                form_errors(form, exc)
            else:
                messages.success(request, _("%(domain)s added: point its CNAME record to %(target)s, then verify it.")
                                 % {"domain": row.domain, "target": domains.cname_target()})
                return redirect(self.back())
        return self.render_page(form)

    def render_page(self, form):
        """The page the form was on, with its errors."""
        view = self.settings_view() if self.is_operator else AdvertiserTrackingDomainsView()
        view.setup(self.request)
        view.membership, view.network = self.membership, self.network
        return view.render_to_response(view.get_context_data(domain_form=form), status=400)


class TrackingDomainActionView(TrackingDomainsMixin, View):
    """POST verify (a DNS check) or delete one domain; another network's (or advertiser's) domain: 404."""

    roles = OPERATORS | ADVERTISER
    action = ""

    def post(self, request, pk):
        row = self.scoped_object(TrackingDomain, pk=pk, **({} if self.is_operator else {"advertiser": self.party}))
        if not self.may_change:
            raise PermissionDenied(_("This network does not let advertisers add tracking domains."))
        if self.action == "delete":
            domains.tracking_domain_delete(network=self.network, tracking_domain=row, actor=request.user)
            messages.success(request, _("%(domain)s deleted: links use the platform's address again.")
                             % {"domain": row.domain})
            return redirect(self.back())
        try:
            domains.tracking_domain_verify(network=self.network, tracking_domain=row, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("%(domain)s is verified: your links use it from now on.")
                             % {"domain": row.domain})
        return redirect(self.back())
