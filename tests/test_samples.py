"""The sample data: real public facts with a source per row, illustrative blocks marked as such."""

from __future__ import annotations

import csv
import filecmp
import hashlib
import re
import subprocess
import sys

import psycopg
import pytest

from tests.conftest import REPO

SOURCE = REPO / "data" / "samples" / "source"
CATALOGUE = REPO / "data" / "samples" / "catalogue"


def lines(path) -> int:
    """Rows of a CSV file (its lines less the header)."""
    with open(path, encoding="utf-8", newline="") as fh:
        return sum(1 for _ in csv.DictReader(fh))


def test_samples_hold_the_published_facts(samples_url):
    network = (REPO / "data" / "samples" / "network" / "corridors.csv").read_text().splitlines()
    network_corridors = len(network) - 1  # one per row of the network facts, after the header
    with psycopg.connect(samples_url) as conn:
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("deposits", "sezs", "facilities", "corridors", "deposit_resources")
        }
        assert counts == {
            "deposits": lines(CATALOGUE / "deposits.csv"),
            "sezs": lines(SOURCE / "facts" / "sezs.csv"),
            "facilities": lines(CATALOGUE / "facilities.csv"),
            "corridors": network_corridors,
            "deposit_resources": lines(CATALOGUE / "resources.csv"),
        }
        kinds = {k for (k,) in conn.execute("SELECT DISTINCT kind FROM facilities")}
        ports = {r["name"] for r in csv.DictReader((SOURCE / "facts" / "ports.csv").open())}
        assert "port" in kinds and len(kinds) > 1  # ports and the processing sites
        assert {n for (n,) in conn.execute("SELECT name FROM facilities WHERE kind = 'port'")} == (
            ports
        )  # the ports keep their names (the network's facts name them)
        reko = conn.execute(
            "SELECT commodities, status, coord_quality, ST_Y(geom), ST_X(geom), notes "
            "FROM deposits WHERE name = 'Reko Diq'"
        ).fetchone()
        assert reko[:5] == (["copper", "gold"], "development", "sourced", 29.13, 62.061)
        assert "28.9725" in reko[5]  # the disagreeing source is kept, not dropped


@pytest.mark.parametrize(
    "table",
    ["deposits", "sezs", "facilities", "corridors", "concessions", "provinces", "districts"],
)
def test_every_row_has_a_source(samples_url, table):
    with psycopg.connect(samples_url) as conn:
        missing = conn.execute(
            f"SELECT count(*) FROM {table} WHERE coalesce(trim(source), '') = ''"
        ).fetchone()[0]
    assert missing == 0


def test_concession_blocks_are_marked_illustrative(samples_url):
    with psycopg.connect(samples_url) as conn:
        rows = conn.execute("SELECT illustrative, notes, source FROM concessions").fetchall()
    assert rows and all(r[0] and "ILLUSTRATIVE" in r[1] and "illustrative" in r[2] for r in rows)


def test_sample_points_lie_in_their_stated_province(samples_url):
    with psycopg.connect(samples_url) as conn:
        outside = conn.execute(
            "SELECT d.name FROM deposits d JOIN provinces p ON p.name = d.province "
            "WHERE NOT ST_Intersects(p.geom, d.geom) AND d.coord_quality = 'sourced'"
        ).fetchall()
    assert outside == []


def test_copied_boundaries_match_their_published_checksums():
    notes = (SOURCE / "boundaries" / "SOURCES.md").read_text()
    sums = dict(re.findall(r"`(pak_adm\w+\.json|pak_adm\d\.geojson)`[^`]*`([0-9a-f]{64})`", notes))
    assert set(sums) == {
        "pak_adm1.geojson",
        "pak_adm2.geojson",
        "pak_adm1_metaData.json",
        "pak_adm2_metaData.json",
    }
    for name, digest in sums.items():
        assert hashlib.sha256((SOURCE / "boundaries" / name).read_bytes()).hexdigest() == digest


def test_build_script_reproduces_the_committed_samples(tmp_path):
    out = tmp_path / "samples"
    subprocess.run(
        [sys.executable, str(REPO / "data/samples/build.py"), str(SOURCE), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    for name in (
        "deposits",
        "sezs",
        "facilities",
        "corridors",
        "concessions",
        "provinces",
        "districts",
    ):
        assert filecmp.cmp(
            out / f"{name}.geojson", REPO / f"data/samples/{name}.geojson", shallow=False
        ), name
    towns = REPO / "data/samples/network/towns.csv"
    assert filecmp.cmp(out / "network" / "towns.csv", towns, shallow=False)
    assert filecmp.cmp(
        out / "deposit_resources.csv", REPO / "data/samples/deposit_resources.csv", shallow=False
    )
