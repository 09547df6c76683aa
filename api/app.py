"""The FastAPI application factory.

Why a factory: tests, the CLI and any ASGI server build the app from explicit settings (the store's
URL, the pool size) instead of import-time globals, so one process can serve several stores.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

from api import errors, health


@dataclass(frozen=True)
class Settings:
    database_url: str
    pool_min: int = 1
    pool_max: int = 10
    title: str = "E-Mining Platform"


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = AsyncConnectionPool(
            settings.database_url,
            min_size=settings.pool_min,
            max_size=settings.pool_max,
            open=False,
            kwargs={"autocommit": True},
        )
        await pool.open(wait=False)
        app.state.pool = pool
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(title=settings.title, lifespan=lifespan, docs_url="/api.html", openapi_url="/api")
    app.state.settings = settings
    errors.install(app)
    app.include_router(health.router)
    return app
