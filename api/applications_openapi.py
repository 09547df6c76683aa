"""The licence application paths of the OpenAPI definition (routes: ``api.applications``).

Why described by hand, beside the routes: like the rest of ``/api`` (``api.ogc.openapi``), the
document is written for clients, so it says who may call each path and what each refusal means;
the schemathesis tests then hold the routes to it, with an applicant's and an authority's
credentials (``tests/test_applications.py``), so the bodies below are exactly what the server
takes: an applicant's fields with their JSON types and vocabularies come from the concessions
table, as ``geo.licensing`` checks them.
"""

from __future__ import annotations

from sqlalchemy import ARRAY, BigInteger
from sqlalchemy.sql.schema import Column

from api.ogc.oas import AUTH, write_responses
from geo.licensing import APPLICANT_FIELDS, REASON_MAX, TABLE
from geo.validate import required
from geo.vocab import LICENCE_STATUS

EXAMPLE_BLOCK = [[[66.0, 26.0], [66.05, 26.0], [66.05, 26.05], [66.0, 26.05], [66.0, 26.0]]]
"""A 0.05° square of Balochistan far from any sample licence: the example a client can send."""


def field_schema(column: Column) -> dict:
    """An applicant's field as JSON Schema: text, a list, one of the vocabulary; nullable when
    the column is."""
    vocab = column.info.get("vocab")
    if isinstance(column.type, ARRAY):
        integers = isinstance(column.type.item_type, BigInteger)
        items: dict = {"type": "integer" if integers else "string"}
        schema: dict = {"type": "array", "items": items}
        if vocab:
            items["enum"] = list(vocab)
            schema["minItems"] = 1
    else:
        schema = {"type": "string", **({"enum": list(vocab)} if vocab else {})}
    return {**schema, "nullable": True} if column.nullable else schema


APPLICATION = {
    "type": "object",
    "required": ["type", "geometry", "properties"],
    "properties": {
        "type": {"type": "string", "enum": ["Feature"]},
        "geometry": {
            "type": "object",
            "required": ["type", "coordinates"],
            "properties": {
                "type": {"type": "string", "enum": ["Polygon", "MultiPolygon"]},
                "coordinates": {"type": "array", "items": {"type": "array"}},
            },
        },
        "properties": {
            "type": "object",
            "additionalProperties": False,
            "required": [n for n in APPLICANT_FIELDS if required(TABLE.columns[n])],
            "properties": {n: field_schema(TABLE.columns[n]) for n in APPLICANT_FIELDS},
        },
    },
}
BLOCK = {
    "required": True,
    "description": "One GeoJSON Feature: the block (Polygon or MultiPolygon, lon/lat unless "
    "Content-Crs says otherwise) and the applicant's fields; the licence number, status, "
    "dates, stamp and source are the platform's, and sending one is a 400 naming it.",
    "content": {
        media: {
            "schema": APPLICATION,
            "example": {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": EXAMPLE_BLOCK},
                "properties": {"licence_type": "exploration", "commodities": ["copper"]},
            },
        }
        for media in ("application/geo+json", "application/json")
    },
}
REASON = {
    "type": "string",
    "minLength": 1,
    "maxLength": REASON_MAX,
    "pattern": "\\S",
    "description": "Why, in words: kept with the step, shown to whoever sees the licence.",
}
WITHDRAWAL = {
    "required": True,
    "content": {"application/json": {
        "schema": {"type": "object", "required": ["reason"], "additionalProperties": False,
                   "properties": {"reason": REASON}},
        "example": {"reason": "the survey found nothing worth a licence"}}},
}  # fmt: skip
DECISION_SCHEMA = {
    "type": "object",
    "required": ["status", "reason"],
    "additionalProperties": False,
    "properties": {
        "status": {"type": "string", "enum": list(LICENCE_STATUS)},
        "licence_no": {"type": "string", "pattern": "\\S"},
        "granted_on": {"type": "string", "format": "date"},
        "expires_on": {"type": "string", "format": "date"},
        "reason": REASON,
    },
}
DECISION = {
    "required": True,
    "content": {"application/json": {
        "schema": DECISION_SCHEMA,
        "example": {"status": "refused", "reason": "the block lies in a protected forest"}}},
}  # fmt: skip
NULLABLE_DATE = {"type": "string", "format": "date", "nullable": True}
RECORD = {
    "type": "object",
    "required": ["id", "licence_no", "status"],
    "properties": {
        "id": {"type": "integer"},
        "licence_no": {"type": "string"},
        "status": {"type": "string", "enum": list(LICENCE_STATUS)},
        "applied_at": {"type": "string", "format": "date-time", "nullable": True},
        "applied_on": NULLABLE_DATE,
        "granted_on": NULLABLE_DATE,
        "expires_on": NULLABLE_DATE,
        "area_km2": {"type": "number"},
        "reason": {"type": "string", "description": "Why (decisions and withdrawals)."},
        "decided_at": {"type": "string", "format": "date-time"},
        "description": {"type": "string"},
        "links": {"type": "array", "items": {"type": "object"}},
    },
}
FREE = {
    "type": "object",
    "required": ["free", "area_km2"],
    "properties": {
        "free": {"type": "boolean"},
        "description": {"type": "string"},
        "area_km2": {"type": "number"},
    },
}
STEP = {
    "type": "object",
    "required": ["from_status", "to_status", "reason", "decided_at"],
    "properties": {
        "from_status": {"type": "string", "enum": list(LICENCE_STATUS)},
        "to_status": {"type": "string", "enum": list(LICENCE_STATUS)},
        "reason": {"type": "string"},
        "decided_at": {"type": "string", "format": "date-time"},
        "by_organisation": {"type": "string", "nullable": True},
        "by_role": {"type": "string", "nullable": True},
    },
}
STEPS = {
    "type": "object",
    "required": ["decisions"],
    "properties": {"decisions": {"type": "array", "items": STEP},
                   "links": {"type": "array", "items": {"type": "object"}}},
}  # fmt: skip
FID = {"name": "fid", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1},
       "description": "The concession's feature id."}  # fmt: skip
CONFLICT = (
    "The block overlaps licences or pending applications: the body lists those the "
    "caller may see; of the others, one entry saying only that there are some"
)


def answer(status: str, description: str, schema: dict) -> dict:
    return {status: {"description": description,
                     "content": {"application/json": {"schema": schema}}}}  # fmt: skip


def openapi_paths() -> dict:
    check = write_responses("400", "401", "413", "415", "429")
    check["409"] = {**check["400"], "description": CONFLICT}
    apply = write_responses("400", "401", "403", "413", "415", "429")
    apply["409"] = {**check["409"]}
    decide = write_responses("400", "401", "403", "404", "413", "415")
    decide["409"] = {**check["400"], "description": "Not a step this licence may take now"}
    withdraw = write_responses("400", "401", "403", "404", "413", "415")
    withdraw["409"] = {**check["400"], "description": "Not pending: decided or withdrawn already"}
    tag = {"tags": ["Licence applications"], "security": AUTH}
    return {
        "/applications/check": {"post": {
            "summary": "Is this block free? (any caller with credentials)",
            "requestBody": BLOCK, **tag,
            "responses": {**answer("200", "The block is free; its area", FREE), **check},
        }},
        "/applications": {"post": {
            "summary": "Apply for a block (an editor, approver or admin of an enterprise or "
            "public body); stamped in order of arrival",
            "requestBody": BLOCK, **tag,
            "responses": {**answer("201", "Applied (Location, ETag)", RECORD), **apply},
        }},
        "/applications/{fid}/withdraw": {"post": {
            "summary": "Withdraw one's own pending application (an editor, approver or admin "
            "of the applicant), saying why: it becomes withdrawn",
            "parameters": [FID], "requestBody": WITHDRAWAL, **tag,
            "responses": {**answer("200", "The application, withdrawn", RECORD), **withdraw},
        }},
        "/licences/{fid}/decisions": {"get": {
            "summary": "Every decided step of a licence, with its reason (whoever sees it)",
            "parameters": [FID], "tags": ["Licence applications"],
            "responses": {**answer("200", "The steps, oldest first", STEPS),
                          **write_responses("404")},
        }},
        "/licences/{fid}/status": {"post": {
            "summary": "An authority's decision on a licence (an approver or admin), with its "
            "reason",
            "parameters": [FID],
            "requestBody": DECISION, **tag,
            "responses": {**answer("200", "The record after the decision", RECORD), **decide},
        }},
    }  # fmt: skip
