"""The OpenAPI 3.1 document, assembled from the `PATHS` of every API module."""
from flask import jsonify

from portal.api.blueprint import bp

ERROR_RESPONSE = {"description": "Error", "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/Error"}}}}

COMPONENTS = {
    "securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer"},
        "session": {"type": "apiKey", "in": "cookie", "name": "session"},
    },
    "schemas": {
        "Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                               "field": {"type": "string"}},
            }},
        },
    },
    "responses": {name: ERROR_RESPONSE for name in
                  ("BadRequest", "Unauthorized", "Forbidden", "NotFound", "Conflict", "TooManyRequests")},
}

_document = {}


def register():
    from portal.api import endpoint_modules

    paths = {}
    schemas = dict(COMPONENTS["schemas"])
    for module in endpoint_modules():
        for path, operations in getattr(module, "PATHS", {}).items():
            paths.setdefault(path, {}).update(operations)
        schemas.update(getattr(module, "SCHEMAS", {}))
    _document.clear()
    _document.update({
        "openapi": "3.1.0",
        "info": {"title": "Growth Room Portal API", "version": "1.0.0",
                 "description": "Errors always look like {\"error\": {\"code\", \"message\"}}. "
                                "Times are ISO 8601 with an offset."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": dict(sorted(paths.items())),
        "components": {**COMPONENTS, "schemas": schemas},
    })


def errors(*statuses):
    """Standard error responses for an operation, by status code."""
    names = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
             409: "Conflict", 429: "TooManyRequests"}
    return {str(s): {"$ref": f"#/components/responses/{names[s]}"} for s in statuses}


def json_body(schema_ref_or_schema):
    schema = ({"$ref": f"#/components/schemas/{schema_ref_or_schema}"}
              if isinstance(schema_ref_or_schema, str) else schema_ref_or_schema)
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def json_response(description, schema_ref_or_schema):
    schema = ({"$ref": f"#/components/schemas/{schema_ref_or_schema}"}
              if isinstance(schema_ref_or_schema, str) else schema_ref_or_schema)
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def list_of(ref):
    return {"type": "object", "required": ["items"],
            "properties": {"items": {"type": "array", "items": {"$ref": f"#/components/schemas/{ref}"}}}}


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(_document)
