"""Each layer's rows, extent and time span as the caller may see them, cached per data version.

Why exact and per caller: collection metadata, tileset metadata and the map's legend publish a
layer's extent and size, and row-level security hides records; an estimate from the planner's
statistics would tell an anonymous caller how many confidential records exist and where.
Why cached: the exact summary reads every visible row (about 175 ms for a million deposits),
and those documents are asked for on every page view. The key is the store (its oid), the
layer's change counter (migration 0002: raised by every write, whatever its path) and the
audience (``Claims.audience``): callers who see the same rows share an entry, and a write makes
a new key, so an entry is never stale.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable

from fastapi import Request
from psycopg import AsyncConnection

from geo.summary import Summary, count_up_to, summarise
from geo.tiles import fetch_versions
from layers.catalogue import Layer

ENTRIES = 4096  # a few hundred bytes each; enough for every layer × every organisation seen

Key = tuple[int, str, int, str, str]


class Summaries:
    """A bounded, least-recently-used map from (store, layer, version, audience) to a summary."""

    def __init__(self, entries: int = ENTRIES) -> None:
        self.entries = entries
        self.known: OrderedDict[Key, Summary] = OrderedDict()

    def get(self, key: Key) -> Summary | None:
        found = self.known.get(key)
        if found is not None:
            self.known.move_to_end(key)
        return found

    def put(self, key: Key, summary: Summary) -> None:
        self.known[key] = summary
        self.known.move_to_end(key)
        while len(self.known) > self.entries:
            self.known.popitem(last=False)


async def summaries(
    request: Request, conn: AsyncConnection, layers: list[Layer], compute: bool = True
) -> dict[str, Summary]:
    """Inside ``session(request)``: each layer's summary for this caller, by layer id; with
    ``compute=False`` only those already cached (the others are left out)."""

    async def summary_of(layer: Layer) -> Summary:
        return await summarise(conn, layer.source)

    return await cached(request, conn, layers, "", summary_of if compute else None)


async def counts_up_to(
    request: Request, conn: AsyncConnection, layers: list[Layer], limit: int
) -> dict[str, int]:
    """Inside ``session(request)``: each layer's rows for this caller counted no further than
    ``limit`` (``geo.summary.count_up_to``), cached beside the summaries under the same key
    with the limit added (so /map reads these few thousand rows once per data version)."""

    async def counted(layer: Layer) -> Summary:
        return Summary(await count_up_to(conn, layer.source, limit), None, None)

    found = await cached(request, conn, layers, f"<={limit}", counted)
    return {layer_id: summary.count for layer_id, summary in found.items()}


async def cached(
    request: Request,
    conn: AsyncConnection,
    layers: list[Layer],
    kind: str,
    compute: Callable[[Layer], Awaitable[Summary]] | None,
) -> dict[str, Summary]:
    """Each layer's entry of ``kind`` for this caller: from the cache, else ``compute``d and
    kept (``compute=None``: cached ones only).

    The versions are read before the rows: a write committed in between then lands under the
    old key (soon unused), never the reverse, which would keep a stale summary under the new one.
    """
    state = request.app.state
    if getattr(state, "summaries", None) is None:
        state.summaries = Summaries()
    cache: Summaries = state.summaries
    database, versions = await fetch_versions(conn)
    audience = request.state.claims.audience
    found = {}
    for layer in layers:
        counter = layer.source.layer
        key = (database, layer.id + kind, versions.get(counter, 0), counter, audience)
        summary = cache.get(key)
        if summary is None:
            if compute is None:
                continue
            summary = await compute(layer)
            cache.put(key, summary)
        found[layer.id] = summary
    return found
