"""OGC API exception responses, and the same errors as a page for a person in a browser.

Why: OGC API clients (QGIS, GDAL, OWSLib) expect ``{"code", "description"}`` bodies, and a bad
parameter is a 400 in OGC terms, never FastAPI's default 422. A browser (``f=html`` or an Accept
that prefers HTML) gets the same status with a page in the reader's language instead of JSON.

This module is the one place where an error becomes an HTTP status: ``geo/`` raises what went
wrong in the store's terms (``STATUSES`` maps each kind), and ``api/`` raises ``HTTPException``
for what it refuses itself (no credentials, a role that may not write, a read-only layer, a
body that is not JSON). Endpoints do not catch either: the handlers installed here answer both.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from psycopg_pool import PoolTimeout
from rasterio.errors import RasterioError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from api.ogc import html
from api.ogc.params import FormatError, ParameterError
from api.ogc.respond import HTML, page_language
from api.responses import JSONResponse
from geo import edit
from geo.licensing import LicensingError
from geo.raster import RasterConflict, RasterError, RasterNotFound
from geo.route import RouteError, RoutingUnavailable

log = logging.getLogger(__name__)
CODES = {
    400: "InvalidParameterValue",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    408: "RequestTimeout",
    409: "Conflict",
    412: "PreconditionFailed",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    429: "TooManyRequests",
    500: "ServerError",
    503: "ServiceUnavailable",
}


# geo/ raises what went wrong in its own terms; this is where each becomes an HTTP status (the
# first class an error is an instance of wins, so subclasses come before their base).
STATUSES: tuple[tuple[type[Exception], int], ...] = (
    (edit.Invalid, 400),
    (edit.NotAllowed, 403),
    (edit.NotFound, 404),
    (edit.Taken, 409),
    (edit.PreconditionFailed, 412),
    (edit.TooLarge, 413),
    (RasterNotFound, 404),
    (RasterConflict, 409),
    (RasterError, 400),
    (RoutingUnavailable, 503),
    (RouteError, 400),
    (LicensingError, 409),
)


def status_of(error: Exception) -> int:
    """The HTTP status of a domain error of geo/ (500 for anything else: a bug)."""
    return next((status for kind, status in STATUSES if isinstance(error, kind)), 500)


def refusal(
    error: Exception, headers: Mapping[str, str] | None = None, request: Request | None = None
) -> Response:
    """A domain error as OGC exception JSON (a page for browsers); a licensing refusal carries
    its details beside, and is not kept by caches (what conflicts depends on who asks)."""
    status = status_of(error)
    if isinstance(error, LicensingError):
        body = {"code": CODES[status], "description": str(error), **error.extra}
        headers = {**(headers or {}), "Cache-Control": "no-store"}
        return JSONResponse(body, status_code=status, headers=headers)
    return exception(status, str(error), headers=headers, request=request)


def browser(request: Request | None) -> bool:
    """Whether the caller wants a page; a bad ``f`` still gets its 400 as JSON."""
    if request is None:
        return False
    try:
        return html.wants_html(request)
    except FormatError:
        return False


def exception(
    status: int,
    description: str,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
    request: Request | None = None,
) -> Response:
    code = code or CODES.get(status, "Error")
    if browser(request):
        document = {"status": status, "code": code, "description": description}
        body = html.render(request, "error", document)
        all_headers = {
            **(headers or {}),
            "Cache-Control": "no-store",
            "Content-Language": page_language(request),
            "Vary": "Accept, Accept-Language",
        }
        return Response(body, status_code=status, media_type=HTML, headers=all_headers)
    return JSONResponse(
        {"code": code, "description": description}, status_code=status, headers=headers
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(psycopg.errors.QueryCanceled)
    async def too_slow(request: Request, error: Exception) -> JSONResponse:
        return exception(
            503, "the query took too long; narrow it (bbox, filter, limit)", request=request
        )

    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(PoolTimeout)
    async def unavailable(request: Request, error: Exception) -> JSONResponse:
        return exception(503, "the database is unavailable; try again shortly", request=request)

    @app.exception_handler(ParameterError)
    async def bad_parameter(request: Request, error: ParameterError) -> JSONResponse:
        page = None if isinstance(error, FormatError) else request
        return exception(400, str(error), request=page)

    for kind, _ in STATUSES:  # a domain error no endpoint caught is answered the same way

        @app.exception_handler(kind)
        async def domain_error(request: Request, error: Exception) -> Response:
            return refusal(error, request=request)

    @app.exception_handler(RasterioError)
    async def unreadable(request: Request, error: RasterioError) -> Response:
        """GDAL's message names the file on the server: the log has it, the answer does not."""
        log.exception("reading a raster failed", exc_info=error)
        return exception(500, "the raster's file could not be read", request=request)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        return exception(
            error.status_code, str(error.detail), headers=error.headers, request=request
        )

    @app.exception_handler(Exception)
    async def server_error(request: Request, error: Exception) -> JSONResponse:
        """A bug is still a 500, but in OGC exception JSON like every other error (Starlette
        re-raises it after this answer, so the server's log keeps the traceback)."""
        return exception(500, "internal error; the server's log has the details", request=request)

    @app.exception_handler(RequestValidationError)
    async def invalid_parameter(request: Request, error: RequestValidationError) -> JSONResponse:
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}: {e.get('msg')}"
            for e in error.errors()
        )
        return exception(400, reasons or "invalid request", request=request)
