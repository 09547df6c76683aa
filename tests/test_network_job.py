"""The API's background network job ends when its app stops, even if its task does not take
the cancellation (what psycopg does when it loses one while waiting on the server)."""

from __future__ import annotations

import asyncio
import time

from api.network_job import NetworkJob


def test_a_job_that_does_not_take_its_cancellation_does_not_hold_up_the_shutdown():
    asyncio.run(stubborn_job())


async def stubborn_job() -> None:
    let_go = asyncio.Event()

    async def stubborn() -> None:
        while not let_go.is_set():
            try:
                await let_go.wait()
            except asyncio.CancelledError:
                continue  # a cancellation lost on the way

    job = NetworkJob("postgresql://unused", interval=60)
    job.task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    started = time.monotonic()
    stopping = asyncio.create_task(job.stop(seconds=0.2))
    done, _ = await asyncio.wait({stopping}, timeout=5)
    let_go.set()  # whatever happened, the stubborn task may end now
    await job.task
    assert stopping in done, "the shutdown waited for a job that never ended"
    assert time.monotonic() - started >= 0.2
