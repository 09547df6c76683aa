"""Every setting of the platform, in one object: what can be changed, its default, its variable.

Why one object: the places that need a setting (the app factory, the embedded cluster, the raster
folder, the map) used to read the environment or hold a number each, so a default could differ
between two of them and nothing listed them all. ``Settings()`` reads the environment when it is
made (tests and the CLI also pass fields explicitly); the README's *Settings* is its table, and
``tests/test_settings.py`` checks the two agree. It lives in ``geo/`` because ``geo/`` may import
neither ``layers/`` nor ``api/``, while both may import it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PAKISTAN_EXTENT = (60.88, 23.73, 77.81, 37.00)
"""Pakistan's extent in CRS84 (lon 60.88–77.81, lat 23.73–37.00): the loader's check (with a
margin), the extent of an empty layer, the map's first view, the derived rasters' grid."""
MAP_EMBED_MAX = 5_000
"""Rows above which a map draws a layer from vector tiles instead of embedding its features."""
MAX_FEATURES = 10_000
"""Features one write request may carry (OGC Part 4, docs/security.md); more is a file to load."""
MAX_VERTICES = 200_000
"""Vertices per written feature: a province's boundary at full survey detail fits."""
MAX_PARTS = 5_000
"""Parts per written feature (polygons of a MultiPolygon, lines of a MultiLineString)."""
PER_CALLER = 8
"""Requests one caller (one credential, or one address without one) may have in flight: a
browser opens at most 6 connections per site, so a person's map never meets it."""
PER_ADDRESS = 32
"""Requests in flight from one client address, whatever credentials they carry (a caller
cannot escape PER_CALLER by sending made-up keys); NATs and offices share an address."""
SERVING_SLOTS = max(2, os.cpu_count() or 1)
"""Reads (GET, HEAD) a worker process serves at once that the active client addresses share
equally (api.shares): one address alone may have PER_CALLER. The number of CPUs, at least 2:
a read is the event loop's CPU and the database's, so a flooder's share above that only
takes the others' (bench/abuse.py, docs/security.md)."""
SERVING_WAIT = 10.0
"""Seconds a read over its address's share waits for one of that address's reads to end,
before a 503 with Retry-After."""
CHECKS_PER_HOUR = 120
"""Conflict checks and applications per caller per hour (``/applications/check`` tells
whether an area is taken; the budget bounds how fast anyone can map hidden applications)."""
CHECK_BURST = 30
"""Conflict checks a caller may make at once before the hourly rate applies."""
CHECK_SLOTS = 1
"""Conflict checks (and applications) computed at once per worker process, whoever asks: each
is real PostGIS and shapely work on up to 2,000 vertices, and on two cores two at once left an
ordinary reader's p99 at 1.7-3.5x (bench/abuse.py), however few each caller could send."""
CHECK_QUEUE = 4
"""Checks that may wait for their turn beyond those running; one more is a 503 at once."""
CHECK_NICE = 10
"""How much lower than the server's the CPU priority of the process that checks blocks is
(their parsing and the loader's checks, in a process of their own: api.limits.Offloaded)."""
CHECK_TIMEOUT_MS = 5_000
"""Milliseconds a check's statements may run (the API's other statements: 30 s): the largest
block allowed takes tens of milliseconds, so one that needs seconds is abuse, not an applicant."""
PASSWORD_CHECKS = 1
"""Password hashes (argon2) computed at once per worker process, in their own thread."""
PASSWORD_QUEUE = 8
"""Sign-ins that may wait for the hashing thread; one more is a 503 at once."""
PASSWORD_NICE = 10
"""How much lower than the server's the hashing thread's CPU priority is (Linux niceness, and
argon2's own lane threads inherit it): a flood of wrong passwords takes only the CPU that
readers leave, while a sign-in on a quiet server is as fast as ever."""
TURN_WAIT = 5.0
"""Seconds a check or sign-in waits for its turn before a 503 with Retry-After."""


def normalize_url(url: str) -> str:
    """Accept SQLAlchemy-style URLs (``postgresql+psycopg://``) as well as libpq ones."""
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or default


def _path(name: str) -> Path | None:
    value = _env(name)
    return Path(value).resolve() if value else None


@dataclass(frozen=True)
class Settings:
    """The platform's settings; each field's docstring is its row in the README's settings table."""

    database_url: str = field(default_factory=lambda: normalize_url(_env("DATABASE_URL", "")))
    """The store (``DATABASE_URL``); empty: the embedded cluster under ``home``."""
    database_read_url: str | None = field(default_factory=lambda: _env("DATABASE_READ_URL"))
    """Where reads go (``DATABASE_READ_URL``; GET, HEAD: items, tiles, maps, exports, summaries):
    e.g. HAProxy's port of the synchronous replicas (docs/ha.md); unset, everything goes to
    ``database_url``."""
    pool_min: int = 1
    """Connections each worker process keeps open."""
    pool_max: int = 10
    """Connections each worker process may open at most."""
    pool_timeout: float = 30.0
    """Seconds a request waits for a connection before it is a 503 (database down or busy)."""
    statement_timeout_ms: int = field(
        default_factory=lambda: int(_env("EMINING_STATEMENT_TIMEOUT_MS", "30000"))
    )
    """Milliseconds an API statement may run (``EMINING_STATEMENT_TIMEOUT_MS``): a runaway request
    (a huge filter over a big table) must not hold a connection."""
    title: str = "E-Mining Platform"
    """The API's title (landing page, OpenAPI document)."""
    basemap: str | None = field(default_factory=lambda: _env("EMINING_BASEMAP"))
    """An online basemap under /map (``EMINING_BASEMAP``): ``osm`` or a tile URL template; off
    (offline) by default."""
    map_embed_max: int = MAP_EMBED_MAX
    """Rows above which /map draws a layer from vector tiles instead of fetching its features."""
    tile_cache_bytes: int = field(
        default_factory=lambda: int(float(_env("EMINING_TILE_CACHE_MB", "64")) * 2**20)
    )
    """Hot vector tiles kept per worker process (``EMINING_TILE_CACHE_MB``, in MiB; 0 disables)."""
    per_caller: int = field(
        default_factory=lambda: int(_env("EMINING_PER_CALLER", str(PER_CALLER)))
    )
    """Requests in flight per caller (``EMINING_PER_CALLER``; api.guard); a load generator on one
    machine raises it."""
    per_address: int = field(
        default_factory=lambda: int(_env("EMINING_PER_ADDRESS", str(PER_ADDRESS)))
    )
    """Requests in flight per client address (``EMINING_PER_ADDRESS``; api.guard)."""
    serving_slots: int = field(
        default_factory=lambda: int(_env("EMINING_SERVING_SLOTS", str(SERVING_SLOTS)))
    )
    """Reads in service per worker that the active addresses share equally
    (``EMINING_SERVING_SLOTS``; default: the CPUs, at least 2; api.shares)."""
    serving_wait: float = SERVING_WAIT
    """Seconds a read over its address's share waits before a 503 with Retry-After."""
    checks_per_hour: int = CHECKS_PER_HOUR
    """Conflict checks and applications per user per hour (docs/security.md)."""
    check_burst: int = CHECK_BURST
    """Conflict checks a caller may make at once before the hourly rate applies."""
    check_slots: int = CHECK_SLOTS
    """Conflict checks and applications computed at once per worker process (docs/security.md)."""
    check_queue: int = CHECK_QUEUE
    """Checks waiting for a turn beyond those; more are a 503 at once."""
    check_nice: int = CHECK_NICE
    """Niceness added to the process that parses and checks blocks (its own, per worker)."""
    check_timeout_ms: int = CHECK_TIMEOUT_MS
    """Milliseconds a conflict check's or application's statements may run."""
    password_checks: int = PASSWORD_CHECKS
    """Password hashes computed at once per worker process (docs/security.md)."""
    password_queue: int = PASSWORD_QUEUE
    """Sign-ins waiting for the hashing thread beyond those; more are a 503 at once."""
    password_nice: int = PASSWORD_NICE
    """Niceness added to the hashing thread (Linux): it takes only the CPU readers leave."""
    turn_wait: float = TURN_WAIT
    """Seconds a check or sign-in waits for its turn before a 503 with Retry-After."""
    network_check_seconds: float = 2.0
    """How often the background job compares the links with their sources (api/network_job.py)."""
    home: Path = field(default_factory=lambda: _path("EMINING_HOME") or Path(".data").resolve())
    """The writable folder (``EMINING_HOME``): the embedded cluster and the rasters; ``.data`` in
    the working directory by default, ``/var/lib/emining`` (a volume) in the image."""
    rasters: Path | None = field(default_factory=lambda: _path("EMINING_RASTERS"))
    """Where raster COGs are kept (``EMINING_RASTERS``); default ``rasters/`` under ``home``."""
    pg_bindir: Path | None = field(default_factory=lambda: _path("EMINING_PG_BINDIR"))
    """PostgreSQL's server binaries for the embedded cluster (``EMINING_PG_BINDIR``); default: the
    major with PostGIS under /usr/lib/postgresql (see ``geo.embedded.find_bindir``)."""

    ha_home: Path = field(
        default_factory=lambda: _path("EMINING_HA_HOME") or Path(".data-ha").resolve()
    )
    """The folder of ``emining cluster`` (``EMINING_HA_HOME``): etcd, Patroni, HAProxy and the
    API processes of the highly available store (docs/ha.md); ``.data-ha`` by default."""

    @property
    def raster_folder(self) -> Path:
        return self.rasters or self.home / "rasters"

    @property
    def font_cache(self) -> Path:
        """Font subsets of standalone maps (``layers.map_fonts``): ``cache/fonts`` under home."""
        return self.home / "cache" / "fonts"


def current() -> Settings:
    """The settings as the environment gives them now (read again on each call: cheap, and tests
    change the environment between calls)."""
    return Settings()
