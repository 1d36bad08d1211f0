"""Reports across the features: a clinic's monthly usage and overview, the audit log search, the city's
view comparing every clinic (city.py), report months and SVG charts.

Read-only; the admin screens and the API show them.
"""


def init_app(app):
    from portal.reports.charts import percent

    app.jinja_env.globals["percent"] = percent
