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


def test_language_switch_does_not_redirect_to_other_sites(client, auth):
    token = auth.csrf_token("/sign-in")
    response = client.post("/language", data={"csrf_token": token, "lang": "en", "next": "//evil.example/x"})
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_sign_in_does_not_redirect_to_other_sites(client, make_user):
    from tests.conftest import PASSWORD, csrf_token_from

    user = make_user()
    page = client.get("/sign-in?next=https://evil.example/").get_data(as_text=True)
    response = client.post("/sign-in?next=https://evil.example/", data={
        "csrf_token": csrf_token_from(page), "email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/dashboard"
