"""``/healthz``: is the store reachable, and how many rows does each layer hold."""

from __future__ import annotations

import psycopg
from fastapi import APIRouter, Request

from api.auth import session
from api.responses import JSONResponse
from geo import db

router = APIRouter()


@router.get("/healthz", tags=["platform"], summary="Database status and rows per layer")
async def healthz(request: Request) -> JSONResponse:
    try:
        async with session(request, timeout=5) as conn:  # counts the caller may see
            found = await db.status(conn)
    except (psycopg.Error, TimeoutError) as error:
        return JSONResponse(
            {"status": "unavailable", "database": {"connected": False, "error": str(error)}},
            status_code=503,
        )
    return JSONResponse(
        {
            "status": "ok",
            "database": {
                "connected": True,
                "postgresql": found["postgresql"],
                "postgis": found["postgis"],
            },
            "layers": found["layers"],
        }
    )
