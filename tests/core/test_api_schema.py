"""The OpenAPI schema documents the errors the API answers with, not only its successes."""

from django.test import Client


def _responses(schema, path, method):
    return set(schema["paths"][path][method]["responses"])


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
    assert error["content"]["application/json"]["schema"]["required"] == ["detail"]
