"""OpenAPI post-processing: the error answers every operation can give, documented once for all of them.

Views document their success bodies; the 4xx answers come from the shared plumbing (authentication, role
permissions, `core.api.exception_handler`, pagination), so they are added here rather than on each view.
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

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
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _add(responses: dict, status: str, schema: str) -> None:
    if status in responses:
        # A view that documents the status only in words still gets the body's shape.
        responses[status].setdefault("content", {"application/json": {"schema": _ref(schema)}})
        return
    responses[status] = {"description": DESCRIPTIONS[status], "content": {"application/json": {"schema": _ref(schema)}}}


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: 400/401/403/404/415 where each can happen."""
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
    return result


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's, plus `Meta.role_dependent_fields`: read-only fields some roles do not get (an affiliate
    never sees revenue), documented as optional instead of required."""

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        optional = set(getattr(getattr(serializer, "Meta", None), "role_dependent_fields", ()))
        if optional and "required" in schema:
            schema["required"] = [name for name in schema["required"] if name not in optional]
            if not schema["required"]:
                del schema["required"]
        return schema
