"""Exports: every format round-trips through the loader, and large layers stream in batches."""

from __future__ import annotations

import tracemalloc

import psycopg
import pytest
import shapely

from geo import export as exporter
from geo.export import ExportError, export_layer
from geo.load import load_file
from geo.models import LAYERS
from tests.conftest import fresh_database

FORMATS = [".gpkg", ".geojson", ".csv", ".fgb"]


def snapshot(url: str, layer: str) -> dict[str, tuple]:
    """Every row by natural key: its attributes (no id / updated_at) and its geometry."""
    table = LAYERS[layer].__table__
    key = table.info["natural_key"]
    columns = [c.name for c in table.columns if c.name not in ("id", "updated_at", "geom")]
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            f"SELECT {', '.join(columns)}, ST_AsBinary(geom) FROM {layer}"
        ).fetchall()
    index = columns.index(key)
    return {row[index]: row for row in rows}


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("layer", ["deposits", "concessions", "sezs", "corridors", "districts"])
def test_export_then_load_gives_the_same_features(cluster, samples_url, tmp_path, layer, suffix):
    path = tmp_path / f"{layer}{suffix}"
    with psycopg.connect(samples_url, autocommit=True) as conn:
        exported = export_layer(conn, layer, path)
    target = fresh_database(cluster)
    with psycopg.connect(target, autocommit=True) as conn:
        assert load_file(conn, path, layer).inserted == exported
    before, after = snapshot(samples_url, layer), snapshot(target, layer)
    assert before.keys() == after.keys() and len(before) == exported > 0
    for key, row in before.items():
        other = after[key]
        for value, again in zip(row[:-1], other[:-1], strict=True):
            assert again == (pytest.approx(value) if isinstance(value, float) else value), key
        original, loaded = shapely.from_wkb(row[-1]), shapely.from_wkb(other[-1])
        assert shapely.equals_exact(original, loaded, tolerance=1e-9), key


def test_unknown_layer_and_format_are_refused(samples_url, tmp_path):
    with psycopg.connect(samples_url) as conn:
        with pytest.raises(ExportError, match="unknown layer 'mines'"):
            export_layer(conn, "mines", tmp_path / "x.gpkg")
        with pytest.raises(ExportError, match="unsupported format"):
            export_layer(conn, "deposits", tmp_path / "x.kml")


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson"])
def test_large_exports_stream_instead_of_holding_every_row(
    empty_url, tmp_path, monkeypatch, suffix
):
    rows = 100_000
    with psycopg.connect(empty_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO deposits (name, commodities, status, coord_quality, source, geom) "
            "SELECT 'synthetic ' || i, ARRAY['gold'], 'prospect', 'approximate', "
            "'synthetic test rows', ST_Point(61 + (i %% 1000) * 0.016, 24 + (i / 1000) * 0.12, "
            "4326) FROM generate_series(1, %s) AS i",
            (rows,),
        )
        tracemalloc.start()
        conn.execute("SELECT * FROM deposits").fetchall()
        everything = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()

        monkeypatch.setattr(exporter, "BATCH", 2_000)
        seen = []
        tracemalloc.start()
        count = export_layer(
            conn,
            "deposits",
            tmp_path / f"big{suffix}",
            progress=lambda stage, done, total: seen.append(done),
        )
        streamed = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert count == rows and seen[:2] == [2_000, 4_000] and seen[-1] == rows
    assert streamed < everything / 5, (streamed, everything)
