"""Loading files: every format in; every bad row named by file and row; nothing half-written."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import psycopg
import pyogrio
import pytest
import shapely

from geo import copy as copier
from geo.load import LoadError, load_file

SOURCE = "test fixture (not real data)"


def deposits(n: int = 3, seed: int = 1, **columns: list) -> gpd.GeoDataFrame:
    """``n`` well-formed deposits inside Pakistan; ``columns`` override whole columns."""
    rng = np.random.default_rng(seed)
    frame = {
        "name": [f"Deposit {seed}-{i}" for i in range(n)],
        "commodities": [["copper", "gold"]] * n,
        "status": ["prospect"] * n,
        "coord_quality": ["approximate"] * n,
        "tonnage_mt": rng.uniform(1, 100, n).round(3).tolist(),
        "source": [SOURCE] * n,
    }
    geometry = shapely.points(rng.uniform(62, 75, n), rng.uniform(25, 35, n))
    frame.update(columns)
    geometry = frame.pop("geometry", geometry)
    return gpd.GeoDataFrame(frame, geometry=list(geometry), crs=4326)


def count(conn, table: str = "deposits") -> int:
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.fixture(autouse=True)
def empty_tables(conn):
    yield
    conn.execute("TRUNCATE deposits, concessions")


def write(frame: gpd.GeoDataFrame, path: Path) -> Path:
    frame = frame.copy()
    frame["commodities"] = frame["commodities"].map(lambda v: ";".join(v) if v else None)
    pyogrio.write_dataframe(frame, path)
    return path


def write_zipped_shapefile(frame: gpd.GeoDataFrame, folder: Path, prj: bool = True) -> Path:
    # dBASE names hold at most 10 characters: pyogrio warns for each longer column it cuts
    # (the loader maps them back); that each one is cut is part of what these tests load.
    with pytest.warns(RuntimeWarning, match="Normalized/laundered field name") as cut:
        shp = write(frame, folder / "deposits.shp")
    said = " ".join(str(w.message) for w in cut)
    long = [name for name in frame.columns if len(name) > 10]
    assert long and all(f"'{name}'" in said for name in long), said
    archive = folder / "deposits.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for part in folder.glob("deposits.*"):
            if part != archive and (prj or part.suffix != ".prj"):
                zipped.write(part, part.name)
    assert shp.exists()
    return archive


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".fgb", ".zip", "lonlat.csv", "wkt.csv"])
def test_every_format_loads_with_its_values(conn, tmp_path, suffix):
    frame = deposits(4)
    if suffix == ".zip":
        path = write_zipped_shapefile(frame, tmp_path)
    elif suffix.endswith(".csv"):
        table = frame.drop(columns="geometry")
        table["commodities"] = table["commodities"].map(";".join)
        if suffix == "lonlat.csv":
            table["lon"], table["lat"] = frame.geometry.x, frame.geometry.y
        else:
            table["wkt"] = frame.geometry.to_wkt(rounding_precision=-1)
        path = tmp_path / f"deposits-{suffix}"
        table.to_csv(path, index=False)
    else:
        path = write(frame, tmp_path / f"deposits{suffix}")
    report = load_file(conn, path, "deposits")
    assert (report.rows, report.inserted, report.updated) == (4, 4, 0)
    rows = conn.execute(
        "SELECT name, commodities, status, tonnage_mt, ST_X(geom), ST_Y(geom) FROM deposits "
        "ORDER BY name"
    ).fetchall()
    for row, (_, expected) in zip(rows, frame.sort_values("name").iterrows(), strict=True):
        assert row[:4] == (expected["name"], ["copper", "gold"], "prospect", expected.tonnage_mt)
        assert row[4] == pytest.approx(expected.geometry.x, abs=1e-9)
        assert row[5] == pytest.approx(expected.geometry.y, abs=1e-9)


def test_projected_files_are_reprojected_to_4326(conn, tmp_path):
    frame = deposits(3)
    path = write(frame.to_crs(32642), tmp_path / "utm42.gpkg")
    load_file(conn, path, "deposits")
    got = conn.execute("SELECT name, ST_X(geom), ST_Y(geom) FROM deposits ORDER BY name").fetchall()
    for (_, x, y), point in zip(got, frame.sort_values("name").geometry, strict=True):
        assert (x, y) == (pytest.approx(point.x, abs=1e-7), pytest.approx(point.y, abs=1e-7))


BOWTIE = shapely.MultiPolygon([shapely.Polygon([(66, 26), (67, 27), (67, 26), (66, 27)])])


@pytest.mark.parametrize(
    ("change", "row", "reason"),
    [
        ({"geometry": shapely.points([[66, 26], [0, 0], [67, 27]])}, "feature 2", "outside Pakist"),
        ({"geometry": shapely.points([[66, 26], [26, 66], [67, 27]])}, "feature 2", "swapped"),
        (
            {
                "geometry": [
                    shapely.Point(66, 26),
                    shapely.LineString([(66, 26), (67, 27)]),
                    shapely.Point(67, 27),
                ]
            },
            "feature 2",
            "Linestring where deposits holds Point",
        ),
        ({"status": ["prospect", "producting", "prospect"]}, "feature 2", "'producting' is not"),
        ({"commodities": [["gold"], ["gold", "kryptonite"], ["gold"]]}, "feature 2", "kryptonite"),
        ({"status": ["prospect", None, "prospect"]}, "feature 2", "required value is empty"),
        ({"tonnage_mt": ["1", "lots", "2"]}, "feature 2", "'lots' is not a number"),
        ({"as_of": ["2024-01-01", "2024-13-45", None]}, "feature 2", "is not a date"),
        ({"name": ["A", "B", "A"]}, "feature 3", "duplicate name 'A'"),
        ({"colour": ["red", "red", "red"]}, "colour", "unknown field"),
    ],
)
def test_bad_rows_are_reported_and_nothing_is_written(conn, tmp_path, change, row, reason):
    path = tmp_path / "bad.geojson"
    frame = deposits(3, **change)
    frame.to_file(path)
    with pytest.raises(LoadError) as caught:
        load_file(conn, path, "deposits")
    message = str(caught.value)
    assert str(path) in message and row in message and reason in message, message
    assert count(conn) == 0


def test_invalid_polygon_is_reported_with_the_reason(conn, tmp_path):
    frame = gpd.GeoDataFrame(
        {
            "licence_no": ["B-1"],
            "licence_type": ["exploration"],
            "commodities": [["gold"]],
            "status": ["granted"],
            "source": [SOURCE],
        },
        geometry=[BOWTIE],
        crs=4326,
    )
    path = tmp_path / "blocks.geojson"
    frame.to_file(path)
    with pytest.raises(
        LoadError, match=r"feature 1: geometry: invalid geometry: Self-intersection"
    ):
        load_file(conn, path, "concessions")
    assert count(conn, "concessions") == 0


def test_every_problem_is_listed_not_just_the_first(conn, tmp_path):
    path = tmp_path / "many.geojson"
    deposits(5, status=["x1", "prospect", "x3", "prospect", "x5"]).to_file(path)
    with pytest.raises(LoadError) as caught:
        load_file(conn, path, "deposits")
    assert [p.row for p in caught.value.problems] == [0, 2, 4]


def test_missing_required_column_and_csv_rows_are_named(conn, tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text("name,commodities,status,source,lon,lat\nA,gold,prospect,s,66,26\n")
    with pytest.raises(LoadError, match="coord_quality: required field missing"):
        load_file(conn, path, "deposits")
    path.write_text(
        "name,commodities,status,coord_quality,source,wkt\n"
        "A,gold,prospect,sourced,s,POINT(66 26)\n"
        "B,gold,prospect,sourced,s,POINT(66 oops)\n"
    )
    with pytest.raises(LoadError, match=r"row 2 \(line 3\): geometry: missing or empty"):
        load_file(conn, path, "deposits")
    assert count(conn) == 0


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("broken.gpkg", b"this is not a geopackage", "cannot read"),
        ("notes.txt", b"hello", "unsupported file type .txt"),
        ("missing.geojson", None, "no such file"),
    ],
)
def test_unusable_files_are_rejected(conn, tmp_path, name, content, reason):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(LoadError, match=reason):
        load_file(conn, path, "deposits")


def test_shapefile_without_prj_is_rejected_and_truncated_names_are_mapped(conn, tmp_path):
    folder = tmp_path / "noprj"
    folder.mkdir()
    with pytest.raises(LoadError, match="no coordinate reference system"):
        load_file(conn, write_zipped_shapefile(deposits(2), folder, prj=False), "deposits")
    report = load_file(conn, write_zipped_shapefile(deposits(2), tmp_path), "deposits")
    assert report.inserted == 2  # coord_quality arrived as dBASE's 10-character "coord_qual"


def test_existing_keys_need_upsert_and_upsert_updates_in_place(conn, tmp_path):
    first = tmp_path / "first.geojson"
    deposits(2, name=["A", "B"], status=["prospect", "prospect"]).to_file(first)
    load_file(conn, first, "deposits")
    ids = dict(conn.execute("SELECT name, id FROM deposits").fetchall())

    second = tmp_path / "second.geojson"
    deposits(2, name=["B", "C"], status=["producing", "explored"]).to_file(second)
    with pytest.raises(LoadError, match="'B' is already in deposits; use --upsert"):
        load_file(conn, second, "deposits")
    assert count(conn) == 2

    report = load_file(conn, second, "deposits", upsert=True)
    assert (report.inserted, report.updated) == (1, 1)
    rows = dict(conn.execute("SELECT name, status FROM deposits").fetchall())
    assert rows == {"A": "prospect", "B": "producing", "C": "explored"}
    assert conn.execute("SELECT id FROM deposits WHERE name = 'B'").fetchone()[0] == ids["B"]


def test_a_database_rule_failure_rolls_back_the_whole_file(conn, tmp_path):
    # The database also requires grade_unit with grade; the loader leaves that rule to it.
    path = tmp_path / "grades.geojson"
    deposits(3, grade=[1.0, 2.0, 3.0], grade_unit=["g/t", None, "g/t"]).to_file(path)
    with pytest.raises(LoadError, match=r"feature 2: database: .*deposits_check"):
        load_file(conn, path, "deposits")
    assert count(conn) == 0


def test_large_loads_report_progress_and_are_stored_in_spatial_order(conn, tmp_path, monkeypatch):
    monkeypatch.setattr(copier, "CHUNK", 1000)
    frame = deposits(5000, seed=7)
    path = tmp_path / "many.gpkg"
    write(frame, path)
    calls = []
    load_file(conn, path, "deposits", progress=lambda stage, done, total: calls.append(done))
    assert calls[-5:] == [1000, 2000, 3000, 4000, 5000]
    # Neighbours on disk should be neighbours on the ground (the file order is random).
    stored = conn.execute("SELECT ST_X(geom), ST_Y(geom) FROM deposits ORDER BY ctid").fetchall()
    on_disk = np.abs(np.diff(np.array(stored), axis=0)).sum(axis=1).mean()
    in_file = np.abs(np.diff(shapely.get_coordinates(frame.geometry), axis=0)).sum(axis=1).mean()
    assert on_disk < in_file / 10, (on_disk, in_file)


def schema_of(conn, table: str) -> list[tuple]:
    indexes = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s ORDER BY 1", (table,)
    ).fetchall()
    constraints = conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass ORDER BY 1",
        (table,),
    ).fetchall()
    return indexes + constraints


def test_bulk_loads_into_an_empty_table_keep_every_index_and_rule(conn, tmp_path):
    before = schema_of(conn, "deposits")
    n = 12_000  # above the bulk threshold: indexes are rebuilt after the COPY
    grades = [1.0] * n
    units = ["g/t"] * n
    units[11_000] = None  # the database's own rule (grade needs a unit) fails late in the COPY
    bad = write(deposits(n, seed=3, grade=grades, grade_unit=units), tmp_path / "bad.gpkg")
    with pytest.raises(LoadError, match="feature 11001: database"):
        load_file(conn, bad, "deposits")
    assert count(conn) == 0 and schema_of(conn, "deposits") == before

    good = write(deposits(n, seed=3), tmp_path / "good.gpkg")
    assert load_file(conn, good, "deposits").inserted == n
    assert schema_of(conn, "deposits") == before
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute(
            "INSERT INTO deposits (name, commodities, status, coord_quality, source, geom) "
            "SELECT name, commodities, status, coord_quality, source, geom FROM deposits LIMIT 1"
        )


def test_an_empty_file_loads_nothing_and_says_so(conn, tmp_path):
    path = tmp_path / "empty.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(LoadError, match=r"empty\.geojson: file: holds no features"):
        load_file(conn, path, "deposits")
    assert count(conn) == 0


def test_a_streamed_bulk_load_still_reports_every_problem_and_writes_nothing(
    conn, tmp_path, monkeypatch
):
    """Into an empty table big files are checked and copied chunk by chunk: a problem in the
    last chunk must still roll back the first ones, and problems from every chunk (and a key
    repeated across chunks) must all be named, file-wide ones once."""
    monkeypatch.setattr(copier, "CHUNK", 3000)
    before = schema_of(conn, "deposits")
    n = 12_000
    frame = deposits(n, seed=5)
    frame.loc[100, "status"] = "producting"
    frame.loc[11_900, "name"] = frame.loc[4, "name"]  # the same key, chunks apart
    frame.loc[7_000, "geometry"] = shapely.Point(10, 10)  # far outside Pakistan
    frame["colour"] = "red"  # a field the layer does not have
    with pytest.raises(LoadError) as raised:
        load_file(conn, write(frame, tmp_path / "bad.gpkg"), "deposits")
    lines = raised.value.lines()
    assert sum("colour" in line for line in lines) == 1
    for fragment in ("feature 101: status", "feature 7001: geometry", "feature 11901: name"):
        assert sum(fragment in line for line in lines) == 1, lines
    assert len(lines) == 4
    assert count(conn) == 0 and schema_of(conn, "deposits") == before
