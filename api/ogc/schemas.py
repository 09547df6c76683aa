"""JSON Schema pieces for the layers' field types, shared by queryables, schema and OpenAPI."""

from __future__ import annotations

GEOMETRY_SCHEMA = {
    "POINT": "https://geojson.org/schema/Point.json",
    "MULTIPOLYGON": "https://geojson.org/schema/MultiPolygon.json",
    "LINESTRING": "https://geojson.org/schema/LineString.json",
    "MULTILINESTRING": "https://geojson.org/schema/MultiLineString.json",
    "GEOMETRY": "https://geojson.org/schema/Geometry.json",
}
JSON_SCHEMA_TYPES = {
    "string": {"type": "string"},
    "number": {"type": "number"},
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "string[]": {"type": "array", "items": {"type": "string"}},
    "object[]": {"type": "array", "items": {"type": "object"}},
}
QUERY_PARAMETER_TYPES = {**JSON_SCHEMA_TYPES, "string[]": {"type": "string"}}
"""In a query string an array property is matched by one item (``commodities=coal``)."""
NOT_QUERYABLE = ("object[]",)
"""Types published but not filtered on: lists of records (a project's partners, ...), JSON."""
