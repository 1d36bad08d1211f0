"""The navbar: each role's links grouped (main links, the management menu, the user's menu) and the
current page marked, also on the pages under a link."""

from html.parser import HTMLParser

import pytest


class NavbarLinks(HTMLParser):
    """The navbar's links and submit buttons: (menu id or None, text, href, marked as the current page)."""

    def __init__(self):
        super().__init__()
        self.links, self.menus, self.current_text, self.in_nav = [], [], None, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "nav":
            self.in_nav = True
        elif self.in_nav and tag == "details":
            self.menus.append(attrs.get("id"))
        elif self.in_nav and (tag == "a" or tag == "button" and attrs.get("type") == "submit"):
            self.current_text = [attrs.get("href"), attrs.get("aria-current") == "page", ""]

    def handle_data(self, data):
        if self.current_text is not None:
            self.current_text[2] += data

    def handle_endtag(self, tag):
        if tag == "nav":
            self.in_nav = False
        elif tag == "details" and self.in_nav:
            self.menus.pop()
        elif tag in ("a", "button") and self.current_text is not None:
            href, current, text = self.current_text
            self.links.append((self.menus[-1] if self.menus else None, " ".join(text.split()), href, current))
            self.current_text = None


def navbar(client, path):
    page = client.get(path)
    assert page.status_code == 200
    parser = NavbarLinks()
    parser.feed(page.get_data(as_text=True))
    return parser.links


@pytest.fixture
def english(client):
    """English labels, to read the tests against the msgids."""
    with client.session_transaction() as session:
        session["lang"] = "en"


def test_a_doctor_has_the_main_links_and_a_user_menu_with_profile_notifications_and_sign_out(
    client, auth, make_user, english
):
    auth.login(make_user("doctor"))
    links = navbar(client, "/bookings")
    assert [(text, current) for menu, text, _href, current in links if menu is None] == [
        ("Growth Room", False),
        ("Workstation booking", False),
        ("My bookings", True),
        ("Trainings", False),
        ("Search", False),
    ]
    assert [text for menu, text, _href, _current in links if menu == "user-menu"] == [
        "My account",
        "Learning record",
        "Reading list",
        "Notifications",
        "RU",
        "EN",
        "Sign out",
    ]
    assert not [link for link in links if link[0] == "menu-admin"]


def test_a_page_under_a_link_marks_that_link(client, auth, make_user, make_room, english):
    room = make_room()
    auth.login(make_user("doctor", clinic=room.clinic))
    current = [text for _menu, text, _href, current in navbar(client, f"/rooms/{room.id}/schedule") if current]
    assert current == ["Workstation booking"]


def test_an_admin_finds_the_clinic_pages_in_the_management_menu_marked_where_they_are(client, auth, make_user, english):
    admin = make_user("admin")
    auth.login(admin)
    links = navbar(client, f"/admin/clinics/{admin.clinic_id}/equipment")
    management = [(text, current) for menu, text, _href, current in links if menu == "menu-admin"]
    assert management == [("Clinics and rooms", True), ("Audit log", False), ("Search sources", False)]
    # The page a link names is its own, though it lies in another link's section (admin.*).
    current = [text for _menu, text, _href, current in navbar(client, "/admin/audit") if current]
    assert current == ["Audit log"]


def test_a_superadmin_has_the_citys_view_and_nothing_of_a_clinic(client, auth, make_user, english):
    auth.login(make_user("superadmin"))
    links = navbar(client, "/admin/city")
    assert [(text, current) for menu, text, _href, current in links if menu == "menu-admin"] == [
        ("Clinics and rooms", False),
        ("Audit log", False),
        ("The city's view", True),
        ("Search sources", False),
    ]
    assert [text for menu, text, _href, _current in links if menu is None] == ["Growth Room"]
