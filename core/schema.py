"""The API's OpenAPI schema: drf-spectacular's, with the error answers every operation can give.

drf-spectacular documents only the success of an operation. A client (and the contract test in
``tests/api_contract/``) must also know the errors, and their bodies:

- 400 on writes (``POST``, ``PUT``, ``PATCH``, ``DELETE``), and on reads whose view sets
  ``query_errors = True`` (it refuses bad query parameters): the input is refused, field by
  field (``{"title": ["…"]}``) or as a whole (``{"detail": …}``);
- 415 on writes that take a body: a body of a media type the operation does not read (or that
  cannot be read as the one it claims);
- 401 where authentication is required: no or a bad token;
- 403 under a review (``/api/reviews/{slug}/…``): a member without the role for it;
- 404 where the path names something (``{slug}``, ``{id}``): it does not exist, or the user is
  not a member of its review (outsiders learn nothing of a review).

An operation that documents a code itself (``extend_schema(responses=…)``) keeps its own.

The bodies are two named components, so a generated client has a type for each:
``ErrorDetail`` (``{"detail": "…"}``: 401, 403, 404, 415) and ``ValidationError`` (400: the
format ``core/api_errors.py`` gives every refusal, whether a serializer or a service refused).
"""

from __future__ import annotations

from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework.permissions import AllowAny

_MESSAGES = {"type": "array", "items": {"type": "string"}}
#: A field's messages; a list of objects holds one object of messages per item it refused.
_FIELD_MESSAGES = {
    "type": "array",
    "items": {"oneOf": [{"type": "string"}, {"type": "object", "additionalProperties": {}}]},
}

DETAIL = {
    "type": "object",
    "description": "Why the request was refused, in words for people.",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
#: The body of every 400 (``core/api_errors.py``): messages by field, ``non_field_errors`` or
#: ``__all__`` for a combination of fields, or ``detail`` (a message or a list of them) for the
#: input as a whole (a body that is not JSON, a refusal by a service that names no field).
VALIDATION_ERRORS = {
    "type": "object",
    "description": (
        "The input was refused and nothing changed. Each key names a field of the input and "
        "holds its messages (a field of a nested object or list holds an object of the same "
        "shape, keyed by its own fields or positions; a list of objects holds one object of "
        "messages per item, empty for an item that was fine); `non_field_errors` and "
        "`__all__` hold messages about several fields together; `detail` holds a message, or "
        "a list of them, about the input as a whole."
    ),
    "properties": {
        "detail": {"oneOf": [{"type": "string"}, _MESSAGES]},
        "non_field_errors": _MESSAGES,
    },
    "additionalProperties": {
        "oneOf": [_FIELD_MESSAGES, {"type": "object", "additionalProperties": {}}]
    },
    "example": {"decision": ['"perhaps" is not a valid choice.']},
}
#: The components the error answers point at, by name.
ERROR_COMPONENTS = {"ErrorDetail": DETAIL, "ValidationError": VALIDATION_ERRORS}

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
BODIES = {"POST", "PUT", "PATCH"}


class AutoSchema(openapi.AutoSchema):
    def get_operation_id(self) -> str:
        # A file's address (``…/records.csv``) makes no dotted name for a generated client.
        return super().get_operation_id().replace(".", "_")

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        # An error answer documented without a body (``OpenApiResponse(description=…)``) gets
        # the body the API sends with it; one documented with the body spelled out points at
        # its component instead.
        for code, response in responses.items():
            if not code.startswith("4"):
                continue
            if "content" not in response:
                name = "ValidationError" if code == "400" else "ErrorDetail"
                response["content"] = {"application/json": {"schema": self._error_component(name)}}
                continue
            for body in response["content"].values():
                for name, component in ERROR_COMPONENTS.items():
                    if body.get("schema") == component:
                        body["schema"] = self._error_component(name)
        errors = {}
        if self.method in WRITES or (
            self.method == "GET" and getattr(self.view, "query_errors", False)
        ):
            errors["400"] = ("ValidationError", "The input was refused; nothing changed.")
        if self.method in BODIES and self.get_request_serializer() is not None:
            errors["415"] = ("ErrorDetail", "The body's media type is not one the operation reads.")
        if not all(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            errors["401"] = ("ErrorDetail", "Not signed in: no token, or an invalid one.")
        if self.path.startswith("/api/reviews/{slug}/"):
            errors["403"] = ("ErrorDetail", "A member of the review without the role for this.")
        if "{" in self.path:
            errors["404"] = (
                "ErrorDetail",
                "Not found, or in a review the user is not a member of.",
            )
        for code, (name, description) in errors.items():
            if code not in responses:
                responses[code] = {
                    "content": {"application/json": {"schema": self._error_component(name)}},
                    "description": description,
                }
        return responses

    def _error_component(self, name: str) -> dict:
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, schema=ERROR_COMPONENTS[name], object=name
        )
        self.registry.register_on_missing(component)
        return component.ref
