"""OpenAPI: the API's one error shape, documented on every operation (a drf-spectacular hook).

Every endpoint can answer these statuses with `{"error": {"code", "message", "details"}}`
(portal/api/exceptions.py builds them all), so they are added once here instead of on each view.
Statuses a view documents itself are left as they are.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter

# The `{org}` path parameter of every `/api/v1/organizations/{org}/…` route, declared once.
ORG = OpenApiParameter("org", str, OpenApiParameter.PATH, description="The organization's identifier (ORG-XXXX-XXXX).")

ERROR_SCHEMA = {
    "type": "object",
    "description": "The body of every 4xx and 503 answer.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "Stable machine-readable code, e.g. `not_found`."},
                "message": {"type": "string", "description": "Human-readable, in the caller's language."},
                "details": {
                    "nullable": True,
                    "description": "Per-field messages (`{field: [message]}`) for invalid input, otherwise null.",
                },
            },
            "required": ["code", "message", "details"],
        }
    },
    "required": ["error"],
}

ERROR_RESPONSES = {
    "400": "Invalid input (`details` names the fields).",
    "401": "Not authenticated: send `Authorization: Token …` (or a session cookie).",
    "403": "Authenticated, but the role does not allow this.",
    "404": "Not found, or not visible to the caller (also: an id outside the valid range).",
    "409": "The object's state does not allow this now, or a concurrent change won.",
    "429": "Too many requests; retry after the `Retry-After` seconds.",
    "503": "The database is temporarily unavailable; retry after the `Retry-After` seconds.",
}
WRITE_ONLY_STATUSES = {"409"}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying."}}


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_RESPONSES.items():
                if status in responses or (status in WRITE_ONLY_STATUSES and method == "get"):
                    continue
                responses[status] = {"description": description, "content": reference}
                if status in ("429", "503"):
                    responses[status]["headers"] = RETRY_AFTER
    return result
