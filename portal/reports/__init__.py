"""Reports across the features: report months, and the city's view comparing every clinic (city.py).

The screens that show them live with the other administration screens (portal/admin).
"""


def init_app(app):
    """Nothing to register: the reports are plain queries that the screens and the API call."""

