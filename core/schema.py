"""The API's OpenAPI schema: drf-spectacular's, with the error answers every operation can give.

drf-spectacular documents only the success of an operation. A client (and the contract test in
``tests/api_contract/``) must also know the errors, and their bodies:

- 400 on writes (``POST``, ``PUT``, ``PATCH``, ``DELETE``): the input is refused, field by field
  (``{"title": ["…"]}``) or as a whole (``{"detail": …}``);
- 415 on writes that take a body: a body of a media type the operation does not read (or that
  cannot be read as the one it claims);
- 401 where authentication is required: no or a bad token;
- 403 under a review (``/api/reviews/{slug}/…``): a member without the role for it;
- 404 where the path names something (``{slug}``, ``{id}``): it does not exist, or the user is
  not a member of its review (outsiders learn nothing of a review).

An operation that documents a code itself (``extend_schema(responses=…)``) keeps its own.
"""

from __future__ import annotations

from drf_spectacular import openapi
from rest_framework.permissions import AllowAny

DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
#: Serializer errors by field, or ``detail`` (a message or a list of them) for the whole input.
VALIDATION_ERRORS = {"type": "object", "additionalProperties": {}}

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
BODIES = {"POST", "PUT", "PATCH"}


class AutoSchema(openapi.AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        errors = {}
        if self.method in WRITES:
            errors["400"] = (VALIDATION_ERRORS, "The input was refused.")
        if self.method in BODIES and self.get_request_serializer() is not None:
            errors["415"] = (DETAIL, "The body's media type is not one the operation reads.")
        if not all(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            errors["401"] = (DETAIL, "Not signed in: no token, or an invalid one.")
        if self.path.startswith("/api/reviews/{slug}/"):
            errors["403"] = (DETAIL, "A member of the review without the role for this.")
        if "{" in self.path:
            errors["404"] = (
                DETAIL,
                "Not found, or in a review the user is not a member of.",
            )
        for code, (schema, description) in errors.items():
            if code not in responses:
                responses[code] = {
                    "content": {"application/json": {"schema": schema}},
                    "description": description,
                }
        return responses
