from urllib.parse import quote

import pytest

from tests.conftest import PASSWORD, csrf_token_from


def test_pages_carry_security_headers(client):
    response = client.get("/sign-in")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_personal_pages_are_not_cached_on_shared_computers(auth, client, make_user):
    auth.login(make_user())
    assert client.get("/dashboard").headers["Cache-Control"] == "no-store"


def test_templates_escape_user_text(auth, client, make_user):
    auth.login(make_user(full_name="<script>alert(1)</script>"))
    page = client.get("/dashboard").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# What browsers read as another site: they drop tabs and line breaks and read "\\" as "/".
OFF_SITE_TARGETS = [
    "//evil.example/x",
    "https://evil.example/",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    " //evil.example",
    "http:/evil.example",
]
# (A NUL character never gets this far: every form and query string holding one is a 400.)


@pytest.mark.parametrize("target", OFF_SITE_TARGETS)
def test_language_switch_does_not_redirect_to_other_sites(client, auth, target):
    token = auth.csrf_token("/sign-in")
    response = client.post("/language", data={"csrf_token": token, "lang": "en", "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] in ("/", "http://localhost/")


@pytest.mark.parametrize("target", OFF_SITE_TARGETS)
def test_sign_in_does_not_redirect_to_other_sites(client, make_user, target):
    user = make_user()
    next_query = "?next=" + quote(target, safe="")
    page = client.get("/sign-in" + next_query).get_data(as_text=True)
    response = client.post(
        "/sign-in" + next_query, data={"csrf_token": csrf_token_from(page), "email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"


def test_sign_in_returns_to_the_page_asked_for(client, make_user):
    user = make_user()
    page = client.get("/sign-in?next=%2Fbookings%3Fx%3D1").get_data(as_text=True)
    response = client.post(
        "/sign-in?next=%2Fbookings%3Fx%3D1",
        data={"csrf_token": csrf_token_from(page), "email": user.email, "password": PASSWORD},
    )
    assert response.headers["Location"] == "/bookings?x=1"


def test_production_sends_hsts_and_a_host_only_secure_session_cookie(make_app, make_user):
    from config import ProductionConfig

    production = ProductionConfig()
    client = make_app(
        **{
            name: getattr(production, name)
            for name in ("HSTS_SECONDS", "SESSION_COOKIE_NAME", "SESSION_COOKIE_SECURE", "DEVICE_COOKIE_NAME")
        }
    ).test_client()
    user = make_user()

    page = client.get("/sign-in", base_url="https://portal.example")
    signed_in = client.post(
        "/sign-in",
        base_url="https://portal.example",
        data={"csrf_token": csrf_token_from(page.get_data(as_text=True)), "email": user.email, "password": PASSWORD},
        headers={"Referer": "https://portal.example/sign-in"},
    )  # over HTTPS the CSRF check wants it

    assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert signed_in.status_code == 302
    cookies = {cookie.split("=", 1)[0]: cookie for cookie in signed_in.headers.getlist("Set-Cookie")}
    assert set(cookies) == {"__Host-session", "__Host-device"}
    for cookie in cookies.values():
        assert "Secure" in cookie and "HttpOnly" in cookie and "Path=/" in cookie and "Domain=" not in cookie


def test_development_sends_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/sign-in").headers
