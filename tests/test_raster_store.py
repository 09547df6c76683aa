"""Where rasters are kept and what the catalogue tells about them.

The catalogue stores a COG's path relative to the rasters folder, so the folder can move (a
volume, a restored backup); nothing the API answers names a folder of the server; the names of
vector collections are refused by whoever knows them (the CLI), not by geo/ importing layers/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import morecantile
import numpy as np
import psycopg
import pytest
import rasterio
import requests
from click.testing import CliRunner
from rasterio.transform import from_origin

from cli.main import main
from geo import raster_read
from geo.raster import add_raster, get_raster
from layers.catalogue import CATALOGUE
from tests.conftest import REPO, LiveServer


def write_tif(path: Path) -> Path:
    """A 100 x 100 km float raster in UTM 42N, inside Pakistan (near Quetta)."""
    values = np.arange(100 * 100, dtype="float32").reshape(100, 100)
    corner = from_origin(300_000, 3_400_000, 1_000, 1_000)
    profile = {"driver": "GTiff", "width": 100, "height": 100, "count": 1, "dtype": "float32",
               "crs": "EPSG:32642", "transform": corner}  # fmt: skip
    with rasterio.open(path, "w", **profile) as out:
        out.write(values, 1)
    return path


def test_paths_are_relative_so_the_folder_can_move(empty_url, tmp_path, monkeypatch):
    monkeypatch.setenv("EMINING_RASTERS", str(tmp_path / "first"))
    source = write_tif(tmp_path / "in.tif")
    with psycopg.connect(empty_url, autocommit=True) as conn:
        added = add_raster(conn, source, "moving")
        stored = conn.execute("SELECT path, source FROM rasters WHERE name = 'moving'").fetchone()
    assert stored == ("moving.tif", "in.tif")  # neither the folder nor where the file came from
    assert added.file == tmp_path / "first" / "moving.tif" and added.file.exists()
    shutil.move(tmp_path / "first", tmp_path / "second")
    monkeypatch.setenv("EMINING_RASTERS", str(tmp_path / "second"))
    with psycopg.connect(empty_url) as conn:
        info = get_raster(conn, "moving")
    assert info is not None and info.file == tmp_path / "second" / "moving.tif"
    with rasterio.open(info.file) as cog:
        np.testing.assert_array_equal(cog.read(1), rasterio.open(source).read(1))
    lon, lat = info.bbox[0] + 0.05, info.bbox[3] - 0.05
    assert raster_read.sample(info, [(lon, lat)], 1)[0] is not None


def test_a_vector_collection_name_is_refused_by_the_cli(empty_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", empty_url)
    monkeypatch.setenv("EMINING_RASTERS", str(tmp_path / "rasters"))
    source = write_tif(tmp_path / "in.tif")
    vector = CATALOGUE[0].id
    result = CliRunner().invoke(main, ["raster", "add", str(source), "--name", vector])
    assert result.exit_code != 0 and "vector collection" in result.output
    with psycopg.connect(empty_url) as conn:
        assert conn.execute("SELECT count(*) FROM rasters").fetchone()[0] == 0


def test_an_unreadable_cog_is_a_500_that_names_no_server_folder(empty_url, tmp_path, monkeypatch):
    folder = tmp_path / "private-folder-name"
    monkeypatch.setenv("EMINING_RASTERS", str(folder))
    with psycopg.connect(empty_url, autocommit=True) as conn:
        info = add_raster(conn, write_tif(tmp_path / "in.tif"), "gone")
    info.file.write_bytes(b"not a GeoTIFF any more")
    with LiveServer(empty_url) as server:
        catalogue = requests.get(f"{server.url}/collections/gone", timeout=30)
        centre = ((info.bbox[0] + info.bbox[2]) / 2, (info.bbox[1] + info.bbox[3]) / 2)
        x, y, z = morecantile.tms.get("WebMercatorQuad").tile(*centre, 7)
        tile = requests.get(
            f"{server.url}/collections/gone/map/tiles/WebMercatorQuad/{z}/{x}/{y}.png", timeout=30
        )
    assert catalogue.status_code == 200 and str(tmp_path) not in catalogue.text
    assert tile.status_code == 500, tile.text
    assert tile.json()["code"] and str(tmp_path) not in tile.text and "private" not in tile.text


@pytest.mark.parametrize("module", sorted(p.name for p in (REPO / "geo").glob("*.py")))
def test_geo_imports_neither_layers_nor_api(module):
    """Data flows api -> layers -> geo: also no function-local import goes the other way."""
    import ast

    tree = ast.parse((REPO / "geo" / module).read_text())
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        assert not [n for n in names if n.split(".")[0] in ("api", "layers")], (module, names)
