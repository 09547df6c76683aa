"""A bounded in-process cache of hot tiles, keyed on the data's version.

Why keyed on versions rather than invalidated by messages: every tile request first reads the
layers' change counters (one tiny query; the database raises them in the same transaction as
every write, also writes that bypass the API), and the key holds the counters of the tile's
layers. After a write the key changes, so the old entry is never found again and ages out of
the LRU; nothing has to be told, no message can be missed, and several worker processes each
with their own cache stay correct. The ETag is a hash of the tile's bytes (api.tiles), not of
the key: a write the caller cannot see changes the key, never what they are shown.

Bounded by bytes, not entries: a z5 tile over a million points weighs ~100,000 times an empty
z14 one.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

FORMAT = "emining-tiles-2"  # raise when the tile SQL changes, so clients' ETags stop matching


@dataclass(frozen=True)
class TileKey:
    """Everything a tile's bytes depend on."""

    database: int  # the store's identity (see geo.tiles.fetch_versions)
    versions: tuple[tuple[str, int], ...]  # (layer, change counter) of the layers in the tile
    tms: str
    z: int
    x: int
    y: int
    layers: tuple[str, ...]  # MVT layers in the tile, in order
    audience: str = "public"  # whose rows it holds (geo.access.Claims.audience)
    encoding: str = "identity"  # or "gzip": the same tile, compressed (the same ETag)


@dataclass
class TileCache:
    """Least recently used tiles up to ``capacity`` bytes (0 disables the cache)."""

    capacity: int
    entries: OrderedDict[TileKey, bytes] = field(default_factory=OrderedDict)
    pending: dict[TileKey, asyncio.Future[bytes]] = field(default_factory=dict)
    size: int = 0
    hits: int = 0
    misses: int = 0

    def get(self, key: TileKey) -> bytes | None:
        tile = self.entries.get(key)
        if tile is None:
            self.misses += 1
            return None
        self.entries.move_to_end(key)
        self.hits += 1
        return tile

    def put(self, key: TileKey, tile: bytes) -> None:
        cost = len(tile) + 200  # the key and the dict's slot are not free either
        if cost > self.capacity // 4:  # one huge tile must not flush all the others
            return
        if key in self.entries:
            self.size -= len(self.entries.pop(key)) + 200
        self.entries[key] = tile
        self.size += cost
        while self.size > self.capacity:
            _, old = self.entries.popitem(last=False)
            self.size -= len(old) + 200

    async def fetch(self, key: TileKey, build: Callable[[], Awaitable[bytes]]) -> tuple[bytes, str]:
        """The tile and how it was found: ``hit``, ``miss`` (built now) or ``joined``.

        Why ``joined``: when eight clients open the same map at once, the eight requests for
        its z5 tiles arrive together; the first builds each tile, the others wait for it
        instead of running the same second-long statement seven more times. The build runs as
        its own task (shielded), so a client that gives up does not cancel it for the others.
        """
        tile = self.get(key)
        if tile is not None:
            return tile, "hit"
        task = self.pending.get(key)
        state = "joined"
        if task is None:
            state = "miss"
            task = asyncio.ensure_future(build())
            self.pending[key] = task
            task.add_done_callback(lambda done: self._built(key, done))
        return await asyncio.shield(task), state

    def _built(self, key: TileKey, task: asyncio.Future[bytes]) -> None:
        self.pending.pop(key, None)
        if not task.cancelled() and task.exception() is None:
            self.put(key, task.result())
