"""/api/v1: thin JSON views over the features' services, and the OpenAPI document.

Every module in this package defines its routes on `bp`, each validated and
documented by `portal.api.schema.api`; all are picked up automatically.
"""

import importlib
import pkgutil

from portal.api.blueprint import bp

INFRASTRUCTURE = {"blueprint", "helpers", "schema"}


def endpoint_modules():
    return [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in pkgutil.iter_modules(__path__)
        if info.name not in INFRASTRUCTURE
    ]


def init_app(app):
    from portal.extensions import csrf

    endpoint_modules()
    csrf.exempt(bp)
    app.register_blueprint(bp)
