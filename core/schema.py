"""OpenAPI post-processing: the error answers every operation can give, documented once for all of them.

Views document their success bodies; the 4xx answers come from the shared plumbing (authentication, role
permissions, `core.api.exception_handler`, pagination), so they are added here rather than on each view.
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiParameter

from .export import CSV_MEDIA_TYPE, CsvExportMixin

ERROR = "Error"
FIELD_ERRORS = "FieldErrors"

SCHEMAS = {
    ERROR: {
        "type": "object",
        "description": "A request that could not be served: `detail` says why.",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
    FIELD_ERRORS: {
        "type": "object",
        "description": "Invalid input: each invalid field names its messages (nested for nested fields); "
        "an error that concerns no single field is under `detail` or `non_field_errors`.",
        "additionalProperties": True,
        "minProperties": 1,
    },
}

DESCRIPTIONS = {
    "400": "Invalid input (field errors), or an action the object's current state does not allow.",
    "401": "No API key, or an unknown, revoked or suspended one.",
    "403": "The key's role may not do this.",
    "404": "No such object in this network (another network's objects are never found), or a page out of range.",
    "415": "The body is not JSON.",
    "409": "A request with the same Idempotency-Key is still being processed.",
    "422": "The Idempotency-Key was already used with another request (method, path or body).",
}

CSV_RESPONSE = {
    "schema": {"type": "string"},
    "description": "With `?format=csv` or `Accept: text/csv`: every row the filters select, no pages, streamed. "
    "A header row of the JSON fields' names, then one row per object; times in the network's time zone with their "
    "offset, amounts quantized to the currency's minor units beside a `currency` column, and text a spreadsheet "
    "would read as a formula prefixed with `'`. Errors still answer JSON.",
}
FORMAT_DESCRIPTION = "`csv`: the whole filtered list as one CSV file (as `Accept: text/csv` does); default: JSON pages."

IDEMPOTENCY_KEY = "Idempotency-Key"
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_KEY, {"type": "string", "minLength": 1, "maxLength": 255}, OpenApiParameter.HEADER,
    description="Makes a retry safe: the first answer to this key (status and body) is kept for 24 hours and "
    "answered again to the same request (same method, path and body) without doing it twice; the answer then "
    "carries `Idempotent-Replayed: true`. Keys belong to the API key that sends them. The same key with another "
    "request: 422; while its first request still runs: 409. Answers with a 5xx status are not kept.",
)


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _add(responses: dict, status: str, schema: str) -> None:
    if status in responses:
        # A view that documents the status only in words still gets the body's shape.
        responses[status].setdefault("content", {"application/json": {"schema": _ref(schema)}})
        return
    responses[status] = {"description": DESCRIPTIONS[status], "content": {"application/json": {"schema": _ref(schema)}}}


def _component(result: dict, schema: dict) -> dict:
    ref = schema.get("$ref", "")
    return result.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[-1], {}) if ref else schema


def _json_schema(response: dict) -> dict:
    return response.get("content", {}).get("application/json", {}).get("schema", {})


def add_links(result, generator, request, public):
    """drf-spectacular postprocessing hook: OpenAPI links from a collection to its items, so clients and tools
    (schemathesis' stateful phase) can follow them: what a create answers (`id`) opens the item's operations
    (`/x/{id}/`, `/x/{id}/<action>/`), and so does the first row of a list (`results/0/id`)."""
    paths = result.get("paths", {})
    for collection, collection_item in paths.items():
        if not collection.endswith("/") or "{" in collection:
            continue
        targets = []
        for path, item in paths.items():
            if path.startswith(f"{collection}{{id}}/") and path.count("{") == 1:
                for method, operation in item.items():
                    if method in ("get", "post", "put", "patch", "delete") and "operationId" in operation:
                        targets.append(operation["operationId"])
        sources = [("post", "201", "$response.body#/id", lambda body: "id" in body.get("properties", {})),
                   ("get", "200", "$response.body#/results/0/id", lambda body: "results" in body.get("properties", {}))]
        for method, status, expression, has_ids in sources:
            response = collection_item.get(method, {}).get("responses", {}).get(status)
            if not targets or response is None or not has_ids(_component(result, _json_schema(response))):
                continue
            response["links"] = {target: {"operationId": target, "parameters": {"id": expression}}
                                 for target in sorted(targets)}
    return result


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: 400/401/403/404/415 where each can happen, 409/422 where an
    Idempotency-Key is accepted."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(SCHEMAS)
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            parameters = operation.get("parameters", [])
            in_path = any(p.get("in") == "path" for p in parameters)
            in_query = [p.get("name") for p in parameters if p.get("in") == "query"]
            authenticated = any(requirement for requirement in operation.get("security", [{}]))
            if in_query or method != "get" or "requestBody" in operation:
                _add(responses, "400", FIELD_ERRORS)
            if authenticated:
                _add(responses, "401", ERROR)
                _add(responses, "403", ERROR)
            if in_path or "page" in in_query:
                _add(responses, "404", ERROR)
            if "requestBody" in operation:
                _add(responses, "415", ERROR)
            if any(p.get("in") == "header" and p.get("name") == IDEMPOTENCY_KEY for p in parameters):
                _add(responses, "409", ERROR)
                _add(responses, "422", ERROR)
    return result


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's, plus `Meta.role_dependent_fields`: read-only fields some roles do not get (an affiliate
    never sees revenue), documented as optional instead of required; and the `Idempotency-Key` header on the POSTs
    of views that honour it (`idempotent_posts`, set by the base API view)."""

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is not None and isinstance(self.view, CsvExportMixin) and self._is_list_view():
            # The CSV is no page of JSON: a string, documented once here for every exportable list.
            content = operation.get("responses", {}).get("200", {}).get("content", {})
            if CSV_MEDIA_TYPE in content:
                content[CSV_MEDIA_TYPE] = {"schema": CSV_RESPONSE["schema"]}
                operation["responses"]["200"]["description"] = CSV_RESPONSE["description"]
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and parameter.get("name") == "format":
                    parameter["description"] = FORMAT_DESCRIPTION
        return operation

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self.method == "POST" and getattr(self.view, "idempotent_posts", False):
            parameters = [*parameters, IDEMPOTENCY_PARAMETER]
        return parameters

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        optional = set(getattr(getattr(serializer, "Meta", None), "role_dependent_fields", ()))
        if optional and "required" in schema:
            schema["required"] = [name for name in schema["required"] if name not in optional]
            if not schema["required"]:
                del schema["required"]
        return schema
