"""OpenAPI 3.0 building blocks shared by the parts of the API definition (features, tiles, rasters).

Why apart from ``openapi.py``: the tiles and rasters modules describe their own paths, and
``openapi.py`` imports them, so what they share cannot live there without an import cycle.
"""

from __future__ import annotations

ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/exception"}}}
ERROR_OR_PAGE = {**ERROR, "text/html": {"schema": {"type": "string"}}}
"""A GET's error: OGC exception JSON, or a page in the reader's language for a browser."""
AUTH = [{"apiKey": []}, {"bearer": []}]  # writes: an API key or a bearer token


def query(name: str, schema: dict, description: str, **extra: object) -> dict:
    """A query parameter, optional unless ``required=True`` is given."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
        **extra,
    }


def ref(name: str) -> dict:
    return {"$ref": f"#/components/parameters/{name}"}


def responses(media_type: str, schema: str = "object", html: bool = True) -> dict:
    """200 (``media_type``, and HTML if the resource has a page), 304, 400 and 404.

    A media type that is not JSON is a binary body (PNG, GeoTIFF, MVT).
    """
    body = {"type": schema} if "json" in media_type else {"type": "string", "format": "binary"}
    content = {media_type: {"schema": body}}
    if html:
        content["text/html"] = {"schema": {"type": "string"}}
    return {
        "200": {"description": "Success", "content": content},
        "304": {"description": "Not modified (ETag matches)"},
        "400": {"description": "Invalid parameter", "content": ERROR_OR_PAGE},
        "404": {"description": "Not found", "content": ERROR_OR_PAGE},
    }


def operation(
    summary: str,
    parameters: list[dict],
    media_type: str,
    extra: dict | None = None,
    *,
    html: bool = False,
    description: str | None = None,
) -> dict:
    """A GET path item; ``extra``: more responses (e.g. 204 for an empty tile)."""
    get = {
        "summary": summary,
        "parameters": parameters,
        "responses": {**responses(media_type, html=html), **(extra or {})},
    }
    if description:
        get["description"] = description
    return {"get": get}


def write_responses(*codes: str) -> dict:
    """Responses of a write: what each code means; 4xx bodies are OGC exception JSON."""
    words = {"201": "Created (Location and ETag headers)", "204": "Done (the new ETag)",
             "400": "Invalid feature: every problem named", "401": "No or wrong credentials",
             "403": "The caller may not write this", "404": "Not found", "405": "Read-only",
             "409": "Conflicts with a stored feature", "412": "Stale If-Match",
             "413": "Body or geometry too large", "415": "Not GeoJSON",
             "429": "Too many requests of this caller (Retry-After; docs/security.md)"}  # fmt: skip
    return {c: {"description": words[c], **({"content": ERROR} if c[0] == "4" else {})}
            for c in codes}  # fmt: skip
