"""The catalogue's new fields through the loaders: every format carries them, bad values are
named by file and row, and a resources file is checked whole before anything is written."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import psycopg
import pyogrio
import pytest
import shapely

from geo.load import LoadError, load_file
from geo.resources import load_resources

SOURCE = "test fixture (not real data)"


def deposits(**columns: list) -> gpd.GeoDataFrame:
    frame = {
        "name": ["Alpha", "Beta"],
        "commodities": ["copper;gold", "coal"],
        "status": ["prospect", "producing"],
        "coord_quality": ["approximate", "sourced"],
        "coord_radius_km": [12.5, 0.5],
        "name_zh": ["阿尔法", "贝塔"],
        "name_ur": ["الفا", "بیٹا"],
        "names_source": ["transliteration (test)", "transliteration (test)"],
        "as_of": ["2024-06-01", "2019-12-28"],
        "source": [SOURCE, SOURCE],
        "source_url": ["https://example.org/a", "https://example.org/b"],
    } | columns
    return gpd.GeoDataFrame(
        frame, geometry=[shapely.Point(64, 29), shapely.Point(70, 25)], crs=4326
    )


@pytest.fixture(autouse=True)
def empty_tables(conn: psycopg.Connection):
    yield
    conn.execute("TRUNCATE deposits")  # its resources go with it (migration 0014)


def write(frame: gpd.GeoDataFrame, path: Path) -> Path:
    if path.suffix == ".csv":
        table = frame.drop(columns="geometry")
        table["lon"], table["lat"] = frame.geometry.x, frame.geometry.y
        table.to_csv(path, index=False)
    else:
        pyogrio.write_dataframe(frame, path)
    return path


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".csv"])
def test_the_new_fields_load_from_every_format(conn, tmp_path, suffix):
    frame = deposits()
    load_file(conn, write(frame, tmp_path / f"d{suffix}"), "deposits")
    stored = conn.execute(
        "SELECT name, coord_radius_km, name_zh, name_ur, names_source, as_of::text "
        "FROM deposits ORDER BY name"
    ).fetchall()
    assert stored == [
        (n, r, zh, ur, src, d)
        for n, r, zh, ur, src, d in zip(
            frame["name"], frame["coord_radius_km"], frame["name_zh"], frame["name_ur"],
            frame["names_source"], frame["as_of"], strict=True,
        )
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"coord_radius_km": [12.5, -1.0]}, "coord_radius_km", "database"),
        ({"coord_radius_km": [12.5, "far"]}, "coord_radius_km", "number"),
        ({"as_of": ["2024-06-01", "June"]}, "as_of", "date"),
    ],
)
def test_a_bad_new_field_is_named_by_row_and_nothing_is_written(
    conn, tmp_path, change, field, reason
):
    path = write(deposits(**change), tmp_path / "d.csv")
    with pytest.raises(LoadError) as error:
        load_file(conn, path, "deposits")
    text = "\n".join(error.value.lines())
    assert "row 2 (line 3)" in text or reason == "database"
    assert field in text or "coord_radius_km_check" in text
    assert conn.execute("SELECT count(*) FROM deposits").fetchone()[0] == 0


def resources_csv(path: Path, lines: list[str]) -> Path:
    header = (
        "deposit,commodity,category,tonnage_mt,grade,grade_unit,contained,contained_unit,"
        "reporting_code,as_of,source,source_url,notes"
    )
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def test_a_cu_au_resource_by_category_loads_and_replaces_on_upsert(conn, tmp_path):
    load_file(conn, write(deposits(), tmp_path / "d.geojson"), "deposits")
    first = resources_csv(
        tmp_path / "r.csv",
        [
            f"Alpha,copper,indicated,100,0.5,% Cu,,,JORC,2024-06-01,{SOURCE},,",
            f"Alpha,gold,indicated,100,0.3,g/t Au,,,JORC,2024-06-01,{SOURCE},,",
            f"Alpha,copper,inferred,50,0.4,% Cu,,,JORC,2024-06-01,{SOURCE},,",
        ],
    )
    assert load_resources(conn, first).inserted == 3
    second = resources_csv(
        tmp_path / "r2.csv", [f"Alpha,copper,measured,10,0.6,% Cu,,,JORC,2025-01-01,{SOURCE},,"]
    )
    report = load_resources(conn, second, upsert=True)
    assert (report.rows, report.updated) == (1, 1)
    assert conn.execute("SELECT category FROM deposit_resources").fetchall() == [("measured",)]


def test_every_bad_resource_row_is_named_and_nothing_is_written(conn, tmp_path):
    load_file(conn, write(deposits(), tmp_path / "d.geojson"), "deposits")
    path = resources_csv(
        tmp_path / "r.csv",
        [
            f"Alpha,copper,indicated,100,0.5,% Cu,,,JORC,2024-06-01,{SOURCE},,",
            f"Nowhere,copper,indicated,100,0.5,% Cu,,,JORC,2024-06-01,{SOURCE},,",
            f"Alpha,copper,guessed,100,0.5,% Cu,,,JORC,2024-06-01,{SOURCE},,",
            f"Alpha,gold,inferred,100,0.5,,,,JORC,2024-06-01,{SOURCE},,",
            f"Alpha,gold,probable,,,,,,JORC,yesterday,{SOURCE},,",
        ],
    )
    with pytest.raises(LoadError) as error:
        load_resources(conn, path)
    lines = error.value.lines()
    for row, field in ((2, "deposit"), (3, "category"), (4, "grade_unit"), (5, "as_of"),
                       (5, "tonnage_mt")):  # fmt: skip
        assert any(f"row {row} (line {row + 1}): {field}:" in line for line in lines), (row, lines)
    assert conn.execute("SELECT count(*) FROM deposit_resources").fetchone()[0] == 0


def test_a_resource_goes_with_its_deposit(conn, tmp_path):
    load_file(conn, write(deposits(), tmp_path / "d.geojson"), "deposits")
    load_resources(
        conn,
        resources_csv(
            tmp_path / "r.csv", [f"Beta,coal,historical,2040,,,,,none,2018-06-10,{SOURCE},,"]
        ),
    )
    with pytest.raises(psycopg.errors.ForeignKeyViolation), conn.transaction():
        conn.execute(
            "INSERT INTO deposit_resources (deposit_id, commodity, category, tonnage_mt, "
            "reporting_code, as_of, source) VALUES (-1, 'coal', 'inferred', 1, 'none', "
            "'2020-01-01', 'test')"
        )
    conn.execute("DELETE FROM deposits WHERE name = 'Beta'")
    assert conn.execute("SELECT count(*) FROM deposit_resources").fetchone()[0] == 0
    load_resources(
        conn,
        resources_csv(
            tmp_path / "r2.csv", [f"Alpha,coal,historical,1,,,,,none,2018-06-10,{SOURCE},,"]
        ),
    )
    conn.execute("TRUNCATE deposits")
    assert conn.execute("SELECT count(*) FROM deposit_resources").fetchone()[0] == 0
