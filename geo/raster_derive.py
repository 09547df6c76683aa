"""The sample rasters, derived from the store's own data (no public raster is downloadable here).

Both are labelled ``derived`` in the catalogue with the tables they come from; ``emining raster
derive`` (or ``data/samples/rasters.py``) rebuilds them after the vectors change.

``accessibility`` (hours, EPSG:32642, 1 km cells, Pakistan only): for each cell, the travel time to
the nearest SEZ or port *through the logistics network*, under the network's own rules
(``geo/network.py``): a straight access leg from the cell centre to the nearest corridor edge at
``ACCESS_KMH`` (plus ``HANDLING_HOURS`` when that edge is rail), then along the network to the
SEZ or port that is quickest from that edge (pgRouting, hours per edge), then its access leg.
Distances are planar in UTM 42N (scale error < 1.5% across Pakistan). The access edge is the
*nearest* one, as the network joins sites, not the one giving the quickest total.

``deposit_density`` (deposits per 10,000 km², EPSG:32642, 5 km cells): a Gaussian kernel
(σ = 25 km, cut at 3σ) over the public deposits, band 1 for all and one band per commodity.
Deposits are counted per cell in PostGIS; Python only spreads the counts. Both surfaces come
from public records only (the network is public-only too): rasters are served to everyone.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import psycopg
import rasterio
import shapely
from rasterio.features import rasterize
from rasterio.transform import from_origin
from rasterio.warp import transform_bounds

from geo import network
from geo.raster import RasterInfo, add_raster
from geo.validate import EXTENT

CRS = "EPSG:32642"
NODATA = -9999.0
ACCESS_RES = 1_000.0
DENSITY_RES = 5_000.0
SIGMA = 25_000.0

VERTEX_HOURS = """WITH starts AS (
    SELECT e.source AS v, p.fraction * e.hours + p.access_hours AS off
    FROM network_points p JOIN network_edges e ON e.id = p.edge_id
    LEFT JOIN facilities f ON p.layer = 'facilities' AND f.id = p.site_id
    WHERE p.layer = 'sezs' OR f.kind = ANY(%(ports)s)
    UNION ALL
    SELECT e.target, (1 - p.fraction) * e.hours + p.access_hours
    FROM network_points p JOIN network_edges e ON e.id = p.edge_id
    LEFT JOIN facilities f ON p.layer = 'facilities' AND f.id = p.site_id
    WHERE p.layer = 'sezs' OR f.kind = ANY(%(ports)s)
), best AS (SELECT v, min(off) AS off FROM starts GROUP BY v),
costs AS (
    SELECT start_vid, end_vid, agg_cost FROM pgr_dijkstraCost(
        'SELECT id, source, target, hours AS cost, hours AS reverse_cost FROM network_edges',
        (SELECT array_agg(v) FROM best), (SELECT array_agg(id) FROM network_vertices),
        directed => false)
    UNION ALL SELECT v, v, 0 FROM best
), hours AS (
    SELECT c.end_vid AS v, min(b.off + c.agg_cost) AS h
    FROM costs c JOIN best b ON b.v = c.start_vid GROUP BY c.end_vid
)
SELECT ST_AsBinary(ST_Transform(e.geom, %(srid)s)), e.hours, e.mode = 'rail',
       coalesce(s.h, 'Infinity'), coalesce(t.h, 'Infinity')
FROM network_edges e LEFT JOIN hours s ON s.v = e.source LEFT JOIN hours t ON t.v = e.target
WHERE e.mode <> 'transfer' AND (s.h IS NOT NULL OR t.h IS NOT NULL)"""
COUNTRY = "SELECT ST_AsBinary(ST_Transform(ST_Union(geom), %(srid)s)) FROM provinces"
# Public deposits only: a raster is served to everyone, so it may not reveal where hidden ones are.
COUNTS = """WITH d AS (SELECT commodities, ST_Transform(geom, %(srid)s) AS g FROM deposits
           WHERE visibility = 'public')
SELECT NULL, floor(ST_X(g) / %(res)s)::bigint, floor(ST_Y(g) / %(res)s)::bigint, count(*)
FROM d GROUP BY 2, 3
UNION ALL
SELECT c, floor(ST_X(g) / %(res)s)::bigint, floor(ST_Y(g) / %(res)s)::bigint, count(*)
FROM d, unnest(commodities) AS c GROUP BY 1, 2, 3"""


class Grid:
    """A north-up grid over Pakistan in ``CRS``, snapped outwards to ``res`` metres."""

    def __init__(self, res: float):
        west, south, east, north = transform_bounds("EPSG:4326", CRS, *EXTENT)
        self.res = res
        self.west, self.north = np.floor(west / res) * res, np.ceil(north / res) * res
        self.width = int(np.ceil(east / res) - np.floor(west / res))
        self.height = int(np.ceil(north / res) - np.floor(south / res))
        self.transform = from_origin(self.west, self.north, res, res)

    def centres(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.west + (cols + 0.5) * self.res, self.north - (rows + 0.5) * self.res


def country_mask(conn: psycopg.Connection, grid: Grid) -> np.ndarray:
    """Cells whose centre is in a province (the whole grid if there are no provinces)."""
    row = conn.execute(COUNTRY, {"srid": 32642}).fetchone()
    if row is None or row[0] is None:
        return np.ones((grid.height, grid.width), dtype=bool)
    shape = shapely.from_wkb(bytes(row[0]))
    burnt = rasterize([(shape, 1)], out_shape=(grid.height, grid.width), transform=grid.transform)
    return burnt.astype(bool)


def accessibility(conn: psycopg.Connection, res: float = ACCESS_RES) -> tuple[Grid, np.ndarray]:
    """Hours from each cell to the nearest SEZ or port through the network (see module doc)."""
    if network.routable(conn):
        network.build(conn)
    rows = conn.execute(VERTEX_HOURS, {"ports": list(network.PORT_KINDS), "srid": 32642}).fetchall()
    if not rows:
        raise ValueError("no network reaches an SEZ or port: load corridors, sezs, facilities")
    edges = shapely.from_wkb([bytes(r[0]) for r in rows])
    hours = np.array([r[1] for r in rows])
    rail = np.array([r[2] for r in rows])
    at_source = np.array([r[3] for r in rows], dtype=float)
    at_target = np.array([r[4] for r in rows], dtype=float)
    grid = Grid(res)
    inside = country_mask(conn, grid)
    r, c = np.nonzero(inside)
    points = shapely.points(*grid.centres(r, c))
    (which, nearest), metres = shapely.STRtree(edges).query_nearest(
        points, return_distance=True, all_matches=False
    )
    f = shapely.line_locate_point(edges[nearest], points[which], normalized=True)
    network_hours = np.minimum(
        at_source[nearest] + f * hours[nearest], at_target[nearest] + (1 - f) * hours[nearest]
    )
    total = (
        metres / 1e3 / network.ACCESS_KMH
        + np.where(rail[nearest], network.HANDLING_HOURS, 0)
        + network_hours
    )
    surface = np.full((grid.height, grid.width), NODATA, dtype="float32")
    surface[r[which], c[which]] = total
    return grid, surface


def deposit_density(
    conn: psycopg.Connection, res: float = DENSITY_RES
) -> tuple[Grid, np.ndarray, list[str]]:
    """Gaussian kernel density of deposits: band 'all', then one band per commodity."""
    grid = Grid(res)
    counts = conn.execute(COUNTS, {"res": res, "srid": 32642}).fetchall()
    names = ["all", *sorted({c for c, *_ in counts if c is not None})]
    bands = np.zeros((len(names), grid.height, grid.width))
    reach = int(np.ceil(3 * SIGMA / res))
    offsets = np.arange(-reach, reach + 1) * res
    dx, dy = np.meshgrid(offsets, offsets)
    kernel = np.exp(-(dx**2 + dy**2) / (2 * SIGMA**2)) / (2 * np.pi * SIGMA**2) * 1e10
    kernel[dx**2 + dy**2 > (3 * SIGMA) ** 2] = 0
    for commodity, cx, cy, n in counts:
        # Cell (cx, cy) of the SQL's integer division is grid column/row below (same origin).
        col = int(cx - round(grid.west / res))
        row = int(round(grid.north / res) - cy - 1)
        band = bands[names.index(commodity or "all")]
        top, left = row - reach, col - reach
        r0, c0 = max(top, 0), max(left, 0)
        r1, c1 = min(top + kernel.shape[0], grid.height), min(left + kernel.shape[1], grid.width)
        if r0 < r1 and c0 < c1:
            band[r0:r1, c0:c1] += n * kernel[r0 - top : r1 - top, c0 - left : c1 - left]
    inside = country_mask(conn, grid)
    out = np.where(inside[None], bands, NODATA).astype("float32")
    return grid, out, names


def write(path: Path, grid: Grid, data: np.ndarray, names: list[str]) -> None:
    data = data if data.ndim == 3 else data[None]
    with rasterio.open(
        path, "w", driver="GTiff", width=grid.width, height=grid.height, count=len(data),
        dtype="float32", crs=CRS, transform=grid.transform, nodata=NODATA,
    ) as out:  # fmt: skip
        out.write(data)
        out.descriptions = tuple(names)


def derive_samples(
    conn: psycopg.Connection,
    folder: Path | None = None,
    access_res: float = ACCESS_RES,
    density_res: float = DENSITY_RES,
) -> list[RasterInfo]:
    """Rebuild and (re)register both sample rasters; returns their catalogue rows."""
    added = []
    with tempfile.TemporaryDirectory() as scratch:
        grid, surface = accessibility(conn, access_res)
        write(Path(scratch, "a.tif"), grid, surface, ["hours"])
        added.append(
            add_raster(
                conn, Path(scratch, "a.tif"), "accessibility",
                title="Accessibility: hours to the nearest SEZ or port via the corridors",
                title_zh="可达性：经交通走廊到最近经济特区或港口的小时数",
                title_ur="رسائی: قریب ترین خصوصی اقتصادی زون یا بندرگاہ تک گھنٹے",
                description=__doc__.split("``accessibility``")[1].split("``deposit_density``")[0]
                .strip(),
                units="hours", colormap="magma", folder=folder, replace=True,
                source="derived by emining raster derive (geo/raster_derive.py)",
                derived_from=["corridors", "network_edges", "sezs", "facilities", "provinces"],
            )
        )  # fmt: skip
        grid, bands, names = deposit_density(conn, density_res)
        write(Path(scratch, "d.tif"), grid, bands, names)
        added.append(
            add_raster(
                conn, Path(scratch, "d.tif"), "deposit_density",
                title="Deposit density (Gaussian kernel, σ 25 km), all and per commodity",
                title_zh="矿床密度（高斯核，σ 25 公里）",
                title_ur="معدنی ذخائر کی کثافت (گاؤسی کرنل، σ 25 کلومیٹر)",
                description=__doc__.split("``deposit_density``")[1].strip(),
                units="deposits per 10,000 km²", colormap="viridis", folder=folder,
                replace=True, source="derived by emining raster derive (geo/raster_derive.py)",
                derived_from=["deposits", "provinces"],
            )
        )  # fmt: skip
    return added
