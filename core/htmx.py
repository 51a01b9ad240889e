def is_htmx(request) -> bool:
    """True for requests htmx makes (it sets this header); they get fragments, not pages."""
    return request.headers.get("HX-Request") == "true"
