"""The network against published distances (data/samples/network/validation.csv).

Every pair is routed on the samples' network and must agree within 10% in km (and 20% in hours
where a published travel time exists); the table of published against computed, with km by
mode, is printed (``pytest -s`` or the captured output of a failure) and is docs/network.md's.
Town pairs are routed on the pair's own mode (a published rail distance on the railways), at
the town's nearest point of that mode's lines; site pairs (``facilities:NAME``) through
``/analysis/route`` as a user would ask.
"""

from __future__ import annotations

import csv

import psycopg
import pytest
import requests

from tests.conftest import REPO

NETWORK = REPO / "data" / "samples" / "network"


def table(name: str) -> list[dict[str, str]]:
    with (NETWORK / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


TOWNS = {r["name"]: (float(r["lon"]), float(r["lat"])) for r in table("towns.csv")}
ROWS = table("validation.csv")

# One route between two points on the lines of one mode: each step's km is its share of the
# edge's km (pgRouting's per-step cost is the share of the edge's hours).
TOWN_ROUTE = """
WITH ends AS (
    SELECT n, e.id AS edge_id, least(greatest(ST_LineLocatePoint(e.geom, p.geom), 1e-9),
           1 - 1e-9) AS fraction
    FROM (VALUES (1, ST_SetSRID(ST_MakePoint(%(ax)s, %(ay)s), 4326)),
                 (2, ST_SetSRID(ST_MakePoint(%(bx)s, %(by)s), 4326))) p(n, geom)
    CROSS JOIN LATERAL (SELECT id, geom FROM network_edges WHERE mode = %(mode)s
                        ORDER BY geom <-> p.geom LIMIT 1) e
)
SELECT sum(CASE WHEN e.hours > 0 THEN r.cost * e.km / e.hours ELSE 0 END), sum(r.cost),
       count(*) FILTER (WHERE e.mode = 'transfer')
FROM pgr_withPoints(
    format('SELECT id, source, target, hours AS cost FROM network_edges WHERE mode = %%L',
           %(mode)s),
    (SELECT format('SELECT * FROM (VALUES %%s) v(pid, edge_id, fraction)',
                   string_agg(format('(%%s, %%s, %%s::float8)', n, edge_id, fraction), ', '))
     FROM ends),
    -1, -2, directed => false) r
JOIN network_edges e ON e.id = r.edge"""


def computed(samples_url: str, server, row: dict[str, str]) -> dict[str, float]:
    if row["mode"] == "any":
        ids = {}
        with psycopg.connect(samples_url) as conn:
            for end in ("from", "to"):
                layer, name = row[end].split(":", 1)
                (ids[end],) = conn.execute(
                    f"SELECT id FROM {layer} WHERE name = %s", (name,)
                ).fetchone()
        answer = requests.get(
            f"{server.url}/analysis/route",
            params={"from": f"{row['from'].split(':')[0]}:{ids['from']}",
                    "to": f"{row['to'].split(':')[0]}:{ids['to']}"},
            timeout=60,
        )  # fmt: skip
        assert answer.status_code == 200, answer.text
        p = answer.json()["properties"]
        network_leg = p["legs"][1]
        modes = network_leg["km_by_mode"]
        road = modes["road"] + p["legs"][0]["km"] + p["legs"][2]["km"]
        return {"km": p["km"], "hours": p["hours"], "road": road, "rail": modes["rail"],
                "transfers": modes["transfers"]}  # fmt: skip
    (ax, ay), (bx, by) = TOWNS[row["from"]], TOWNS[row["to"]]
    with psycopg.connect(samples_url) as conn:
        km, hours, transfers = conn.execute(
            TOWN_ROUTE, {"ax": ax, "ay": ay, "bx": bx, "by": by, "mode": row["mode"]}
        ).fetchone()
    assert km is not None, f"{row['from']}–{row['to']}: no {row['mode']} route"
    return {"km": km, "hours": hours, "road": km if row["mode"] == "road" else 0.0,
            "rail": km if row["mode"] == "rail" else 0.0, "transfers": transfers}  # fmt: skip


def test_the_table_has_25_published_distances_with_sources():
    assert len(ROWS) >= 25
    assert {r["mode"] for r in ROWS} >= {"road", "rail"}
    for row in ROWS:
        assert row["source_url"].startswith("http") and row["as_of"], row
        assert float(row["published_km"]) > 0


def test_every_published_distance_is_met_within_10_percent(samples_url, live_server):
    lines = [
        "| from | to | mode | published km | network km | off | road km | rail km | "
        "transfers | hours | published hours |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    failures = []
    for row in ROWS:
        got = computed(samples_url, live_server, row)
        published = float(row["published_km"])
        off = got["km"] / published - 1
        lines.append(
            f"| {row['from']} | {row['to']} | {row['mode']} | {published:,.0f} | "
            f"{got['km']:,.0f} | {off:+.1%} | {got['road']:,.0f} | {got['rail']:,.0f} | "
            f"{got['transfers']} | {got['hours']:.1f} | {row['published_hours'] or '–'} |"
        )
        if abs(off) > 0.10:
            failures.append((row["from"], row["to"], row["mode"], published, got["km"]))
        if row["published_hours"]:
            hours_off = got["hours"] / float(row["published_hours"]) - 1
            if abs(hours_off) > 0.20:
                failures.append((row["from"], row["to"], "hours", row["published_hours"],
                                 got["hours"]))  # fmt: skip
        # km by mode add up, and a transfer never comes without a leg on each mode.
        assert got["road"] + got["rail"] == pytest.approx(got["km"], rel=1e-6), row
        if got["transfers"]:
            assert got["road"] > 0 and got["rail"] > 0, row
    print("\n" + "\n".join(lines))
    assert not failures, failures
