"""/api/v1: thin JSON views over the features' services, and the OpenAPI document.

Every module in this package defines its routes on `bp` and a `PATHS` dict
(its part of the OpenAPI document); both are picked up automatically.
"""
import importlib
import pkgutil

from portal.api.blueprint import bp

INFRASTRUCTURE = {"blueprint", "openapi", "helpers"}


def endpoint_modules():
    return [importlib.import_module(f"{__name__}.{info.name}")
            for info in pkgutil.iter_modules(__path__) if info.name not in INFRASTRUCTURE]


def init_app(app):
    from portal.api import openapi
    from portal.extensions import csrf

    endpoint_modules()
    openapi.register()
    csrf.exempt(bp)
    app.register_blueprint(bp)
