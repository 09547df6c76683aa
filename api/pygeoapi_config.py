"""A pygeoapi configuration that publishes the store: one PostgreSQL collection per catalogue layer.

Why: agencies that already run pygeoapi can publish our data with their own server, and the
differential test and the OGC bench run pygeoapi over the very tables our API reads. Everything a
collection says (title, description, keywords, id column, table, geometry column, published
properties, time column) comes from ``layers.catalogue``, so the two servers cannot drift apart.

The configuration holds the database password when the URL has one, so files are written 0600.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from psycopg.conninfo import conninfo_to_dict

from api.ogc.params import LIMIT_DEFAULT, LIMIT_MAX
from geo import crs
from geo.query import GEOMETRY
from geo.validate import ALLOWED
from layers.catalogue import CATALOGUE, SERVICE_DESCRIPTION, Layer

BIND_PORT = 5000  # pygeoapi's own default
DEFAULT_URL = f"http://127.0.0.1:{BIND_PORT}"
TITLE = "E-Mining Platform"
# libpq parameters pygeoapi's PostgreSQL provider takes as named fields of ``data``; any other
# (sslmode, connect_timeout, ...) goes to ``options``, which it hands on to psycopg2.connect.
NAMED = ("host", "port", "dbname", "user", "password")


def connection(database_url: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The provider's ``data`` and ``options`` for a libpq URL or keyword string.

    A Unix-socket URL (``?host=/path``) works too: psycopg2 takes a folder as ``host``.
    """
    params = conninfo_to_dict(database_url)
    named = {key: params.pop(key, None) for key in NAMED}
    data: dict[str, Any] = {key: value for key, value in named.items() if value}
    if "port" in data:
        data["port"] = int(data["port"])
    data["search_path"] = ["public"]
    return data, {key: str(value) for key, value in params.items()}


def resource(layer: Layer, data: dict[str, Any], options: dict[str, str]) -> dict[str, Any]:
    """One collection: the catalogue's words, the store's table, our CRS list.

    The spatial extent is the box the loader accepts (``geo.validate.ALLOWED``): it holds every
    feature now and after any later load, where an extent read from the data would go stale.
    """
    source = layer.source
    provider: dict[str, Any] = {
        "type": "feature",
        "name": "PostgreSQL",
        "data": data,
        "id_field": source.id_column,
        "table": source.table,
        "geom_field": GEOMETRY,
        # Only the catalogue's published columns, as our API serves them.
        "properties": list(source.properties),
        # No storage_crs: pygeoapi's default is CRS84, ours too, and naming it breaks its filters
        # (geometry literals go to PostGIS as "SRID=CRS84;POINT(...)", a 500 in pygeoapi 0.21).
        "crs": [c.uri for c in crs.SUPPORTED],
    }
    if options:
        provider["options"] = options
    if source.temporal:
        provider["time_field"] = source.temporal[0]  # pygeoapi takes one time column
    if "name" in source.properties:
        provider["title_field"] = "name"
    return {
        "type": "collection",
        "title": layer.title,
        "description": layer.description,
        "keywords": list(layer.keywords),
        "links": [],
        "extents": {"spatial": {"bbox": list(ALLOWED), "crs": crs.CRS84}},
        "providers": [provider],
    }


def build(
    database_url: str,
    server_url: str = DEFAULT_URL,
    layers: Iterable[Layer] = CATALOGUE,
    log_level: str = "WARNING",
) -> dict[str, Any]:
    """The whole configuration: server, metadata and one resource per layer.

    Limits are ours (default 10, at most 10,000 per page): pygeoapi's default ``max_items`` is
    10, so without them ``limit=100`` would quietly return 10 features.
    """
    data, options = connection(database_url)
    address = urlsplit(server_url)
    return {
        "server": {
            # For `pygeoapi serve` only: local, the public URL's port or pygeoapi's own (a public
            # host behind a proxy is no address to bind; uvicorn and gunicorn take their own).
            "bind": {"host": "127.0.0.1", "port": address.port or BIND_PORT},
            "url": server_url.rstrip("/"),
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "languages": ["en-US"],
            "limits": {"default_items": LIMIT_DEFAULT, "max_items": LIMIT_MAX},
            "map": {
                "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                "attribution": "&copy; OpenStreetMap contributors",
            },
        },
        "logging": {"level": log_level},
        "metadata": {
            "identification": {
                "title": TITLE,
                "description": SERVICE_DESCRIPTION,
                "keywords": ["Pakistan", "minerals", "mining", "geology"],
                "url": server_url,
                # pygeoapi's OpenAPI needs both; no separate terms page exists, the data's terms
                # are its sources, named on every feature and in each collection's description.
                "terms_of_service": server_url,
            },
            "license": {"name": "open data; each feature names its source", "url": server_url},
            "provider": {"name": TITLE},
            "contact": {"name": TITLE},
        },
        "resources": {layer.id: resource(layer, data, options) for layer in layers},
    }


def write(config: dict[str, Any], path: Path) -> None:
    """The configuration as YAML, readable by its owner only (it may hold a password).

    The connection is written once, as a YAML anchor the other collections refer to.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(dump(config))


def dump(config: dict[str, Any]) -> str:
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=100)


def write_openapi(config_path: Path, openapi_path: Path, pygeoapi: Path | str) -> None:
    """pygeoapi's OpenAPI document for a configuration (it refuses to start without one).

    ``pygeoapi`` is the command to use: the project's, or one from a venv of its own.
    """
    with openapi_path.open("w") as out:
        subprocess.run(
            [str(pygeoapi), "openapi", "generate", str(config_path)],
            stdout=out,
            check=True,
            env={**os.environ, "PYGEOAPI_CONFIG": str(config_path)},
        )
