"""``emining user list``: every user with their organisation, role and live keys, from geo/."""

from __future__ import annotations

import psycopg
from click.testing import CliRunner

from cli.main import main
from geo import access


def test_user_list_names_each_user_their_organisation_and_live_keys(empty_url, monkeypatch):
    with psycopg.connect(empty_url, autocommit=True) as conn:
        survey = access.ensure_organisation(conn, "Survey Office", "authority")
        miner = access.ensure_organisation(conn, "Quarry Works", "enterprise")
        access.add_user(conn, "Geo@Survey.example", survey, "approver")
        access.add_user(conn, "ops@quarry.example", miner, "editor")
        access.add_key(conn, "ops@quarry.example", "QGIS")
        access.add_key(conn, "ops@quarry.example", "script")
        conn.execute("UPDATE api_keys SET revoked_at = now() WHERE label = 'script'")
    monkeypatch.setenv("DATABASE_URL", empty_url)
    result = CliRunner().invoke(main, ["user", "list"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [  # by organisation name, then e-mail
        "ops@quarry.example\tQuarry Works (enterprise)\teditor\t1 key(s)",
        "geo@survey.example\tSurvey Office (authority)\tapprover\t0 key(s)",
    ]
