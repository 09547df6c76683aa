"""notebooks/geologist.ipynb runs end to end against a live server, and its answers are right.

The notebook is executed with nbclient (a real Jupyter kernel) with ``EMINING_URL`` pointing at
the live server over the samples. Each cell must run without error, the map must be drawn, and
each question's deposits must be those the database selects by itself with the same parameters
(PostGIS geography distance for the corridor, so the buffer-in-UTM approach is checked too).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import nbformat
import psycopg
import pytest

from tests.conftest import run_notebook

pytestmark = pytest.mark.slow  # make check leaves it out; make test (CI) runs it

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "geologist.ipynb"


@pytest.fixture(scope="module")
def executed(live_server, no_proxy_for_loopback) -> nbformat.NotebookNode:
    return run_notebook(NOTEBOOK, live_server.url)


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


# Each question's deposits as PostGIS selects them, from the parameters the notebook reports.
DATABASE_ANSWERS: dict[str, tuple[str, Callable[[dict], tuple]]] = {
    "bbox": (
        "SELECT id FROM deposits WHERE ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))",
        lambda answer: tuple(answer["bbox"]),
    ),
    "province": (
        "SELECT d.id FROM deposits d JOIN provinces p ON ST_Within(d.geom, p.geom) "
        "WHERE p.name = %s",
        lambda answer: (answer["name"],),
    ),
    "corridor": (
        "SELECT d.id FROM deposits d JOIN corridors c "
        "ON ST_DWithin(d.geom::geography, c.geom::geography, %s) WHERE c.ref = %s",
        lambda answer: (answer["metres"], answer["ref"]),
    ),
    "commodity": (
        "SELECT id FROM deposits WHERE %s = ANY(commodities) AND status = %s",
        lambda answer: (answer["commodity"], answer["status"]),
    ),
    "cu_au": (
        "SELECT id FROM deposits WHERE commodities && %s::text[] AND province = %s",
        lambda answer: (answer["commodities"], answer["province"]),
    ),
}


@pytest.mark.parametrize("question", DATABASE_ANSWERS)
def test_each_answer_is_the_databases(executed, samples_url, question):
    answer = summary(executed)[question]
    query, params = DATABASE_ANSWERS[question]
    expected = sorted(ids(samples_url, query, params(answer)))
    everything = ids(samples_url, "SELECT id FROM deposits", ())
    assert 0 < len(expected) < len(everything), f"{question}: not a selective question"
    assert answer["ids"] == expected


def test_the_resource_figures_are_every_figure_of_those_deposits(executed, samples_url):
    answer = summary(executed)["cu_au"]
    with psycopg.connect(samples_url) as conn:
        figures = conn.execute(
            "SELECT count(*) FROM deposit_resources WHERE deposit_id = ANY(%s)", (answer["ids"],)
        ).fetchone()[0]
    assert figures > 0
    assert answer["figures"] == figures
