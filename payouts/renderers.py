"""The CSV renderer of the payout batch files, so `Accept: text/csv` (or `?format=csv`) is negotiated by DRF."""

from rest_framework.renderers import BaseRenderer, JSONRenderer


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return str(data if data is not None else "").encode(self.charset)


def errors_as_json(view, request, response) -> None:
    """An error (a dict) negotiated as CSV is answered as JSON, like every other API error (a view's
    `finalize_response` calls it first; a failed negotiation, e.g. `?format=xyz`, has chosen nothing yet)."""
    if not isinstance(getattr(response, "data", None), (dict, list)):
        return
    if not getattr(request, "accepted_renderer", None):
        request.accepted_renderer, request.accepted_media_type = view.perform_content_negotiation(request, force=True)
    if isinstance(request.accepted_renderer, CSVRenderer):
        request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
