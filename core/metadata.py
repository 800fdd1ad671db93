"""OPTIONS answers for the API (kept apart from core.api: DRF loads it while its views module loads)."""

from rest_framework.metadata import SimpleMetadata


class Metadata(SimpleMetadata):
    """OPTIONS answers name, description and media types, without DRF's per-action form description: that one
    calls get_object(), which singleton views (tax details, postback) do not have, and describes write forms
    the OpenAPI schema already documents."""

    def determine_actions(self, request, view):
        return {}

    def determine_metadata(self, request, view):
        metadata = super().determine_metadata(request, view)
        metadata.pop("actions", None)
        return metadata
