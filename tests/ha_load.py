"""Readers and writers through the API, each request timed, for the fault tests and the bench.

Why its own module: tests/test_ha.py asserts on what it records (longest stretch without a
successful read, the gap in acknowledged writes, which acknowledged writes are in the store)
and bench/replicas.py prints the same figures as a failover timeline.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx

GEOJSON = {"Content-Type": "application/geo+json"}


def deposit(name: str, seq: int) -> dict:
    """A synthetic deposit (labelled so in name and source) at a spread of points in Pakistan."""
    lon, lat = 62.5 + (seq * 0.37) % 12, 25.5 + (seq * 0.23) % 9
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]},
        "properties": {"name": name, "commodities": ["copper"], "status": "occurrence",
                       "coord_quality": "approximate",
                       "source": "synthetic: tests/ha_load.py (not real data)"},
    }  # fmt: skip


@dataclass
class Request:
    kind: str  # "read" or "write"
    started: float
    ended: float
    ok: bool
    detail: str = ""


@dataclass
class Load:
    """``readers`` threads reading pages and ``writers`` threads adding deposits, until stopped."""

    base_url: str
    api_key: str
    readers: int = 8
    writers: int = 2
    read_path: str = "/collections/deposits/items?limit=5"
    timeout: float = 40.0
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    log: list[Request] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)  # names of deposits answered 201
    stopping: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._seq = itertools.count()
        self._threads = [
            threading.Thread(target=self._read, daemon=True) for _ in range(self.readers)
        ] + [threading.Thread(target=self._write, daemon=True) for _ in range(self.writers)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout + 5)

    def _client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers={"X-API-Key": self.api_key},
                            timeout=self.timeout)  # fmt: skip

    def _note(self, request: Request) -> None:
        with self._lock:
            self.log.append(request)

    def _read(self) -> None:
        with self._client() as client:
            while not self.stopping.is_set():
                started = time.monotonic()
                try:
                    response = client.get(self.read_path)
                    ok, detail = response.status_code == 200, str(response.status_code)
                except httpx.HTTPError as error:
                    ok, detail = False, type(error).__name__
                self._note(Request("read", started, time.monotonic(), ok, detail))
                if not ok:
                    time.sleep(0.05)

    def _write(self) -> None:
        with self._client() as client:
            while not self.stopping.is_set():
                seq = next(self._seq)
                name = f"SYNTHETIC-ha-{self.tag}-{seq:06d}"
                started = time.monotonic()
                try:
                    response = client.post("/collections/deposits/items",
                                           json=deposit(name, seq), headers=GEOJSON)  # fmt: skip
                    ok, detail = response.status_code == 201, str(response.status_code)
                except httpx.HTTPError as error:
                    ok, detail = False, type(error).__name__
                self._note(Request("write", started, time.monotonic(), ok, detail))
                if ok:
                    with self._lock:
                        self.acknowledged.append(name)
                else:
                    time.sleep(0.05)

    # -- figures -------------------------------------------------------------------------------
    def done(self, kind: str) -> list[Request]:
        with self._lock:
            return sorted((r for r in self.log if r.kind == kind), key=lambda r: r.ended)

    def longest_gap(self, kind: str, since: float, until: float) -> float:
        """The longest time in [since, until] with no successful request of ``kind`` ending."""
        ends = [since, *(r.ended for r in self.done(kind) if r.ok and since < r.ended < until)]
        ends.append(until)
        return max(b - a for a, b in itertools.pairwise(ends))

    def failures(self, kind: str) -> list[Request]:
        return [r for r in self.done(kind) if not r.ok]

    def first_ok_after(self, kind: str, moment: float) -> float | None:
        """When the first successful request of ``kind`` started after ``moment`` ended."""
        found = [r.ended for r in self.done(kind) if r.ok and r.started > moment]
        return min(found) if found else None

    def wait_for_ok(self, kind: str, moment: float, timeout: float) -> float | None:
        """``first_ok_after``, waiting up to ``timeout`` seconds for it."""
        deadline = time.monotonic() + timeout
        while (found := self.first_ok_after(kind, moment)) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        return found

    def last_ok_before(self, kind: str, moment: float) -> float | None:
        found = [r.ended for r in self.done(kind) if r.ok and r.ended <= moment]
        return max(found) if found else None

    def count(self, kind: str, ok: bool = True) -> int:
        return sum(1 for r in self.done(kind) if r.ok == ok)
