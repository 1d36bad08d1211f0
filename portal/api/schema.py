"""One schema for the API: pydantic models validate each request and, through spectree,
make the OpenAPI document, so the two cannot drift apart.

A view declares what it takes and answers:

    @bp.post("/bookings")
    @api.validate(resp=answers(403, 404, HTTP_201=(Booking, "The new booking")))
    def create_booking(json: NewBooking): ...

Bodies are JSON objects checked strictly (a "5" is not a number, a 1 is not
true); query strings are read with the same rules as the document states them
(an empty `?date=` is an error, not an absent date). Every refusal is a 400 in
the portal's error shape naming the field, with a translated message. The
answers are documented by models too; with API_VALIDATE_RESPONSES (on in the
tests) every answer a view returns is checked against them.
"""

import json
import re
from datetime import date, datetime
from functools import cache
from typing import Annotated

from flask import current_app, request
from flask_babel import gettext as _
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, WithJsonSchema, create_model
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import PydanticCustomError
from spectree import Response, SecurityScheme, SpecTree
from spectree.models import SecuritySchemeData, Server
from spectree.plugins.base import Context
from spectree.plugins.flask_plugin import FlaskPlugin
from spectree.utils import get_multidict_items

from portal.api.blueprint import bp
from portal.core.db import DATABASE_INT_MAX
from portal.core.errors import Invalid
from portal.core.request_guards import unstorable_text
from portal.core.time import DAY_PATTERN, MONTH_PATTERN, TIME_PATTERN, parse_day, parse_iso, parse_month

# Deeper JSON than any request of this API needs is refused before it is looked at.
MAX_JSON_DEPTH = 32


# --- models ----------------------------------------------------------------------------------


class _WithoutNullDefaults(GenerateJsonSchema):
    """A property that may be left out has no "default": null in the document: null is not accepted."""

    def default_schema(self, schema):
        json_schema = super().default_schema(schema)
        if "default" in json_schema and json_schema["default"] is None:
            del json_schema["default"]
        return json_schema


class _Model(BaseModel):
    @classmethod
    def model_json_schema(cls, *args, **kwargs):
        return super().model_json_schema(*args, **{**kwargs, "schema_generator": _WithoutNullDefaults})


def documented(**schema):
    """What a service checks (with its own error code), stated in the document from the same constants."""
    return Field(json_schema_extra=schema)


def omittable(**kwargs):
    """A property a client may leave out (and then it is None), but not send as null."""
    return Field(None, **kwargs)


class Body(_Model):
    """A JSON request body: types are taken as they are, unknown properties ignored."""

    model_config = ConfigDict(strict=True)


class Query(_Model):
    """Query parameters: the strings of the URL, converted by the types below and nothing else."""

    model_config = ConfigDict(strict=True)


class Answer(_Model):
    """A JSON answer as the document promises it (extra properties may come and are fine)."""

    model_config = ConfigDict(strict=True)


@cache
def items_of(model):
    """The answer of a list endpoint: {"items": [...]}."""
    return create_model(f"{model.__name__}List", __base__=Answer, items=(list[model], ...))


# --- field types -----------------------------------------------------------------------------


def _refuse(kind):
    raise PydanticCustomError(kind, kind)


def _parsed(parse, kind, *, query=False):
    def convert(value):
        if query and isinstance(value, str):
            value = re.sub(r" (\d\d:\d\d)$", r"+\1", value)  # an unencoded "+" of an offset arrives as a space
        result = parse(value) if isinstance(value, str) else None
        return result if result is not None else _refuse(kind)

    return convert


def _whole_number(value):
    # Query strings hold digits; "1.0", " 1" or "1_000" are not whole numbers here.
    return int(value) if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,100}", value) else value


def _true_or_false(value):
    return {"true": True, "false": False}.get(value, value) if isinstance(value, str) else value


_TIME_SCHEMA = {
    "type": "string",
    "format": "date-time",
    "pattern": TIME_PATTERN,
    "description": "RFC 3339 with an offset of whole minutes, years 2000–2100",
}
_DAY_SCHEMA = {"type": "string", "format": "date", "pattern": DAY_PATTERN}
_MONTH_SCHEMA = {"type": "string", "pattern": MONTH_PATTERN, "description": "YYYY-MM"}

Id = Annotated[int, Field(ge=1, le=DATABASE_INT_MAX)]
Count = Annotated[int, Field(ge=0, le=DATABASE_INT_MAX)]
Timestamp = Annotated[datetime, BeforeValidator(_parsed(parse_iso, "invalid_time")), WithJsonSchema(_TIME_SCHEMA)]

QueryId = Annotated[int, Field(ge=1, le=DATABASE_INT_MAX), BeforeValidator(_whole_number)]
QueryBool = Annotated[bool, BeforeValidator(_true_or_false)]
QueryTimestamp = Annotated[
    datetime, BeforeValidator(_parsed(parse_iso, "invalid_time", query=True)), WithJsonSchema(_TIME_SCHEMA)
]
QueryDay = Annotated[date, BeforeValidator(_parsed(parse_day, "invalid_date")), WithJsonSchema(_DAY_SCHEMA)]
QueryMonth = Annotated[date, BeforeValidator(_parsed(parse_month, "invalid_month")), WithJsonSchema(_MONTH_SCHEMA)]


def query_int(minimum, maximum, **kwargs):
    return Annotated[int, Field(ge=minimum, le=maximum, **kwargs), BeforeValidator(_whole_number)]


# Times in answers: what portal.core.time.iso writes.
Time = Annotated[str, Field(pattern=TIME_PATTERN, json_schema_extra={"format": "date-time"})]


# --- errors ----------------------------------------------------------------------------------


class ErrorDetail(Answer):
    model_config = ConfigDict(extra="allow")

    code: str = Field(pattern="^[a-z][a-z0-9_]*$", description="stable, snake_case")
    message: str = Field(description="for people, in the caller's language")
    field: str = omittable(description="the input at fault, when there is one")


class Error(Answer):
    """Every error of the API, whatever its status."""

    error: ErrorDetail


ERROR_MEANINGS = {
    400: "Bad input; `error.field` names it",
    401: "No valid API token or session",
    403: "Not allowed for the caller",
    404: "Not found, or not visible to the caller",
    409: "A rule of the portal refused it; `error.code` names the rule",
    413: "The request body is too large",
    429: "Too many requests; `Retry-After` says when to try again",
}


def answers(*error_statuses, **success):
    """The documented answers of one operation: success models by status (HTTP_200=(Model, "what"))
    and the error statuses it can answer besides 400 (any input) and 401 (no or bad credentials)."""
    statuses = sorted({*error_statuses, 401})
    return Response(**success, **{f"HTTP_{status}": (Error, ERROR_MEANINGS[status]) for status in statuses})


def _messages(name, ctx):
    return {
        "missing": _("%(name)s is required.", name=name),
        "int_type": _("%(name)s must be a whole number.", name=name),
        "float_type": _("%(name)s must be a number.", name=name),
        "bool_type": _("%(name)s must be true or false.", name=name),
        "string_type": _("%(name)s must be text.", name=name),
        "list_type": _("%(name)s must be a list.", name=name),
        "model_type": _("%(name)s must be an object.", name=name),
        "greater_than_equal": _("%(name)s must be at least %(limit)s.", name=name, limit=ctx.get("ge")),
        "less_than_equal": _("%(name)s must be at most %(limit)s.", name=name, limit=ctx.get("le")),
        "string_too_short": _("%(name)s must not be empty.", name=name),
        "string_too_long": _(
            "%(name)s must have at most %(limit)s characters.", name=name, limit=ctx.get("max_length")
        ),
        "extra_forbidden": _("%(name)s is not a known property.", name=name),
        "literal_error": _("%(name)s must be one of: %(choices)s.", name=name, choices=ctx.get("expected")),
        "invalid_time": _(
            "%(name)s must be a date and time with an offset between the years 2000 and 2100, "
            "e.g. 2026-03-02T10:00:00+03:00.",
            name=name,
        ),
        "invalid_clock": _("%(name)s must be a time of day like 08:00.", name=name),
        "invalid_date": _("%(name)s must be a date between the years 2000 and 2100, e.g. 2026-03-02.", name=name),
        "invalid_month": _("%(name)s must be a month between the years 2000 and 2100, e.g. 2026-03.", name=name),
    }


_SAME_MESSAGE = {
    "int_parsing": "int_type",
    "int_from_float": "int_type",
    "float_parsing": "float_type",
    "bool_parsing": "bool_type",
    "dict_type": "model_type",
    "model_attributes_type": "model_type",
    "greater_than": "greater_than_equal",
    "less_than": "less_than_equal",
    "enum": "literal_error",
    "too_short": "list_type",
    "too_long": "list_type",
}


def refusal(error, *, query):
    """A pydantic ValidationError as the portal's 400: the first problem, its field named."""
    problem = error.errors(include_url=False)[0]
    name = ".".join(str(part) for part in problem["loc"])
    kind = _SAME_MESSAGE.get(problem["type"], problem["type"])
    if not name:
        return Invalid(_("Send a JSON object in the request body."), code="invalid_json")
    message = _messages(name, problem.get("ctx") or {}).get(kind) or _("%(name)s has a wrong value.", name=name)
    if kind == "missing":
        code = "missing_parameter" if query else "missing_field"
    elif kind.startswith("invalid_"):
        code = "invalid_time" if kind == "invalid_clock" else kind
    else:
        code = "invalid_parameter" if query else "invalid_field"
    return Invalid(message, code=code, field=name)


# --- reading requests ------------------------------------------------------------------------


def _check_json_tree(document):
    """Refuse text no database can store, and nesting deeper than any request needs."""
    pending = [(document, (), 1)]
    while pending:
        value, path, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise Invalid(_("The JSON body is nested too deeply."), code="invalid_json")
        if isinstance(value, str):
            if error := unstorable_text(".".join(map(str, path)) or "body", value, code="invalid_field"):
                raise error
        elif isinstance(value, dict):
            for key, item in value.items():
                if error := unstorable_text(key, "", code="invalid_field"):
                    raise error
                pending.append((item, (*path, key), depth + 1))
        elif isinstance(value, list):
            pending.extend((item, (*path, index), depth + 1) for index, item in enumerate(value))


def json_body(*, optional=False):
    """The request's JSON object; with `optional`, an empty body stands for {}."""
    raw = request.get_data(cache=True)
    if optional and not raw:
        return {}
    if not request.is_json:
        raise Invalid(
            _("Send a JSON object in the request body (Content-Type: application/json)."), code="invalid_json"
        )
    try:
        document = json.loads(raw)
    except ValueError:
        raise Invalid(_("The request body is not valid JSON."), code="invalid_json") from None
    except RecursionError:
        raise Invalid(_("The JSON body is nested too deeply."), code="invalid_json") from None
    _check_json_tree(document)
    return document


class PortalPlugin(FlaskPlugin):
    """spectree's Flask plugin with the portal's rules for reading requests and for the document."""

    def request_validation(self, request, query, json, form, headers, cookies):
        def validated(model, data, *, is_query):
            try:
                return model.model_validate(data)
            except ValidationError as error:
                raise refusal(error, query=is_query) from None

        request.context = Context(
            validated(query, get_multidict_items(request.args, query), is_query=True) if query else None,
            validated(json, json_body(optional=request.method == "DELETE"), is_query=False) if json else None,
            None,
            None,
            None,
        )

    def validate_response(self, resp, resp_model, skip_validation, force_resp_serialize):
        check = current_app.config["API_VALIDATE_RESPONSES"] and resp_model is not None
        response, error = super().validate_response(
            resp, resp_model, skip_validation or not check, force_resp_serialize
        )
        if check and (error is not None or not _documented(resp_model, response.status_code)):
            raise UndocumentedAnswer(
                f"{request.method} {request.path} answered {response.status_code} "
                f"outside its documented schema: {error}"
            )
        return response, error

    def get_func_operation_id(self, func, path, method):
        return re.sub(r"_(.)", lambda match: match.group(1).upper(), func.__name__)

    def parse_path(self, route, path_parameter_descriptions):
        path, parameters = super().parse_path(route, path_parameter_descriptions)
        for parameter in parameters:
            if parameter["schema"].get("type") == "integer":
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": DATABASE_INT_MAX}
        return path.removeprefix(bp.url_prefix), parameters


class UndocumentedAnswer(Exception):
    """A view answered something its document does not promise (checked with API_VALIDATE_RESPONSES)."""


def _documented(resp_model, status):
    return resp_model.find_model(status) is not None or f"HTTP_{status}" in resp_model.codes


api = SpecTree(
    backend=PortalPlugin,
    mode="strict",
    title="Growth Room Portal API",
    version="1.0.0",
    description='Errors always look like {"error": {"code", "message", "field"?}}. Times are RFC 3339 with an '
    "offset; dates lie in the years 2000–2100. Request bodies are JSON objects (1 MB at most by default).",
    servers=[Server(url=bp.url_prefix)],
    security_schemes=[
        SecurityScheme(name="bearer", data=SecuritySchemeData(type="http", scheme="bearer")),
        SecurityScheme(name="session", data=SecuritySchemeData(type="apiKey", field_in="cookie", name="session")),
    ],
    security=[{"bearer": []}, {"session": []}],
    page_templates={},
    validation_error_status=400,
    validation_error_model=Error,
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
)


@cache
def document():
    """The OpenAPI document; DELETE bodies (a reason) may be left out."""
    spec = json.loads(json.dumps(api.spec))
    for operations in spec["paths"].values():
        if "requestBody" in operations.get("delete", {}):
            operations["delete"]["requestBody"]["required"] = False
    return spec
