"""The FastAPI app: health of the store, and OGC-style errors for everything else."""

from __future__ import annotations

import psycopg
from fastapi.testclient import TestClient

from api.app import Settings, create_app


def test_healthz_reports_the_database_and_rows_per_layer(samples_url):
    with TestClient(create_app(Settings(samples_url))) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"]["connected"] is True
    assert body["database"]["postgis"].startswith("3.")
    with psycopg.connect(samples_url) as conn:
        counts = conn.execute("SELECT (SELECT count(*) FROM deposits), (SELECT count(*) FROM "
                              "corridors)").fetchone()  # fmt: skip
    assert (body["layers"]["deposits"], body["layers"]["corridors"]) == counts


def test_healthz_says_unavailable_when_the_database_is_down(tmp_path):
    url = f"postgresql://nobody@/nothing?host={tmp_path}&port=1"
    with TestClient(create_app(Settings(url, pool_min=0))) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"]["connected"] is False


def test_unknown_paths_get_ogc_exception_json(samples_url):
    with TestClient(create_app(Settings(samples_url))) as client:
        response = client.get("/no/such/thing")
    assert response.status_code == 404
    assert set(response.json()) == {"code", "description"}
