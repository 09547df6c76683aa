"""The licence application paths of the OpenAPI definition (routes: ``api.applications``).

Why described by hand, beside the routes: like the rest of ``/api`` (``api.ogc.openapi``), the
document is written for clients, so it says who may call each path and what each refusal means;
the schemathesis tests then hold the routes to it.
"""

from __future__ import annotations

from api.ogc.oas import AUTH, write_responses
from geo.licensing import REASON_MAX
from geo.vocab import LICENCE_STATUS

BLOCK = {
    "required": True,
    "description": "One GeoJSON Feature: the block's polygon and the concession's fields "
    "(licence number, status and source are the platform's).",
    "content": {
        media: {"schema": {"type": "object", "required": ["type", "geometry"]}}
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
    "content": {"application/json": {"schema": {
        "type": "object", "required": ["reason"], "additionalProperties": False,
        "properties": {"reason": REASON}}}},
}  # fmt: skip
DECISION = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["status", "reason"],
                "additionalProperties": False,
                "properties": {
                    "status": {"type": "string", "enum": list(LICENCE_STATUS)},
                    "licence_no": {"type": "string", "minLength": 1},
                    "granted_on": {"type": "string", "format": "date"},
                    "expires_on": {"type": "string", "format": "date"},
                    "reason": REASON,
                },
            }
        }
    },
}
RECORD = {
    "type": "object",
    "required": ["id", "licence_no", "status"],
    "properties": {
        "id": {"type": "integer"},
        "licence_no": {"type": "string"},
        "status": {"type": "string", "enum": list(LICENCE_STATUS)},
        "reason": {"type": "string"},
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
STEPS = {
    "type": "object",
    "required": ["decisions"],
    "properties": {"decisions": {"type": "array", "items": {
        "type": "object", "required": ["from_status", "to_status", "reason", "decided_at"]}}},
}  # fmt: skip
FID = {"name": "fid", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1},
       "description": "The concession's feature id."}  # fmt: skip
CONFLICT = "The block overlaps licences or pending applications: the body lists them"


def answer(status: str, description: str, schema: dict) -> dict:
    return {status: {"description": description,
                     "content": {"application/json": {"schema": schema}}}}  # fmt: skip


def openapi_paths() -> dict:
    check = write_responses("400", "401", "413", "415")
    check["409"] = {**check["400"], "description": CONFLICT}
    apply = write_responses("400", "401", "403", "413", "415")
    apply["409"] = {**check["409"]}
    decide = write_responses("400", "401", "403", "404", "413", "415")
    withdraw = write_responses("400", "401", "403", "404", "413", "415")
    withdraw["409"] = {**check["400"], "description": "Not pending: decided already"}
    decide["409"] = {**check["400"], "description": "Not a step this licence may take now"}
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
            "of the applicant): it becomes relinquished",
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
            "summary": "An authority's decision on a licence (an approver or admin)",
            "parameters": [FID],
            "requestBody": DECISION, **tag,
            "responses": {**answer("200", "The record after the decision", RECORD), **decide},
        }},
    }  # fmt: skip
