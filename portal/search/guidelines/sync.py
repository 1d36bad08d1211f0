"""The catalogue's sync jobs.

They end their own units of work (portal.core.transaction), as the worker
does: paging through the rubricator takes a while (a pause between pages), and
no database transaction may stay open meanwhile — on SQLite it would hold the
write lock. So a job claims the sync lease in one unit, fetches with no
transaction open, then applies the list (or records the failure) in another. A failed sync
leaves the catalogue exactly as it was.
"""

import logging
from datetime import timedelta

from flask import current_app

from portal.core import transaction
from portal.search.guidelines import catalogue
from portal.search.guidelines.upstream import SyncFailed, fetch_listing
from portal.search.providers.base import ProviderSettings

logger = logging.getLogger(__name__)

# Longer than any sync takes; a machine that died mid-sync blocks the next one at most this long.
LEASE = timedelta(hours=1)


def run_scheduled_sync(now):
    """The periodic worker's job: call it every few minutes on every machine.

    It syncs when the last success is GUIDELINES_SYNC_INTERVAL_HOURS old (a
    failed attempt is retried after GUIDELINES_SYNC_RETRY_MINUTES), and only
    one machine at a time. Returns the ``CatalogueChange``, or None when no
    sync was due or another machine has it; raises ``SyncFailed`` after
    recording the failure.
    """
    config = current_app.config
    with transaction.unit_of_work():
        claimed = catalogue.claim_sync(
            now=now,
            lease=LEASE,
            synced_before=now - timedelta(hours=float(config["GUIDELINES_SYNC_INTERVAL_HOURS"])),
            attempted_before=now - timedelta(minutes=float(config["GUIDELINES_SYNC_RETRY_MINUTES"])),
        )
    return _sync_claimed(now) if claimed else None


def sync_now(now):
    """``portal sync-guidelines``: sync at once unless another sync is running; raises ``SyncFailed``."""
    with transaction.unit_of_work():
        claimed = catalogue.claim_sync(now=now, lease=LEASE)
    if not claimed:
        raise SyncFailed("another sync of the catalogue is running; try again when it has finished")
    return _sync_claimed(now)


def upstream_settings(config):
    """How the sync reaches the rubricator: PORTAL_MINZDRAV_BASE_URL, with the portal's contact address."""
    return ProviderSettings(
        base_url=config["UPSTREAM_BASE_URLS"]["minzdrav"].rstrip("/"), contact_email=config.get("PORTAL_CONTACT_EMAIL")
    )


def _sync_claimed(now):
    config = current_app.config
    try:
        listing = fetch_listing(
            upstream_settings(config),
            page_size=int(config["GUIDELINES_SYNC_PAGE_SIZE"]),
            pause_seconds=float(config["GUIDELINES_SYNC_PAUSE_SECONDS"]),
            page_timeout=float(config["GUIDELINES_SYNC_PAGE_TIMEOUT_SECONDS"]),
        )
        with transaction.unit_of_work():
            change = catalogue.apply_listing(
                listing.items, complete=listing.complete, origin="upstream", now=now, holds_lease=True
            )
    except SyncFailed as failure:
        logger.warning("clinical-guidelines sync failed: %s", failure.message)
        with transaction.unit_of_work():
            catalogue.record_failure(failure.message, now=now)
        raise
    except Exception as exc:
        with transaction.unit_of_work():
            catalogue.record_failure(f"unexpected failure ({type(exc).__name__}); see the log", now=now)
        raise
    logger.info(
        "clinical-guidelines sync: %d listed, %d added, %d changed, %d removed",
        change.listed,
        change.added,
        change.changed,
        change.removed,
    )
    return change
