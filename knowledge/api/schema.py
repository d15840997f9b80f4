"""OpenAPI for the write API: the feed's record schemas as components, and request and response shapes built on them.

`feed_record_components` (a drf-spectacular postprocessing hook) publishes each record type of
`knowledge/ingestion/schema/feed.schema.json` as `Feed<Type>Record`; request bodies refer to them, so the
schema a client reads is the one the importer and the write API validate with.
"""

import copy

from drf_spectacular.utils import OpenApiExample, OpenApiRequest, OpenApiResponse, extend_schema

from knowledge.ingestion.formats import feed_schema

COMPONENTS = "#/components/schemas/"
ACTIONS = ["new", "changed", "unchanged"]  # a DELETE answers 204, without a body


def component_name(record_type: str) -> str:
    """FeedProductRecord, FeedCustomerGroupRecord, FeedQaRecord, ..."""
    return "Feed" + "".join(part.title() for part in record_type.split("_")) + "Record"


def record_ref(record_type: str) -> dict:
    return {"$ref": COMPONENTS + component_name(record_type)}


def _refs_to_components(node):
    """Point the feed schema's internal references (#/$defs/x) at the published components."""
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith("#/$defs/"):
            return {**node, "$ref": record_ref(ref.removeprefix("#/$defs/"))["$ref"]}
        return {name: _refs_to_components(value) for name, value in node.items()}
    if isinstance(node, list):
        return [_refs_to_components(item) for item in node]
    return node


ERROR_COMPONENTS = {
    "FieldErrors": {
        "type": "object",
        "description": "A rejected record: each field (or `non_field_errors`) with what is wrong with it.",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
    },
    "ErrorDetail": {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]},
}


def feed_record_components(result, generator, request, public):
    """Publish every feed record type's JSON Schema, `FeedRecord` (any of them) and the error shapes."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    definitions = feed_schema()["$defs"]
    for record_type, definition in definitions.items():
        schemas[component_name(record_type)] = _refs_to_components(copy.deepcopy(definition))
    schemas["FeedRecord"] = {
        "description": "One line of a JSON Lines feed (or one CSV row): the record type its `type` names.",
        "oneOf": [record_ref(record_type) for record_type in definitions],
    }
    schemas.update(copy.deepcopy(ERROR_COMPONENTS))
    return result


# Request and response shapes ---------------------------------------------------------------------------------


def partial_record(record_type: str) -> dict:
    """A PATCH body: any fields of the record type; those left out keep their stored value."""
    definition = feed_schema()["$defs"][record_type]
    return {
        "type": "object",
        "description": f"Any fields of a {component_name(record_type)}; the others keep their stored value.",
        "properties": copy.deepcopy(definition["properties"]),
        "additionalProperties": False,
    }


def write_result(record_type: str) -> dict:
    return {
        "type": "object",
        "properties": {
            "action": {"enum": ACTIONS, "description": "What the write did (unchanged: nothing to do)."},
            "changes": {"type": "array", "items": {"type": "string"}, "description": "The fields it changed."},
            "version": {
                "type": ["integer", "null"],
                "description": "The row's version (a policy's published version); null for prices and stock.",
            },
            "record": record_ref(record_type),
        },
        "required": ["action", "changes", "version", "record"],
    }


def _errors(*codes: int) -> dict:
    described = {
        400: OpenApiResponse(
            {"$ref": COMPONENTS + "FieldErrors"},
            "The record is invalid; nothing was written.",
            [OpenApiExample("invalid", value={"amount": ["-1 is less than the minimum of 0"]})],
        ),
        403: OpenApiResponse({"$ref": COMPONENTS + "ErrorDetail"}, "The key lacks `catalog:write`."),
        404: OpenApiResponse({"$ref": COMPONENTS + "ErrorDetail"}, "No row with the URL's key."),
        409: OpenApiResponse({"$ref": COMPONENTS + "ErrorDetail"}, "The key is taken, or other rows refer to it."),
        413: OpenApiResponse({"$ref": COMPONENTS + "ErrorDetail"}, "The body is over the endpoint's limit."),
    }
    return {code: described[code] for code in codes}


def _result(record_type: str, stored: dict, action: str, code: int, changes: list[str]) -> dict:
    version = None if record_type in ("price", "stock") else 1
    value = {"action": action, "changes": changes, "version": version, "record": {"type": record_type, **stored}}
    example = OpenApiExample(action, value=value)
    return {code: OpenApiResponse(write_result(record_type), f"The record as now stored ({action}).", [example])}


def _body(schema: dict, example: dict) -> dict:
    return {"application/json": OpenApiRequest(schema, examples=[OpenApiExample("record", value=example)])}


def _label(record_type: str) -> str:
    return {"qa": "Q&A", "sku": "SKU"}.get(record_type, record_type.replace("_", " "))


def create_schema(record_type: str, example: dict, *, tags: list[str], media: dict | None = None):
    """POST a new record; its key must be free."""
    return extend_schema(
        tags=tags,
        summary=f"Create a {_label(record_type)}",
        request=media or _body(record_ref(record_type), example),
        responses={**_result(record_type, example, "new", 201, []), **_errors(400, 403, 409, 413)},
    )


def put_schema(record_type: str, example: dict, *, tags: list[str], creates: bool = False, media: dict | None = None):
    """PUT the whole record: fields it leaves out take a new row's value (a price or stock level is created)."""
    results = _result(record_type, example, "changed", 200, [list(example)[-1]])
    if creates:
        results.update(_result(record_type, example, "new", 201, []))
    return extend_schema(
        tags=tags,
        summary=f"Replace a {_label(record_type)}" + (" (or create it)" if creates else ""),
        request=media or _body(record_ref(record_type), example),
        responses={**results, **_errors(400, 403, 404, 409, 413)},
    )


def patch_schema(record_type: str, example: dict, stored: dict, *, tags: list[str], media: dict | None = None):
    """PATCH some fields; the others keep their stored value."""
    results = _result(record_type, {**stored, **example}, "changed", 200, list(example))
    return extend_schema(
        tags=tags,
        summary=f"Change a {_label(record_type)}",
        request=media or _body(partial_record(record_type), example),
        responses={**results, **_errors(400, 403, 404, 409, 413)},
    )


def delete_schema(record_type: str, *, tags: list[str], note: str = ""):
    return extend_schema(
        tags=tags,
        summary=f"Delete a {_label(record_type)}",
        description=note,
        request=None,
        responses={204: OpenApiResponse(description="Deleted."), **_errors(403, 404, 409)},
    )
