"""Navigation and dashboard panels contributed by each feature package.

The navbar shows the top-level links, then the menus (each a group of links under one
label, shown only when one of its links is visible to the user), and at the end the user's
own menu (`USER_MENU`): their account, their records, notifications and signing out.
"""

from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from flask_babel import lazy_gettext as _l

USER_MENU = "user"
ADMIN_MENU = "admin"


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # a lazy_gettext string, rendered in the request's language
    visible: object = field(default=lambda user: True)
    order: int = 100
    menu: str | None = None  # the key of the menu it belongs to, or None for a top-level link
    # Other pages that belong to this link's section (fnmatch patterns of endpoints): it is
    # highlighted there too, unless another link names the page exactly.
    section: tuple = ()


@dataclass(frozen=True)
class NavMenu:
    key: str
    label: object
    order: int = 100


MENUS = {ADMIN_MENU: NavMenu(ADMIN_MENU, _l("Manage"), order=700)}


@dataclass
class NavEntry:
    """What the layout renders: a link (`item`), or a menu (`menu`) with its `links`."""

    order: int
    item: NavItem | None = None
    menu: NavMenu | None = None
    links: list = field(default_factory=list)
    current: bool = False


def add_nav_item(app, item):
    app.extensions.setdefault("portal_nav", []).append(item)
    app.extensions["portal_nav"].sort(key=lambda i: i.order)


def nav_items(app, user):
    return [item for item in app.extensions.get("portal_nav", []) if item.visible(user)]


def current_item(items, endpoint):
    """The link of the page being shown: the one naming it, else the one whose section holds it."""
    if not endpoint:
        return None
    exact = next((item for item in items if item.endpoint == endpoint), None)
    return exact or next(
        (item for item in items if any(fnmatchcase(endpoint, pattern) for pattern in item.section)), None
    )


def navigation(app, user, endpoint):
    """(entries of the navbar in order, the user menu's links, the current link or None)."""
    items = nav_items(app, user)
    current = current_item(items, endpoint)
    entries, by_menu, user_links = [], {}, []
    for item in items:
        if item.menu == USER_MENU:
            user_links.append(item)
        elif item.menu is None:
            entries.append(NavEntry(order=item.order, item=item, current=item is current))
        else:
            if item.menu not in by_menu:
                menu = MENUS[item.menu]
                by_menu[item.menu] = NavEntry(order=menu.order, menu=menu)
                entries.append(by_menu[item.menu])
            by_menu[item.menu].links.append(item)
            by_menu[item.menu].current |= item is current
    entries.sort(key=lambda entry: entry.order)
    return entries, user_links, current


def add_dashboard_panel(app, render, order=100):
    """`render(user)` returns HTML (Markup) for the user's dashboard, or None to show nothing."""
    app.extensions.setdefault("portal_dashboard", []).append((order, render))
    app.extensions["portal_dashboard"].sort(key=lambda pair: pair[0])


def dashboard_panels(app, user):
    rendered = (render(user) for _, render in app.extensions.get("portal_dashboard", []))
    return [html for html in rendered if html]
