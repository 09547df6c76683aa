"""OGC API exception responses.

Why: OGC API clients (QGIS, GDAL, OWSLib) expect ``{"code", "description"}`` bodies, and a bad
parameter is a 400 in OGC terms, never FastAPI's default 422.
"""

from __future__ import annotations

from collections.abc import Mapping

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException

from api.ogc.params import ParameterError
from api.responses import JSONResponse
from geo.licensing import LicensingError
from geo.raster import RasterConflict, RasterError, RasterNotFound
from geo.route import RouteError, RoutingUnavailable

CODES = {
    400: "InvalidParameterValue",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    408: "RequestTimeout",
    409: "Conflict",
    413: "PayloadTooLarge",
    429: "TooManyRequests",
    500: "ServerError",
    503: "ServiceUnavailable",
}


# geo/ raises what went wrong in its own terms; this is where each becomes an HTTP status (the
# first class an error is an instance of wins, so subclasses come before their base).
STATUSES: tuple[tuple[type[Exception], int], ...] = (
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


def refusal(error: Exception, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """A domain error as OGC exception JSON; a licensing refusal carries its details beside."""
    status = status_of(error)
    if isinstance(error, LicensingError):
        body = {"code": CODES[status], "description": str(error), **error.extra}
        return JSONResponse(body, status_code=status, headers=headers)
    return exception(status, str(error), headers=headers)


def exception(
    status: int,
    description: str,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        {"code": code or CODES.get(status, "Error"), "description": description},
        status_code=status,
        headers=headers,
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(psycopg.errors.QueryCanceled)
    async def too_slow(request: Request, error: Exception) -> JSONResponse:
        return exception(503, "the query took too long; narrow it (bbox, filter, limit)")

    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(PoolTimeout)
    async def unavailable(request: Request, error: Exception) -> JSONResponse:
        return exception(503, "the database is unavailable; try again shortly")

    @app.exception_handler(ParameterError)
    async def bad_parameter(request: Request, error: ParameterError) -> JSONResponse:
        return exception(400, str(error))

    for kind, _ in STATUSES:  # a domain error no endpoint caught is answered the same way

        @app.exception_handler(kind)
        async def domain_error(request: Request, error: Exception) -> JSONResponse:
            return refusal(error)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        return exception(error.status_code, str(error.detail), headers=error.headers)

    @app.exception_handler(Exception)
    async def server_error(request: Request, error: Exception) -> JSONResponse:
        """A bug is still a 500, but in OGC exception JSON like every other error (Starlette
        re-raises it after this answer, so the server's log keeps the traceback)."""
        return exception(500, "internal error; the server's log has the details")

    @app.exception_handler(RequestValidationError)
    async def invalid_parameter(request: Request, error: RequestValidationError) -> JSONResponse:
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}: {e.get('msg')}"
            for e in error.errors()
        )
        return exception(400, reasons or "invalid request")
