"""notebooks/geologist.ipynb runs end to end against a live server, and its answers are right.

The notebook is executed with nbclient (a real Jupyter kernel) with ``EMINING_URL`` pointing at
the live server over the samples. Each cell must run without error, the map must be drawn, and
each question's deposits must be those the database selects by itself with the same parameters
(PostGIS geography distance for the corridor, so the buffer-in-UTM approach is checked too).
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import psycopg
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "geologist.ipynb"


@pytest.fixture(scope="module")
def executed(live_server, no_proxy_for_loopback) -> nbformat.NotebookNode:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EMINING_URL", live_server.url)
        NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    return notebook


def summary(notebook: nbformat.NotebookNode) -> dict:
    (cell,) = [c for c in notebook.cells if "summary" in c.metadata.get("tags", [])]
    text = "".join(o["text"] for o in cell.outputs if o["output_type"] == "stream")
    return json.loads(text.strip().splitlines()[-1])


def ids(database_url: str, query: str, params: tuple) -> list[int]:
    with psycopg.connect(database_url) as conn:
        return [row[0] for row in conn.execute(query, params)]


def test_every_cell_runs_without_error(executed):
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code)
    errors = [o for c in code for o in c.outputs if o["output_type"] == "error"]
    assert errors == []


def test_the_map_is_drawn(executed):
    images = [o for c in executed.cells for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]  # fmt: skip
    assert len(images) == 1


def test_the_committed_notebook_has_no_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code")


def test_deposits_in_the_bbox_are_the_databases(executed, samples_url):
    answer = summary(executed)["bbox"]
    expected = ids(
        samples_url,
        "SELECT id FROM deposits WHERE ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326)) "
        "ORDER BY id",
        tuple(answer["bbox"]),
    )
    assert expected and answer["ids"] == expected


def test_deposits_in_the_province_are_the_databases(executed, samples_url):
    answer = summary(executed)["province"]
    expected = ids(
        samples_url,
        "SELECT d.id FROM deposits d JOIN provinces p ON ST_Within(d.geom, p.geom) "
        "WHERE p.name = %s ORDER BY d.id",
        (answer["name"],),
    )
    assert expected and answer["ids"] == expected


def test_deposits_near_the_corridor_are_the_databases(executed, samples_url):
    answer = summary(executed)["corridor"]
    expected = ids(
        samples_url,
        "SELECT d.id FROM deposits d JOIN corridors c "
        "ON ST_DWithin(d.geom::geography, c.geom::geography, %s) WHERE c.ref = %s ORDER BY d.id",
        (answer["metres"], answer["ref"]),
    )
    everything = ids(samples_url, "SELECT id FROM deposits", ())
    assert expected and len(expected) < len(everything)
    assert answer["ids"] == expected


def test_deposits_by_commodity_and_status_are_the_databases(executed, samples_url):
    answer = summary(executed)["commodity"]
    expected = ids(
        samples_url,
        "SELECT id FROM deposits WHERE %s = ANY(commodities) AND status = %s ORDER BY id",
        (answer["commodity"], answer["status"]),
    )
    assert expected and answer["ids"] == expected
