"""Reports drawn from every feature's data: a clinic's monthly usage, its overview, charts as SVG.

Read-only; the admin screens and the API show them.
"""


def init_app(app):
    from portal.reports.charts import percent

    app.jinja_env.globals["percent"] = percent
