"""The OpenAPI schema documents the errors the API answers with, not only its successes."""

import re

from django.test import Client


def _responses(schema, path, method):
    return set(schema["paths"][path][method]["responses"])


def _resolve(schema, node):
    """``node``, or the component its ``$ref`` names."""
    ref = node.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        return schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return node


def test_schema_documents_error_answers(db):
    schema = Client().get("/api/schema/?format=json").json()
    write = _responses(schema, "/api/reviews/{slug}/searches/", "post")
    assert {"201", "400", "401", "403", "404", "415"} <= write
    read = _responses(schema, "/api/reviews/{slug}/records/{id}/", "get")
    assert {"200", "401", "403", "404"} <= read
    assert "400" not in read
    listing = _responses(schema, "/api/reviews/", "get")
    assert listing == {"200", "401"}
    # The token view needs no authentication and says so itself (and documents its 429).
    token = _responses(schema, "/api/auth/token/", "post")
    assert "401" not in token and {"400", "429"} <= token
    error = schema["paths"]["/api/reviews/{slug}/"]["get"]["responses"]["404"]
    body = _resolve(schema, error["content"]["application/json"]["schema"])
    assert body["required"] == ["detail"]


#: Fields that hold one of a fixed set of values wherever they appear in the API.
CHOICE_FIELDS = {
    "decision",
    "stage",
    "status",
    "role",
    "roles",
    "kind",
    "maybe_policy",
    "resolvers",
    "reasons_title_abstract",
    "reasons_full_text",
    "severity",
    "template",
    "hand_entered",
    "direction",
}
#: A job's kind names a handler of the job registry (``core/jobs.py``), which capabilities extend.
OPEN_ENDED = {"Job.kind", "JobCreateRequest.kind"}


def _enum_of(schema, node) -> list | None:
    """The values of the enum ``node`` is (through a ``$ref``, ``allOf``/``oneOf`` or an array's
    ``items``), or None if it is a free value."""
    node = _resolve(schema, node)
    if "enum" in node:
        return node["enum"]
    if node.get("type") == "array":
        return _enum_of(schema, node["items"])
    for key in ("allOf", "oneOf", "anyOf"):
        for part in node.get(key, []):
            values = _enum_of(schema, part)
            if values and values != [None]:
                return values
    return None


def test_every_error_answer_has_a_documented_body(db):
    """No operation answers an error Swagger shows as "Undocumented" or without a body: every
    write documents its 400 with the API's error format, every 4xx has a JSON body."""
    schema = Client().get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]
    assert set(components["ValidationError"]["properties"]) == {"detail", "non_field_errors"}
    assert components["ErrorDetail"]["required"] == ["detail"]
    missing = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if method in ("post", "put", "patch", "delete") and "400" not in responses:
                missing.append(f"{method} {path}: no 400")
            for code, response in responses.items():
                if not code.startswith("4"):
                    continue
                body = response.get("content", {}).get("application/json", {}).get("schema")
                wanted = "ValidationError" if code == "400" else "ErrorDetail"
                if body != {"$ref": f"#/components/schemas/{wanted}"}:
                    missing.append(f"{method} {path} {code}: {body}")
                if not response.get("description"):
                    missing.append(f"{method} {path} {code}: no description")
    assert not missing, "\n".join(missing)


def test_decision_and_every_other_choice_field_is_an_enum(db):
    schema = Client().get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]
    vote_input = components["VoteInputRequest"]["properties"]["decision"]
    assert _enum_of(schema, vote_input) == ["include", "exclude", "maybe"]
    assert vote_input == {"$ref": "#/components/schemas/DecisionEnum"}
    resolve = components["ResolveInputRequest"]["properties"]["decision"]
    assert _enum_of(schema, resolve) == ["include", "exclude"]
    duplicates = components["DecideInputRequest"]["properties"]
    assert _enum_of(schema, duplicates["decision"]) == ["same", "different"]
    assert _enum_of(schema, duplicates["primary"]) == ["left", "right"]
    free = []
    for name, component in components.items():
        for field, node in component.get("properties", {}).items():
            if (
                field in CHOICE_FIELDS
                and not _enum_of(schema, node)
                and (f"{name}.{field}" not in OPEN_ENDED)
            ):
                free.append(f"{name}.{field}")
    assert not free, f"choice fields without an enum: {free}"
    # Enums are named after their choices, never with a hash to tell colliding names apart.
    hashed = [n for n in components if re.search(r"[0-9a-f]{3}Enum$", n)]
    assert not hashed, hashed


def test_the_400_bodies_the_api_sends_match_the_documented_error(lead, review):
    """Refusals of every kind (a serializer's field, a list's item, an item of a list of
    objects, a service's message, a body that is not an object or not JSON) fit
    ``ValidationError``."""
    import jsonschema

    from tests.conftest import client_for

    client = client_for(lead)
    schema = client.get("/api/schema/?format=json").json()
    component = schema["components"]["schemas"]["ValidationError"]
    api = "/api/reviews/exercise"
    refusals = [
        ("post", f"{api}/screening/title-abstract/votes/", {"item": 1, "decision": "perhaps"}),
        ("post", f"{api}/screening/title-abstract/votes/", {"item": 1, "upcoming": ["x"]}),
        ("patch", f"{api}/prisma/entries/", {"other_excluded": [{"reason": "A", "count": 1}, {}]}),
        ("post", f"{api}/memberships/", {"user": "nobody-here", "roles": ["lead"]}),
        ("patch", f"{api}/screening/keywords/", {"include": ["<b>"]}),
        ("post", f"{api}/screening/reasons/", ["not", "an", "object"]),
    ]
    bodies = []
    for method, path, data in refusals:
        response = getattr(client, method)(path, data, content_type="application/json")
        assert response.status_code == 400, (path, response.content)
        bodies.append(response.json())
    not_json = client.post(f"{api}/screening/reasons/", "{", content_type="application/json")
    assert not_json.status_code == 400
    bodies.append(not_json.json())
    # A list's refused items are keyed by their position, down to the item's fields.
    assert bodies[2] == {
        "other_excluded": {
            "1": {"reason": ["This field is required."], "count": ["This field is required."]}
        }
    }
    for body in bodies:
        jsonschema.validate(body, component)
