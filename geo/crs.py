"""Coordinate reference systems the platform serves, by OGC URI.

Why a fixed list: every CRS here is one a user over Pakistan needs (geographic WGS 84 in both axis
orders, Web Mercator for web maps, the UTM zones that cover the country for metric work), and
PostGIS reprojects to it in the database. EPSG:4326 is lat/lon by its definition, CRS84 lon/lat.
"""

from __future__ import annotations

from dataclasses import dataclass

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/{}"


@dataclass(frozen=True)
class CRS:
    uri: str
    srid: int
    lat_first: bool = False  # axis order of the EPSG definition (only geographic 4326 here)

    @property
    def decimals(self) -> int:
        """Output precision: 7 decimals of a degree is ~1 cm; projected CRSs are in metres."""
        return 7 if self.srid == 4326 else 3


SUPPORTED: tuple[CRS, ...] = (
    CRS(CRS84, 4326),
    CRS(EPSG.format(4326), 4326, lat_first=True),
    CRS(EPSG.format(3857), 3857),
    CRS(EPSG.format(32641), 32641),
    CRS(EPSG.format(32642), 32642),
    CRS(EPSG.format(32643), 32643),
)
BY_URI = {crs.uri: crs for crs in SUPPORTED}
DEFAULT = SUPPORTED[0]
STORAGE = DEFAULT


class CRSError(ValueError):
    pass


def parse(value: str | None) -> CRS:
    """A CRS from its URI (also ``EPSG:n`` and ``[EPSG:n]`` CURIEs); CRSError if not served."""
    if value is None or value == "":
        return DEFAULT
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if text.upper().startswith("EPSG:"):
        text = EPSG.format(text[5:])
    if text.upper() in ("OGC:CRS84", "CRS84"):
        text = CRS84
    if text.startswith("https://"):
        text = "http://" + text[len("https://") :]
    crs = BY_URI.get(text)
    if crs is None:
        raise CRSError(f"unsupported CRS {value!r}; supported: {', '.join(BY_URI)}")
    return crs
