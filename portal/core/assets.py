"""Static files under fingerprinted URLs, which browsers keep for a year.

`url_for(<any static endpoint>, filename=...)` adds `v`, a digest of the file's
content: a changed file gets a new URL, so the old one may be cached forever.
A request with a `v` that is not the file's current digest (a page from before
a deployment) still gets the file, only not for long.
"""

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import request

FOREVER = "public, max-age=31536000, immutable"


def _is_static(endpoint):
    return endpoint is not None and (endpoint == "static" or endpoint.endswith(".static"))


def _folder(app, endpoint):
    if endpoint == "static":
        return app.static_folder
    return app.blueprints[endpoint.rsplit(".", 1)[0]].static_folder


@lru_cache(maxsize=256)
def _digest(path):
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
    except OSError:
        return None  # a missing file: Flask answers 404 for it


def init_app(app):
    @app.url_defaults
    def fingerprint(endpoint, values):
        if _is_static(endpoint) and "filename" in values and "v" not in values:
            digest = _digest(str(Path(_folder(app, endpoint)) / values["filename"]))
            if digest is not None:
                values["v"] = digest

    @app.after_request
    def keep_fingerprinted_files(response):
        if not _is_static(request.endpoint) or response.status_code != 200:
            return response
        # Read the file now and close it: Flask-Compress (which runs after this) then compresses it whole,
        # where a streamed file would be compressed chunk by chunk and left open.
        response.direct_passthrough = False
        response.make_sequence()
        if request.args.get("v") == _digest(str(Path(_folder(app, request.endpoint)) / request.view_args["filename"])):
            response.headers["Cache-Control"] = FOREVER
        return response
