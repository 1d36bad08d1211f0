"""Navigation and dashboard panels contributed by each feature package."""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # a lazy_gettext string, rendered in the request's language
    visible: object = field(default=lambda user: True)
    order: int = 100


def add_nav_item(app, item):
    app.extensions.setdefault("portal_nav", []).append(item)
    app.extensions["portal_nav"].sort(key=lambda i: i.order)


def nav_items(app, user):
    return [item for item in app.extensions.get("portal_nav", []) if item.visible(user)]


def add_dashboard_panel(app, render, order=100):
    """`render(user)` returns HTML (Markup) for the user's dashboard, or None to show nothing."""
    app.extensions.setdefault("portal_dashboard", []).append((order, render))
    app.extensions["portal_dashboard"].sort(key=lambda pair: pair[0])


def dashboard_panels(app, user):
    rendered = (render(user) for _, render in app.extensions.get("portal_dashboard", []))
    return [html for html in rendered if html]
