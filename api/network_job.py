"""The API's background job that keeps the links current, so that no request ever rebuilds them.

Why a job and not the reader: a full rebuild routes every deposit (about 500 s over a million)
under an advisory lock; a GET that started one held a pooled connection for minutes while other
readers queued. Here one task per worker process checks the versions every ``interval`` seconds
(one query on a tiny table) on a connection of its own, outside the pool, and rebuilds when the
corridors or sites changed: through the API (whose writes wake it at once), ``psql`` or a load.
Readers meanwhile get the last complete links and a ``Links-Stale: true`` header. Workers share
the build through the advisory lock: a worker that finds it taken leaves the build to its owner.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import psycopg

from geo import network

log = logging.getLogger("emining.network")


class NetworkJob:
    def __init__(self, url: str, interval: float) -> None:
        self.url = url
        self.interval = interval
        self.wake = asyncio.Event()
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self.run(), name="network-job")

    async def stop(self, seconds: float = 5.0) -> None:
        """Cancel the job and wait ``seconds`` at most for it to end.

        Why a bound: psycopg can lose a task's cancellation while it waits on the server
        (psycopg/psycopg#1345, #1371), and a shutdown that waited for the job then never
        ended: an app's lifespan hung at its exit once in the test suite, and this was the one
        wait in it with no bound (the pools' close has its own timeout)."""
        if self.task is None:
            return
        self.task.cancel()
        done, _ = await asyncio.wait({self.task}, timeout=seconds)
        if not done:
            log.warning("network job: still running %.0f s after it was cancelled; left", seconds)

    def poke(self) -> None:
        """A write to a layer the network is built from: check now rather than at the next tick."""
        self.wake.set()

    async def run(self) -> None:
        failing = False  # say so once per outage, not every interval
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.url, autocommit=True, application_name="emining-network-job"
                ) as conn:
                    failing = False
                    while True:
                        if await network.stale(conn):
                            report = await network.rebuild(conn)
                            if report is not None:
                                log.info("links rebuilt: %s", report)
                        await self.pause()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database is down or the build failed: try later
                if not failing:
                    log.warning("network job: %s; trying again every %.0f s", error, self.interval)
                failing = True
                await self.pause()

    async def pause(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), self.interval)
        self.wake.clear()


def stale_header(app):
    """ASGI middleware: ``Links-Stale: true|false`` on responses that read the links."""

    async def middleware(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)

        async def sending(message):
            if message["type"] == "http.response.start":
                stale = scope.get("state", {}).get("derived_stale")
                if stale is not None:
                    value = b"true" if stale else b"false"
                    message["headers"] = [*message.get("headers", []), (b"links-stale", value)]
            await send(message)

        return await app(scope, receive, sending)

    return middleware
