"""The FastAPI application factory.

Why a factory: tests, the CLI and any ASGI server build the app from explicit settings (the store's
URL, the pool size) instead of import-time globals, so one process can serve several stores.
"""

from __future__ import annotations

import gc
import inspect
import select
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from time import monotonic

import psycopg
from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from psycopg_pool import AsyncConnectionPool
from starlette.middleware import gzip as starlette_gzip
from starlette.staticfiles import StaticFiles

from api import (
    analysis,
    applications,
    auth,
    basemap,
    browser_session,
    errors,
    health,
    limits,
    maps,
    rasters,
    sites,
    tiles,
    tilesets,
)
from api.cors import PublicCORS
from api.guard import CallerGuard
from api.network_job import NetworkJob, stale_header
from api.ogc import features, transactions
from geo.settings import Settings  # also imported from here by the CLI and the tests

STATIC = Path(__file__).resolve().parent / "static"
RECONNECT_EVERY = 1.0  # seconds between attempts to reach a database that is down


class Pool(AsyncConnectionPool):
    """psycopg's pool, made to ride out a restart of PostgreSQL without one of its own.

    Two things psycopg_pool does by default (3.3) would break the promise that the API answers
    again within 5 s of a database restart (tests/test_faults.py):

    * It hands out idle connections whose server has gone: a restart ends every backend, and
      each connection left in the pool cost the next request a 503 (measured: six in a row
      after a quiet restart). Its remedy, ``check=AsyncConnectionPool.check_connection``,
      costs every request a round trip and, worse, sleeps a second (then two, four...) after
      each dead connection it finds. Here ``getconn`` instead looks whether the server has
      written to the idle connection's socket (a poll without waiting: nothing should arrive
      on an idle connection, and a server that ends a backend sends a FATAL error and closes
      the socket), runs the round trip only then, and hands the dead ones back at once: the
      pool drops them and opens new ones.
    * It retries a failed connection with exponential backoff (1, 2, 4, 8... s, for up to five
      minutes), so after an outage of T seconds the next attempt can come up to T seconds after
      the database is back (measured: 5.3 s after an 8 s outage). Here every chain of attempts
      gives up after RECONNECT_EVERY, and ``reconnect_failed`` starts a new one at once while
      requests wait; with none waiting, the next request starts one.
    """

    def __init__(self, *args: object, **kwargs: object):
        kwargs.setdefault("reconnect_timeout", RECONNECT_EVERY)
        super().__init__(*args, **kwargs)

    async def getconn(self, timeout: float | None = None) -> psycopg.AsyncConnection:
        deadline = monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            conn = await super().getconn(max(deadline - monotonic(), 1e-3))
            if not _spoken_to(conn):
                return conn
            try:
                await self.check_connection(conn)
            except psycopg.Error:
                await self.putconn(conn)  # broken: the pool replaces it
                continue
            except BaseException:  # e.g. the request was cancelled: keep the connection
                await self.putconn(conn)
                raise
            return conn

    async def reconnect_failed(self) -> None:
        await super().reconnect_failed()
        if not self.closed and self.get_stats().get("requests_waiting"):
            await self.check()  # with no connection to check, this starts a new attempt


def _spoken_to(conn: psycopg.AsyncConnection) -> bool:
    """Whether the server wrote to this idle connection, or it is closed."""
    if conn.closed:
        return True
    poller = select.poll()  # not select.select: no limit on the descriptor's number
    try:
        poller.register(conn.fileno(), select.POLLIN)
    except (psycopg.Error, OSError, ValueError):
        return True
    return bool(poller.poll(0))


def tiles_untouched() -> dict:
    """Vector tiles compress themselves, once per version (api.tiles). Starlette's GZip
    middleware adds its own ``Vary`` to an identity answer above its size threshold, doubling
    the tile's; where it can exclude a content type, tiles are excluded."""
    if "exclude_content_types" not in inspect.signature(GZipMiddleware.__init__).parameters:
        return {}
    excluded = getattr(starlette_gzip, "DEFAULT_EXCLUDED_CONTENT_TYPES", ())
    return {"exclude_content_types": (*excluded, tilesets.MVT)}


def create_app(settings: Settings) -> FastAPI:
    def new_pool(url: str, name: str) -> Pool:
        return Pool(
            url,
            min_size=settings.pool_min,
            max_size=settings.pool_max,
            timeout=settings.pool_timeout,
            open=False,
            # A runaway request (a huge filter over a big table) must not hold a connection.
            # No JIT: the planner's cost of a tile over a million points makes PostgreSQL spend
            # seconds compiling (2.5 s of 3.1 s for a z5 tile); the API's statements are short.
            # The name tells the API's connections apart in pg_stat_activity (and the HA tests
            # tell request reads from the network job's polling by it).
            kwargs={
                "autocommit": True,
                "application_name": name,
                "options": f"-c statement_timeout={settings.statement_timeout_ms} -c jit=off",
            },
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        read_url = settings.database_read_url
        apart = bool(read_url) and read_url != settings.database_url
        pool = new_pool(settings.database_url, "emining-api-write" if apart else "emining-api")
        reads = new_pool(read_url, "emining-api-read") if apart else pool
        for each in {id(pool): pool, id(reads): reads}.values():
            await each.open(wait=False)
        app.state.pool = pool  # writes, and whatever must be current
        app.state.read_pool = reads  # reads (api.auth.pool_for)
        job = NetworkJob(settings.database_url, settings.network_check_seconds)
        app.state.network_job = job
        app.state.hashing = limits.Hashing(settings.password_checks, settings.password_nice)
        app.state.checking = limits.Offloaded(settings.check_slots, settings.check_nice)
        job.start()
        # What is alive now (the modules, the routes, the settings) lives as long as the
        # process: moved out of the collector's reach, a full collection no longer walks it
        # and stalls every request for 100-160 ms (bench/abuse.py, under limit-sized checks).
        # Given back when the app stops (the tests start many apps in one process).
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            app.state.hashing.close()
            app.state.checking.close()
            await job.stop()
            await pool.close()
            if reads is not pool:
                await reads.close()

    # The OpenAPI 3.0 definition (/api) and its page (/api.html) are the OGC router's own.
    app = FastAPI(
        title=settings.title, lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    # Level 6, not Starlette's 9: a 1,000-feature GeoJSON page (516 KB) gzips in 3.0 ms against
    # 12.2 ms, 5% larger (35.6 against 33.9 KB). GDAL, QGIS and browsers all ask for gzip.
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6, **tiles_untouched())
    app.add_middleware(stale_header)
    # Outside the compression: no caller starves the others (api.guard), and web maps on
    # other sites read public records without credentials (api.cors). Added last: outermost.
    app.add_middleware(CallerGuard, pool_max=settings.pool_max, per_caller=settings.per_caller,
                       per_address=settings.per_address, serving_slots=settings.serving_slots,
                       serving_wait=settings.serving_wait)  # fmt: skip
    app.add_middleware(PublicCORS)
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
    app.include_router(sites.router)
    app.include_router(tiles.router)
    app.include_router(rasters.router)
    app.include_router(maps.router)
    app.include_router(basemap.router)
    # CSS, the map scripts and the vendored Leaflet and plugins (no CDN: it runs offline).
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def app_from_env() -> FastAPI:
    """For ``uvicorn --factory api.app:app_from_env`` (several worker processes)."""
    settings = Settings()
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL is not set: the workers serve the store it names")
    return create_app(settings)
