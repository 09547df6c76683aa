"""notebooks/investor.ipynb runs end to end against a live server, and its answers are right.

The notebook is executed with nbclient (a real Jupyter kernel) with ``EMINING_URL`` pointing at
the live server over the samples. Every cell must run; the ranking of the commodity's deposits by
network distance to a port must be the one PostGIS gives from the ``links`` table; the folium map
must hold every deposit of the commodity and load Leaflet from the server, not from the internet.
"""

from __future__ import annotations

import html
import json
import math
import re
from pathlib import Path

import httpx
import nbformat
import psycopg
import pytest

from tests.conftest import run_notebook

pytestmark = pytest.mark.slow  # make check leaves it out; make test (CI) runs it

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "investor.ipynb"

# The ranking, straight from the links table: one row per deposit of the commodity, the port and
# the SEZ it reaches soonest (reason rows have no hours), by port hours (unreachable last), then
# name.
RANKING = """
    SELECT d.id, d.name, p.to_name, p.hours, p.km, p.rail_km, s.to_name, s.hours, s.km
    FROM deposits d
    LEFT JOIN links p ON p.from_layer = 'deposits' AND p.from_id = d.id AND p.kind = 'port'
    LEFT JOIN links s ON s.from_layer = 'deposits' AND s.from_id = d.id AND s.kind = 'sez'
    WHERE %s = ANY(d.commodities)
    ORDER BY p.hours NULLS LAST, d.name"""


@pytest.fixture(scope="module")
def executed(live_server, no_proxy_for_loopback) -> nbformat.NotebookNode:
    return run_notebook(NOTEBOOK, live_server.url)


def tagged(notebook: nbformat.NotebookNode, tag: str) -> nbformat.NotebookNode:
    (cell,) = [c for c in notebook.cells if tag in c.metadata.get("tags", [])]
    return cell


def summary(notebook: nbformat.NotebookNode) -> dict:
    cell = tagged(notebook, "summary")
    text = "".join(o["text"] for o in cell.outputs if o["output_type"] == "stream")
    return json.loads(text.strip().splitlines()[-1])


def map_html(notebook: nbformat.NotebookNode) -> str:
    """The page folium drew: the map cell's HTML output holds it in an iframe's srcdoc."""
    cell = tagged(notebook, "map")
    (shown,) = [o["data"]["text/html"] for o in cell.outputs if "text/html" in o.get("data", {})]
    (srcdoc,) = re.findall(r'srcdoc="([^"]*)"', shown)
    return html.unescape(srcdoc)


def test_every_cell_runs_without_error(executed):
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code)
    errors = [o for c in code for o in c.outputs if o["output_type"] == "error"]
    assert errors == []


def test_the_committed_notebook_has_no_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code")


def test_the_ranking_is_the_databases(executed, samples_url):
    answer = summary(executed)
    with psycopg.connect(samples_url) as conn:
        expected = conn.execute(RANKING, (answer["commodity"],)).fetchall()
        (ports,) = conn.execute(
            "SELECT count(*) FROM links WHERE kind = 'port' AND km IS NOT NULL"
        ).fetchone()
    assert len(expected) >= 3, "pick a commodity with several deposits"
    assert ports > 0, "the samples route no deposit to a port: nothing is ranked"
    assert answer["deposits"] == sorted(row[0] for row in expected)
    ranking = answer["ranking"]
    assert [r["id"] for r in ranking] == [row[0] for row in expected]
    columns = ("port hours", "port km", "port rail km", "SEZ hours", "SEZ km")
    for got, (_, name, port, *port_values, sez, sez_hours, sez_km) in zip(
        ranking, expected, strict=True
    ):
        assert got["deposit"] == name
        assert got["nearest port"] == port
        assert got["nearest SEZ"] == sez
        for value, want in zip(
            (got[c] for c in columns), (*port_values, sez_hours, sez_km), strict=True
        ):
            if want is None:
                assert value is None
            else:
                assert math.isclose(value, want, rel_tol=1e-9)
    routed = [r["port hours"] for r in ranking if r["port hours"] is not None]
    assert routed == sorted(routed) and len(routed) >= 2


def test_the_map_holds_the_commoditys_deposits(executed, samples_url):
    page = map_html(executed)
    commodity = summary(executed)["commodity"]
    with psycopg.connect(samples_url) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM deposits WHERE %s = ANY(commodities)", (commodity,))]  # fmt: skip
        others = [r[0] for r in conn.execute(
            "SELECT name FROM deposits WHERE NOT %s = ANY(commodities)", (commodity,))]  # fmt: skip
    assert names and others
    for name in names:
        assert json.dumps(name) in page or f"<b>{name}</b>" in page, name
    for name in others:
        assert f"<b>{name}</b>" not in page, name
    assert "L.circleMarker" in page and "L.geoJson" in page and "L.control.layers" in page


def test_the_map_needs_no_cdn(executed, live_server):
    page = map_html(executed)
    assets = re.findall(r'<script src="([^"]+)"', page)
    assets += re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)
    assert assets, "no script found in the map page"
    assert all(url.startswith(f"{live_server.url}/static/") for url in assets), assets
    for url in assets:
        assert httpx.get(url, timeout=10).status_code == 200, url


def test_the_figures_and_plants_are_the_databases(executed, samples_url):
    answer = summary(executed)
    with psycopg.connect(samples_url) as conn:
        figures = [r[0] for r in conn.execute(
            "SELECT id FROM deposit_resources WHERE commodity = %s ORDER BY id",
            (answer["commodity"],))]  # fmt: skip
        plants = [r[0] for r in conn.execute(
            "SELECT id FROM facilities WHERE kind NOT IN ('port', 'dry_port', 'storage') "
            "ORDER BY id")]  # fmt: skip
    assert figures and answer["figures"] == figures
    assert plants and answer["plants"] == plants
