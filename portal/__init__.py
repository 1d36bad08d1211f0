"""Growth Room Portal: the application factory."""

import importlib

from flask import Flask
from jinja2 import BytecodeCache
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import Rule

from portal.core import transaction
from portal.core.db import engine_options
from portal.extensions import babel, cache, compress, csrf, db, limiter, login_manager, migrate

# Feature packages, each exposing init_app(app). Order only matters for navigation.
FEATURES = ("core", "auth", "clinics", "booking", "training", "search", "reports", "admin", "api", "privacy", "demo")


class RuleBuiltOnFirstUse(Rule):
    """A URL rule whose URL-building functions are compiled when a URL is first built from it.

    Werkzeug compiles two Python functions for every rule as it is added: most of the time it takes
    to build the app, while a process builds URLs from a few of its rules. Should Werkzeug stop
    storing them under these names, each URL is still built right, only compiled again.
    """

    def _compile_builder(self, append_unknown=True):
        compile_now = super()._compile_builder

        def build_url(rule, **values):
            built = compile_now(append_unknown).__get__(rule, None)
            setattr(rule, "_build_unknown" if append_unknown else "_build", built)
            return built(**values)

        return build_url


class TemplateBytecode(BytecodeCache):
    """Compiled templates shared by every app of the process, keyed by name and source (Jinja checks
    both): a process that builds many apps (the tests build one per test) compiles each template once.
    Sound because every app's Jinja environment is set up alike, by code rather than by configuration."""

    def __init__(self):
        self._compiled = {}

    def load_bytecode(self, bucket):
        if bucket.key in self._compiled:
            bucket.bytecode_from_string(self._compiled[bucket.key])

    def dump_bytecode(self, bucket):
        self._compiled[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_BYTECODE = TemplateBytecode()


class Portal(Flask):
    """Flask with one database transaction per request, ended where the view's answer is known."""

    url_rule_class = RuleBuiltOnFirstUse

    def dispatch_request(self):
        return transaction.finish_request(self.make_response(super().dispatch_request()))


def create_app(config=None):
    """Build the app. `config` is a config object (see config.py); default from the environment."""
    from config import config_from_env

    app = Portal(__name__, instance_relative_config=False)
    app.config.from_object(config or config_from_env())
    app.jinja_env.bytecode_cache = TEMPLATE_BYTECODE
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
