"""Growth Room Portal: the application factory."""

import importlib

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.core import transaction
from portal.core.db import engine_options
from portal.extensions import babel, cache, compress, csrf, db, limiter, login_manager, migrate

# Feature packages, each exposing init_app(app). Order only matters for navigation.
FEATURES = ("core", "auth", "clinics", "booking", "training", "search", "reports", "admin", "api", "privacy", "demo")


class Portal(Flask):
    """Flask with one database transaction per request, ended where the view's answer is known."""

    def dispatch_request(self):
        return transaction.finish_request(self.make_response(super().dispatch_request()))


def create_app(config=None):
    """Build the app. `config` is a config object (see config.py); default from the environment."""
    from config import config_from_env

    app = Portal(__name__, instance_relative_config=False)
    app.config.from_object(config or config_from_env())
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config))
    if app.config.get("PROXY_COUNT"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_COUNT"], x_proto=1, x_host=1)

    db.init_app(app)
    from portal.core.db import include_name

    migrate.init_app(
        app, db, directory=str(_migrations_dir()), compare_type=True, render_as_batch=True, include_name=include_name
    )
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    cache.init_app(app)
    compress.init_app(app)

    from portal.core.i18n import select_locale, select_timezone

    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories=";".join(_translation_dirs()),
    )

    for name in FEATURES:
        importlib.import_module(f"portal.{name}").init_app(app)
    from portal.core.db import mark_read_only_request

    app.before_request(lambda: mark_read_only_request(app))

    from portal.core.cli import portal_cli

    app.cli.add_command(portal_cli)
    return app


def _migrations_dir():
    from config import BASE_DIR

    return BASE_DIR / "migrations"


def _translation_dirs():
    """Each feature keeps its own catalogue next to its code; Flask-Babel merges them."""
    from pathlib import Path

    root = Path(__file__).resolve().parent
    return [str(path) for path in sorted(root.glob("*/translations")) if path.is_dir()]
