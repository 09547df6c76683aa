"""Shared response plumbing: format negotiation, absolute links, ETag and caching headers.

Why in one place: every OGC resource answers JSON or HTML, carries absolute links (QGIS and GDAL
follow them verbatim), and must be cacheable with validators so clients can revalidate cheaply.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from urllib.parse import urlencode

import orjson
from fastapi import Request
from starlette.responses import Response

from api.ogc.params import FormatError
from layers import i18n

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
CACHE_CONTROL = "public, max-age=30, must-revalidate"
PRIVATE_CACHE_CONTROL = "private, max-age=30, must-revalidate"
VARY = "Accept, Accept-Encoding, Authorization, X-API-Key, Cookie"
"""On every answer, 304s too: the GZip middleware names Accept-Encoding on the 200s it
compresses only, and a 304 must vary as its 200 does."""
CREDENTIALS = ("authorization", "x-api-key", "cookie")


def cache_control(request: Request) -> str:
    """What a caller with credentials sees may be theirs alone: no shared cache may keep it.

    Any request that carries credentials or a cookie is answered ``private``, even when they
    turn out to read as anonymous (an expired session): a shared cache must never hand a public
    answer to a signed-in person, nor theirs to anyone."""
    claims = getattr(request.state, "claims", None)
    if any(name in request.headers for name in CREDENTIALS):
        return PRIVATE_CACHE_CONTROL
    return CACHE_CONTROL if claims is None or claims.anonymous else PRIVATE_CACHE_CONTROL


def wants_html(request: Request) -> bool:
    """``f=html`` / ``f=json`` win; otherwise a browser's Accept (HTML before any JSON) does."""
    f = request.query_params.get("f")
    if f is not None:
        if f.lower() == "html":
            return True
        if f.lower() in ("json", "geojson"):
            return False
        raise FormatError(f"f must be json or html, not {f!r}")
    accept = request.headers.get("accept", "")
    html, json = accept.find("text/html"), accept.find("json")
    return html >= 0 and (json < 0 or html < json)


def page_language(request: Request) -> str:
    """The language of an HTML page: ``?lang=`` first, then the browser's Accept-Language.

    Never a 400: a language the platform does not speak falls back to English (JSON clients
    ignore ``lang`` altogether).
    """
    chosen = request.query_params.get("lang")
    if chosen and chosen[:2].lower() in i18n.LANGUAGES:
        return chosen[:2].lower()
    return i18n.language(request.headers.get("accept-language"))


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def url(request: Request, path: str, **params: object) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{base_url(request)}{path}{'?' + query if query else ''}"


def with_params(request: Request, **changes: object) -> str:
    """This request's URL with some query parameters changed (None removes one)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return url(request, request.url.path, **params)


def link(href: str, rel: str, media_type: str, title: str | None = None) -> dict:
    entry = {"href": href, "rel": rel, "type": media_type}
    if title:
        entry["title"] = title
    return entry


def send(
    request: Request,
    body: bytes | dict | list,
    media_type: str = JSON,
    headers: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The body with a strong ETag (the caller's, or the body's hash); 304 when the client
    already holds this version."""
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    etag = (headers or {}).get("ETag") or (
        '"' + hashlib.blake2b(content, digest_size=16).hexdigest() + '"'
    )
    all_headers = {
        "Cache-Control": cache_control(request),
        "Vary": VARY,
        **(headers or {}),
        "ETag": etag,
    }
    if media_type == HTML:  # a page's words follow the reader's language
        all_headers["Vary"] = all_headers["Vary"] + ", Accept-Language"
        all_headers["Content-Language"] = page_language(request)
    if status == 200 and etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=all_headers)
    return Response(content, status_code=status, media_type=media_type, headers=all_headers)
