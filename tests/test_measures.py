"""Areas and lengths are computed by the database on the spheroid, not in degrees."""

from __future__ import annotations

import psycopg
import pytest
import shapely
from pyproj import Geod

GEOD = Geod(ellps="WGS84")


def test_concession_areas_match_geodesic_areas(samples_url):
    with psycopg.connect(samples_url) as conn:
        rows = conn.execute("SELECT licence_no, area_km2, ST_AsBinary(geom) FROM concessions")
        rows = rows.fetchall()
    assert rows
    for licence, area_km2, wkb in rows:
        area, _ = GEOD.geometry_area_perimeter(shapely.from_wkb(wkb))
        assert area_km2 == pytest.approx(abs(area) / 1e6, rel=0.005), licence


def test_corridor_lengths_match_geodesic_lengths(samples_url):
    with psycopg.connect(samples_url) as conn:
        rows = conn.execute("SELECT ref, length_km, ST_AsBinary(geom) FROM corridors").fetchall()
    assert rows
    for ref, length_km, wkb in rows:
        expected = GEOD.geometry_length(shapely.from_wkb(wkb)) / 1e3
        assert length_km == pytest.approx(expected, rel=0.005), ref


def test_area_follows_the_geometry_when_it_changes(samples_url):
    with psycopg.connect(samples_url) as conn:
        licence, before = conn.execute(
            "SELECT licence_no, area_km2 FROM concessions ORDER BY licence_no LIMIT 1"
        ).fetchone()
        conn.execute(
            "UPDATE concessions "
            "SET geom = ST_Multi(ST_Scale(geom, ST_MakePoint(2, 2), ST_Centroid(geom))) "
            "WHERE licence_no = %s",
            (licence,),
        )
        after = conn.execute(
            "SELECT area_km2 FROM concessions WHERE licence_no = %s", (licence,)
        ).fetchone()[0]
        conn.rollback()
    assert after == pytest.approx(4 * before, rel=0.01)
