"""The FastAPI application factory.

Why a factory: tests, the CLI and any ASGI server build the app from explicit settings (the store's
URL, the pool size) instead of import-time globals, so one process can serve several stores.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from psycopg_pool import AsyncConnectionPool
from starlette.staticfiles import StaticFiles

from api import (
    analysis,
    applications,
    auth,
    browser_session,
    errors,
    health,
    maps,
    rasters,
    tiles,
)
from api.ogc import features, transactions

STATIC = Path(__file__).resolve().parent / "static"


@dataclass(frozen=True)
class Settings:
    database_url: str
    pool_min: int = 1
    pool_max: int = 10
    title: str = "E-Mining Platform"
    basemap: str | None = field(default_factory=lambda: os.environ.get("EMINING_BASEMAP"))
    """An online basemap under /map: ``osm`` or a tile URL template; off (offline) by default."""
    map_embed_max: int = 5_000
    """Rows above which /map draws a layer from vector tiles instead of fetching its features."""
    # Hot vector tiles kept per worker process (bytes; 0 disables), EMINING_TILE_CACHE_MB.
    tile_cache_bytes: int = field(
        default_factory=lambda: int(float(os.environ.get("EMINING_TILE_CACHE_MB", "64")) * 2**20)
    )


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = AsyncConnectionPool(
            settings.database_url,
            min_size=settings.pool_min,
            max_size=settings.pool_max,
            open=False,
            # A runaway request (a huge filter over a big table) must not hold a connection.
            # No JIT: the planner's cost of a tile over a million points makes PostgreSQL spend
            # seconds compiling (2.5 s of 3.1 s for a z5 tile); the API's statements are short.
            kwargs={"autocommit": True, "options": "-c statement_timeout=30000 -c jit=off"},
        )
        await pool.open(wait=False)
        app.state.pool = pool
        try:
            yield
        finally:
            await pool.close()

    # The OpenAPI 3.0 definition (/api) and its page (/api.html) are the OGC router's own.
    app = FastAPI(
        title=settings.title, lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.state.settings = settings
    app.state.static = STATIC
    errors.install(app)
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(browser_session.router)
    app.include_router(features.router)
    app.include_router(transactions.router)
    app.include_router(applications.router)
    app.include_router(analysis.router)
    app.include_router(tiles.router)
    app.include_router(rasters.router)
    app.include_router(maps.router)
    # CSS, the map scripts and the vendored Leaflet and plugins (no CDN: it runs offline).
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def app_from_env() -> FastAPI:
    """For ``uvicorn --factory api.app:app_from_env`` (several worker processes)."""
    return create_app(Settings(os.environ["DATABASE_URL"]))
