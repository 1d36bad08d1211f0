"""Bad input never answers 500: every operation in the OpenAPI document is called with
malformed bodies, wrong types, unknown ids and odd query strings, as several roles."""

import functools
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal import create_app
from tests.conftest import make_config

NESTED_40_DEEP = functools.reduce(lambda inner, _level: [inner], range(40), "x")
WRONG_VALUES = [
    None,
    "",
    "x" * 5000,
    -1,
    0,
    10**12,
    2**64,
    3.5,
    True,
    [],
    {},
    "2026-13-45T99:99",
    "<script>",
    "http://127.0.0.2:9/",
    "'; DROP TABLE users; --",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "2026-03-02T10:00:00+02:30:17",
    "\ud800",
    "a\x00b",
    NESTED_40_DEEP,
]


def operations():
    app = create_app(make_config("sqlite://"))
    with app.app_context():
        document = app.test_client().get("/api/v1/openapi.json").get_json()
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


OPERATIONS = list(operations())


def concrete(path, object_id):
    return "/api/v1" + re.sub(r"\{[^}]+\}", str(object_id), path)


def body_variants(operation):
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema") or {}
    yield from (None, [], "text", {"unexpected": 1})
    for name in schema.get("properties", {}):
        for value in WRONG_VALUES:
            yield {name: value}


@pytest.fixture
def callers(make_user, make_clinic, api_as):
    clinic = make_clinic()
    return [
        api_as(make_user(role=role, clinic=clinic if role != "superadmin" else None))
        for role in ("doctor", "admin", "superadmin")
    ]


def assert_not_a_server_error(response, what):
    assert response.status_code < 500, (
        f"{what} answered {response.status_code}: {response.get_data(as_text=True)[:300]}"
    )
    if response.status_code >= 400:
        body = response.get_json(silent=True)
        assert body and set(body["error"]) >= {"code", "message"}, f"{what}: not the error shape"


@pytest.mark.parametrize("path, method, operation", OPERATIONS, ids=[f"{m.upper()} {p}" for p, m, _ in OPERATIONS])
def test_operation_survives_bad_input(callers, path, method, operation):
    for api in callers:
        for object_id in (1, 999999, 2**64):
            url = concrete(path, object_id)
            if method in ("post", "put", "patch"):
                for body in body_variants(operation):
                    response = getattr(api, method)(url, json=body)
                    assert_not_a_server_error(response, f"{method.upper()} {url} {body!r:.80}")
                for raw in (b"\xff\xfe not json", b"[" * 5000 + b"]" * 5000, b'{"reason": "\\ud800"}'):
                    response = getattr(api, method)(url, data=raw, headers={"Content-Type": "application/json"})
                    assert_not_a_server_error(response, f"{method.upper()} {url} {raw[:20]!r}")
            else:
                for query in (
                    "",
                    "?date=yesterday&days=-5&page=x&month=2026-99&from=now&to=1",
                    "?room_id=abc&clinic_id=%00&q=" + "x" * 600,
                    "?date=9999-12-31&days=31&month=9999-12&from=9999-12-31T23:59:59Z&to=0001-01-01T00:00:00Z",
                    "?date=0001-01-01&month=0001-01&q=%ED%A0%80&room_id=18446744073709551617",
                ):
                    response = getattr(api, method)(url + query)
                    assert_not_a_server_error(response, f"{method.upper()} {url}{query[:60]}")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.dictionaries(
        st.sampled_from(
            [
                "workstation_id",
                "start",
                "end",
                "room_id",
                "capacity",
                "name",
                "status",
                "email",
                "role",
                "clinic_id",
                "course",
                "user_id",
                "attended",
                "hours",
                "reason",
                "kind",
                "inventory_number",
            ]
        ),
        JSON_VALUES,
        max_size=6,
    )
)
def test_random_json_bodies_never_cause_a_server_error(callers, body):
    for path, method, _operation in OPERATIONS:
        if method in ("post", "put", "patch"):
            response = getattr(callers[2], method)(concrete(path, 1), json=body)
            assert_not_a_server_error(response, f"{method.upper()} {path} {body!r:.120}")
