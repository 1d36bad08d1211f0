"""The Ministry of Health's clinical guidelines (рубрикатор клинических рекомендаций) as a
search source.

The rubricator offers no text search, and is reported to refuse clients that do
not pose as a browser, so the portal keeps its own catalogue of the guidelines'
metadata: a job pages through the rubricator's list call once a day
(``sync.run_scheduled_sync``), or an admin loads a saved list answer, and the
``minzdrav`` search source searches that catalogue in the portal's database.
Nothing is fetched from the rubricator while a user searches.

- ``listing``: reading the list call's answer (pure; a changed shape is an error);
- ``upstream``: paging through the list call politely (pure of Flask and the database);
- ``russian``: Russian word forms for the full-text search;
- ``catalogue``: keeping and searching the catalogue (services: they only flush);
- ``sync``: the sync jobs, which end their own transactions.
"""
