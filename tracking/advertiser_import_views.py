"""The advertiser's CSV import page: upload a file (drag and drop, or the plain file input), follow its progress
(htmx polls the progress fragment until the job is done) and read the recent imports with their refused rows."""

from django import forms
from django.conf import settings
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from network.web import is_htmx

from . import imports
from .advertiser_views import AdvertiserMixin
from .models_import import ConversionImport

RECENT = 20


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_(
        "Columns: order_id, amount, currency (required); click_id, coupon, customer_id, event, occurred_at."))


class ImportMixin(AdvertiserMixin):
    def imports(self):
        return self.scoped(ConversionImport).visible_to(self.membership)


class ImportListView(ImportMixin, TemplateView):
    template_name = "advertiser/tracking_imports.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            form=kwargs.pop("form", None) or ImportForm(), imports=self.imports()[:RECENT],
            max_mb=settings.CONVERSION_IMPORT_MAX_BYTES // 2**20, columns=imports.COLUMNS, **kwargs)

    def post(self, request, *args, **kwargs):
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload.size > settings.CONVERSION_IMPORT_MAX_BYTES:
                    raise imports.too_large()
                job = imports.conversion_import_create(network=self.network, advertiser=self.party,
                                                       data=upload.read(), filename=upload.name or "",
                                                       membership=self.membership)
            except imports.ImportRefused as exc:
                form.add_error("file", str(exc))
            else:
                return redirect("advertiser_import", pk=job.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ImportDetailView(ImportMixin, TemplateView):
    template_name = "advertiser/tracking_import.html"

    def get_template_names(self):
        if is_htmx(self.request) or self.request.GET.get("fragment") == "progress":
            return ["advertiser/_import_progress.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        job = get_object_or_404(self.imports(), pk=kwargs["pk"])
        return super().get_context_data(job=job, **kwargs)
