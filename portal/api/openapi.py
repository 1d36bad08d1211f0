"""GET /api/v1/openapi.json: the document made from the models that validate the requests."""

from flask import jsonify

from portal.api.blueprint import bp
from portal.api.schema import document


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(document())
