"""The search rules on top of the Flask-free layer: which sources a clinic has
linked, validating a search, caching it, recording usage statistics, the
clinic's linked resources and library link prefix (the reading list: bibliography).

Privacy (152-FZ, privacy rule 2): the query text is never stored. The result
cache is keyed by a SHA-256 hash of the normalised search and holds only the
results; usage statistics keep one row per source and search with the
clinic, the time, the outcome and the latency — no person, no text.

A cached repeat is the common case and stays cheap: the clinic's linked
sources and library prefix are kept by each process for a short while, one
cache GET answers, and the usage rows wait in a per-process batch
(portal.search.usage).

Only the configured upstream base URLs are ever contacted: the providers are
built from configuration once per app, a user chooses among them by name, and
every other parameter is validated as a number or a flag. The query itself is
sent as an (encoded) query parameter, so a URL typed into the search box is
searched for as text, never fetched.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import threading
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

import redis
from cachelib import SimpleCache
from flask import Flask, current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, delete, func, literal, select, union_all

from portal.clinics.models import Clinic
from portal.core import audit
from portal.core.errors import Conflict, Invalid, UpstreamFailure
from portal.core.permissions import Actor, can_administer_clinic, require
from portal.core.redis_client import redis_failed, shared_store_usable
from portal.core.time import zone
from portal.extensions import cache, db
from portal.search import usage
from portal.search.errors import QueryError, UpstreamError
from portal.search.fanout import SearchOptions, search_all, select_sources
from portal.search.guidelines import catalogue
from portal.search.guidelines.sync import upstream_settings
from portal.search.http import ncbi_rate_limiter, register_secret
from portal.search.models import ClinicSearchSettings, LinkedResource, SearchEvent, UnlinkedSource
from portal.search.providers import (
    PROVIDER_CLASSES,
    SOURCE_NAMES,
    MinzdravProvider,
    Provider,
    ProviderSettings,
    build_provider,
)

PROVIDERS_KEY = "portal_search_providers"
_providers_lock = threading.Lock()

DOI_RESOLVER = "https://doi.org/"
PUBMED_RECORD_URL = "https://pubmed.ncbi.nlm.nih.gov/{pmid}/"
# Upstream sources carry these keys (the OpenAlex key is sent by its provider).
API_KEY_SETTINGS = {"pubmed": "PORTAL_NCBI_API_KEY", "openalex": "PORTAL_OPENALEX_API_KEY"}

SOURCE_LABELS = {name: cls.label for name, cls in PROVIDER_CLASSES.items()}
# Brand names stay as they are; the guidelines are named in the reader's language.
SOURCE_LABELS[MinzdravProvider.name] = _l("Clinical guidelines (Ministry of Health)")

# What a reader is told about a failing source (codes of portal.search.errors.UpstreamError): a short
# label for the source's badge, and a sentence in the reader's language (what the source itself said is
# in its own language, so the page keeps it out of the text).
SOURCE_ERROR_LABELS = {
    "timeout": _l("no answer in time"),
    "rate_limited": _l("too many requests, try again shortly"),
    "upstream_unavailable": _l("unavailable"),
    "upstream_error": _l("reported an error"),
    "bad_response": _l("unreadable answer"),
    "too_large": _l("answer too large"),
    "unsupported_filter": _l("cannot apply these filters"),
    "internal_error": _l("failed"),
}
SOURCE_ERROR_MESSAGES = {
    "timeout": _l("The database did not answer in time."),
    "rate_limited": _l("The database is receiving too many requests; try again in a minute."),
    "upstream_unavailable": _l("The database cannot be reached right now."),
    "upstream_error": _l("The database reported an error and returned no results."),
    "bad_response": _l("The database sent an answer the portal cannot read."),
    "too_large": _l("The database sent an answer too large to show."),
    "unsupported_filter": _l("The database cannot search with these filters; change or clear them."),
    "internal_error": _l("The search in this database failed."),
}


def source_error_message(code: str) -> str:
    return SOURCE_ERROR_MESSAGES.get(code, SOURCE_ERROR_MESSAGES["internal_error"])


# Clinics whose search settings a process keeps (the city has about a hundred polyclinics).
SETTINGS_KEPT_CLINICS = 1000


# --- providers -----------------------------------------------------------------------------


def providers() -> dict[str, Provider]:
    """The providers of this app, built from its configuration on first use.

    One ``requests.Session`` per source is shared by every request of the
    process (connection reuse); NCBI's request budget is shared across
    processes through Redis when ``REDIS_URL`` is set.
    """
    app = current_app._get_current_object()
    built = app.extensions.get(PROVIDERS_KEY)
    if built is None:
        with _providers_lock:
            built = app.extensions.get(PROVIDERS_KEY)
            if built is None:
                built = app.extensions[PROVIDERS_KEY] = _build_providers(app.config)
    return built


def _build_providers(config):
    budget = float(config["SEARCH_SOURCE_BUDGET_SECONDS"])
    built = {}
    for name in SOURCE_NAMES:
        if name == MinzdravProvider.name:
            # The catalogue in this database, read through the request's session.
            built[name] = MinzdravProvider(
                upstream_settings(config), search_catalogue=lambda request: catalogue.search(db.session, request)
            )
            continue
        api_key = config.get(API_KEY_SETTINGS[name]) if name in API_KEY_SETTINGS else None
        register_secret(api_key)
        settings = ProviderSettings(
            base_url=config["UPSTREAM_BASE_URLS"][name].rstrip("/"),
            contact_email=config.get("PORTAL_CONTACT_EMAIL"),
            api_key=api_key,
            read_timeout=budget,
            total_timeout=budget,
        )
        limiter = None
        if name == "pubmed":
            limiter = ncbi_rate_limiter(
                api_key, config.get("REDIS_URL"), key_prefix=config["CACHE_KEY_PREFIX"] + "search:"
            )
        built[name] = build_provider(name, settings, limiter=limiter)
    return built


# --- linked sources ------------------------------------------------------------------------

SETTINGS_KEY = "portal_search_settings"


def search_settings(clinic_id: int | None) -> tuple[tuple[str, ...], str | None]:
    """``(linked sources, link prefix)`` of a clinic, read for every search.

    They change a few times a year, so each process keeps them for
    SEARCH_SETTINGS_CACHE_SECONDS: an admin's change reaches every server
    within that time (the one that made it drops its copy at once). The
    admin pages read the database (``stored_search_settings``).
    """
    if clinic_id is None:
        return SOURCE_NAMES, None
    kept = current_app.extensions[SETTINGS_KEY]
    found = kept.get(clinic_id)
    if found is None:
        found = stored_search_settings(clinic_id)
        kept.set(clinic_id, found)
    return found


def stored_search_settings(clinic_id: int) -> tuple[tuple[str, ...], str | None]:
    """``(linked sources, link prefix)`` as stored, in one round trip."""
    rows = db.session.execute(
        union_all(
            select(literal("unlinked").label("kind"), UnlinkedSource.source.label("value")).where(
                UnlinkedSource.clinic_id == clinic_id
            ),
            select(literal("prefix").label("kind"), ClinicSearchSettings.link_prefix.label("value")).where(
                ClinicSearchSettings.clinic_id == clinic_id
            ),
        )
    ).all()
    unlinked = {value for kind, value in rows if kind == "unlinked"}
    prefix = next((value for kind, value in rows if kind == "prefix"), None)
    return tuple(name for name in SOURCE_NAMES if name not in unlinked), prefix


def keep_search_settings(app: Flask) -> None:
    app.extensions[SETTINGS_KEY] = SimpleCache(
        threshold=SETTINGS_KEPT_CLINICS, default_timeout=app.config["SEARCH_SETTINGS_CACHE_SECONDS"]
    )


def _settings_changed(clinic_id):
    current_app.extensions[SETTINGS_KEY].delete(clinic_id)


def set_linked_sources(actor: Actor, clinic: Clinic, sources: Iterable[str], *, now: datetime) -> None:
    """Link exactly ``sources`` for ``clinic`` (admins of the clinic only).

    At least one source stays linked, otherwise the search page would have
    nothing to search.
    """
    require(can_administer_clinic(actor, clinic.id))
    chosen = set(sources)
    unknown = chosen - set(SOURCE_NAMES)
    if unknown:
        raise Invalid(_("Unknown search source."), code="unknown_source", field="sources")
    if not chosen:
        raise Invalid(_("Link at least one source."), code="no_source", field="sources")
    db.session.execute(delete(UnlinkedSource).where(UnlinkedSource.clinic_id == clinic.id))
    for name in SOURCE_NAMES:
        if name not in chosen:
            db.session.add(UnlinkedSource(clinic_id=clinic.id, source=name))
    db.session.flush()
    _settings_changed(clinic.id)
    audit.record(
        "search.sources_linked",
        actor=actor,
        clinic_id=clinic.id,
        details={"sources": [name for name in SOURCE_NAMES if name in chosen], "at": now.isoformat()},
    )


# --- searching -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchOutcome:
    """The Search JSON shape (``data``) and whether it came from the cache."""

    data: dict
    cached: bool
    link_prefix: str | None = None  # the clinic's library proxy, read along with its linked sources
    # How old the clinical-guidelines catalogue is, when the guidelines were searched (never cached).
    guidelines_catalogue: catalogue.CatalogueStatus | None = None


def search(
    actor: Actor,
    *,
    q: str,
    sources: str | Iterable[str] | None = None,
    page: int = 1,
    year_from: int | None = None,
    year_to: int | None = None,
    open_access: bool = False,
    age_group: str | None = None,
    current_only: bool = False,
    now: datetime,
) -> SearchOutcome:
    """Search the sources linked for the actor's clinic.

    ``age_group`` ("children" or "adults") and ``current_only`` (guidelines
    that apply now) narrow the clinical guidelines; the other sources have no
    such fields. Raises ``Invalid`` (400) for a bad query (``invalid_query``),
    a source that does not exist or is not linked (``unknown_source``) or bad
    paging, years and filters (``invalid_parameter``). A failing source never
    raises: it shows as that source's error next to the others' results.
    Identical searches are answered from the cache (a new guidelines catalogue
    starts their cache afresh, see ``catalogue.catalogue_status``); answers with a failed source are not cached,
    so a passing outage is not remembered. Every search counts one usage row
    per source (portal.search.usage; the caller's session is untouched on
    PostgreSQL).
    """
    try:
        options = SearchOptions(
            " ".join(q.split()) if isinstance(q, str) else q,
            page=page,
            year_from=year_from,
            year_to=year_to,
            open_access_only=open_access,
            age_group=age_group or None,
            current_only=current_only,
        )
        linked, prefix = search_settings(actor.clinic_id)
        chosen = select_sources(sources, linked)
    except QueryError as error:
        raise Invalid(
            _query_error_message(error),
            code=error.code,
            field={"invalid_query": "q", "unknown_source": "sources"}.get(error.code),
        ) from None

    guidelines = guidelines_catalogue_status(now=now) if MinzdravProvider.name in chosen else None
    # A new catalogue makes the cached guideline searches stale at once.
    key = cache_key(options, chosen, catalogue_synced_at=guidelines.synced_at if guidelines else None)
    started = time.monotonic()
    data = _cached(key)
    if data is not None:
        elapsed_ms = round((time.monotonic() - started) * 1000)
        usage.record(
            [
                {
                    "clinic_id": actor.clinic_id,
                    "source": name,
                    "at": now,
                    "ok": True,
                    "error_code": None,
                    "latency_ms": elapsed_ms,
                    "cached": True,
                }
                for name in chosen
            ]
        )
        return SearchOutcome(data, cached=True, link_prefix=prefix, guidelines_catalogue=guidelines)

    all_providers = providers()
    config = current_app.config
    result = search_all(
        {name: all_providers[name] for name in chosen},
        options,
        source_budget=float(config["SEARCH_SOURCE_BUDGET_SECONDS"]),
        total_budget=float(config["SEARCH_TOTAL_BUDGET_SECONDS"]),
    )
    usage.record(
        [
            {
                "clinic_id": actor.clinic_id,
                "source": name,
                "at": now,
                "ok": status.status == "ok",
                "error_code": status.error.code if status.error else None,
                "latency_ms": status.latency_ms,
                "cached": False,
            }
            for name, status in result.sources.items()
        ]
    )
    data = result.as_dict()
    if all(status.status == "ok" for status in result.sources.values()):
        _cache(key, data, int(config["SEARCH_CACHE_SECONDS"]))
    return SearchOutcome(data, cached=False, link_prefix=prefix, guidelines_catalogue=guidelines)


def guidelines_catalogue_status(*, now: datetime, kept: bool = True) -> catalogue.CatalogueStatus:
    """When the clinical-guidelines catalogue was last loaded, and whether that is too long ago
    (``kept``: as this process keeps it, see ``catalogue.catalogue_status``)."""
    return catalogue.catalogue_status(now=now, stale_after=catalogue.stale_after(current_app.config), kept=kept)


def _cached(key):
    """The cached answer, or None (also while a configured Redis is down: searching goes on without it)."""
    if not shared_store_usable():
        return None
    try:
        return cache.get(key)
    except redis.RedisError as error:
        redis_failed(error)
        return None


def _cache(key, data, seconds):
    if not shared_store_usable():
        return
    try:
        cache.set(key, data, timeout=seconds)
    except redis.RedisError as error:
        redis_failed(error)


def cache_key(options: SearchOptions, sources: Iterable[str], *, catalogue_synced_at: datetime | None = None) -> str:
    """A hash of everything that shapes the answer; the query text itself is not in the key."""
    fields = [
        options.query,
        sorted(sources),
        options.year_from,
        options.year_to,
        options.open_access_only,
        options.page,
        options.per_page,
        options.age_group,
        options.current_only,
        catalogue_synced_at.isoformat() if catalogue_synced_at else None,
    ]
    digest = hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()
    return f"search:v1:{digest}"


def _query_error_message(error):
    messages = {
        "invalid_query": _("Enter a query of 1 to 500 characters."),
        "unknown_source": _("Choose among the sources linked for your clinic."),
    }
    return messages.get(error.code) or _("Invalid search parameter: %(detail)s", detail=error.message)


def fetch_pubmed_abstract(pmid: str) -> str | None:
    """The abstract of one PubMed record (efetch), or None when it has none.

    Raises ``Invalid`` for a malformed PMID and ``UpstreamFailure`` (502) when
    PubMed cannot answer: a single record has no other source to fall back on.
    """
    try:
        return providers()["pubmed"].fetch_abstract(pmid)
    except QueryError as error:
        raise Invalid(_("A PMID is a number of up to 10 digits."), code=error.code, field="pmid") from None
    except UpstreamError as error:
        raise UpstreamFailure(
            _("PubMed could not answer: %(reason)s", reason=source_error_message(error.code)), code=error.code
        ) from None


# --- links -----------------------------------------------------------------------------------


def record_links(record: Mapping[str, Any], prefix: str | None = None) -> dict[str, str]:
    """Where a reader can open a result: the DOI (through the clinic's library
    proxy when one is set), the PubMed record and the full text where open."""
    links = {}
    if record.get("doi"):
        links["doi"] = proxied(DOI_RESOLVER + quote(record["doi"], safe="/"), prefix)
    if record.get("pmid"):
        links["pubmed"] = PUBMED_RECORD_URL.format(pmid=quote(record["pmid"], safe=""))
    if record.get("open_access") and record.get("url"):
        links["full_text"] = record["url"]
    return links


def proxied(url: str, prefix: str | None) -> str:
    """``url`` through a library proxy: a prefix ending in "=" (``…/login?url=``)
    takes the address as an encoded parameter, any other is simply prepended."""
    if not prefix:
        return url
    return prefix + quote(url, safe="") if prefix.endswith("=") else prefix + url


def valid_web_url(value: str | None, field: str) -> str:
    """`value` if it is an http(s) address with a host, else the field's error."""
    value = (value or "").strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Invalid(_("Enter an address starting with https:// or http://."), code="invalid_url", field=field)
    return value


def set_link_prefix(actor: Actor, clinic: Clinic, prefix: str | None, *, now: datetime) -> None:
    """Set (or with an empty value clear) the clinic's library proxy prefix."""
    require(can_administer_clinic(actor, clinic.id))
    prefix = valid_web_url(prefix, "link_prefix") if (prefix or "").strip() else None
    settings = db.session.get(ClinicSearchSettings, clinic.id) or ClinicSearchSettings(clinic_id=clinic.id)
    settings.link_prefix = prefix
    db.session.add(settings)
    db.session.flush()
    _settings_changed(clinic.id)
    audit.record(
        "search.link_prefix_set",
        actor=actor,
        clinic_id=clinic.id,
        details={"link_prefix": prefix, "at": now.isoformat()},
    )


# --- linked resources ----------------------------------------------------------------------


def linked_resources(clinic_id: int | None) -> list[LinkedResource]:
    if clinic_id is None:
        return []
    return list(
        db.session.scalars(
            select(LinkedResource).where(LinkedResource.clinic_id == clinic_id).order_by(LinkedResource.name)
        )
    )


def add_linked_resource(
    actor: Actor, clinic: Clinic, *, name: str, url: str, description: str = "", access_note: str = "", now: datetime
) -> LinkedResource:
    """Add a resource to the clinic's list (admins of the clinic only); names are unique per clinic."""
    require(can_administer_clinic(actor, clinic.id))
    name = (name or "").strip()
    if not name:
        raise Invalid(_("Enter a name."), code="missing_field", field="name")
    if db.session.scalar(
        select(LinkedResource.id).where(LinkedResource.clinic_id == clinic.id, LinkedResource.name == name)
    ):
        raise Conflict(_("A resource with this name is already listed."), code="duplicate_name", field="name")
    resource = LinkedResource(
        clinic_id=clinic.id,
        name=name,
        url=valid_web_url(url, "url"),
        description=(description or "").strip(),
        access_note=(access_note or "").strip(),
        created_at=now,
    )
    db.session.add(resource)
    db.session.flush()
    audit.record("search.resource_added", actor=actor, clinic_id=clinic.id, obj=resource, details={"name": name})
    return resource


def delete_linked_resource(actor: Actor, resource: LinkedResource) -> None:
    """Remove a resource from its clinic's list (admins of the clinic only)."""
    require(can_administer_clinic(actor, resource.clinic_id))
    audit.record(
        "search.resource_deleted",
        actor=actor,
        clinic_id=resource.clinic_id,
        obj=resource,
        details={"name": resource.name},
    )
    db.session.delete(resource)
    db.session.flush()


# --- usage statistics ----------------------------------------------------------------------


@dataclass(frozen=True)
class SourceUsage:
    month: str  # YYYY-MM in the clinic's time zone
    source: str
    searches: int
    cached: int
    errors: int
    median_latency_ms: int | None  # over answers that went to the upstream


def usage_statistics(clinic: Clinic, *, since: datetime, until: datetime) -> list[SourceUsage]:
    """Searches, cached answers, errors and median upstream latency per month
    and source for ``clinic``, between two aware datetimes, newest month first.

    Medians are computed here rather than in SQL: SQLite has no percentile
    function and PostgreSQL's differs, and one clinic's events of a few months
    are few enough to read.
    """
    usage.flush()
    rows = db.session.execute(
        select(SearchEvent.at, SearchEvent.source, SearchEvent.ok, SearchEvent.cached, SearchEvent.latency_ms).where(
            SearchEvent.clinic_id == clinic.id, SearchEvent.at >= since, SearchEvent.at < until
        )
    )
    tz = zone(clinic.timezone)
    groups = {}
    for at, source, ok, cached, latency_ms in rows:
        group = groups.setdefault(
            (at.astimezone(tz).strftime("%Y-%m"), source), {"searches": 0, "cached": 0, "errors": 0, "latencies": []}
        )
        group["searches"] += 1
        group["cached"] += cached
        group["errors"] += not ok
        if not cached:
            group["latencies"].append(latency_ms)
    order = {name: index for index, name in enumerate(SOURCE_NAMES)}
    return [
        SourceUsage(
            month,
            source,
            group["searches"],
            group["cached"],
            group["errors"],
            round(statistics.median(group["latencies"])) if group["latencies"] else None,
        )
        for (month, source), group in sorted(
            groups.items(),
            key=lambda item: ([-int(part) for part in item[0][0].split("-")], order.get(item[0][1], len(order))),
        )
    ]


def searches_by_clinic(clinic_ids: Collection[int], *, since: datetime, until: datetime) -> dict[int, tuple[int, int]]:
    """{clinic_id: (searches, errors)} between two aware datetimes, counted in the database: one
    row per source asked, as in usage_statistics (a search over four sources counts four)."""
    usage.flush()
    rows = db.session.execute(
        select(SearchEvent.clinic_id, func.count(), func.sum(case((SearchEvent.ok.is_(False), 1), else_=0)))
        .where(SearchEvent.clinic_id.in_(clinic_ids), SearchEvent.at >= since, SearchEvent.at < until)
        .group_by(SearchEvent.clinic_id)
    )
    return {clinic_id: (searches, int(errors or 0)) for clinic_id, searches, errors in rows}


def month_start(year: int, month: int, tz_name: str) -> datetime:
    """The first instant of a local month, as an aware datetime."""
    return datetime(year, month, 1, tzinfo=zone(tz_name))
