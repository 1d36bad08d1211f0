"""Search usage rows are written in batches, and every counted search reaches
the statistics: when the window passes, when a batch is full, when the
statistics are read and when the process exits."""

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.search.models import SearchEvent

from .portal_search_setup import SEARCH_PATHS, api, clinic_doctor, config_overrides, search_settings  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]
TWO_SOURCES = "/api/v1/search?q=cancer&sources=crossref,openalex"


def stored_rows():
    db.session.commit()  # a fresh look at what other transactions committed
    count = db.session.scalar(select(func.count()).select_from(SearchEvent))
    db.session.commit()  # SQLite: hold no lock while another process writes
    return count


@pytest.mark.parametrize("search_settings", [{"SEARCH_USAGE_FLUSH_SECONDS": 3600}])
def test_rows_wait_for_the_batch_and_still_show_in_the_statistics(
    client, auth, make_user, clinic_doctor, api, upstream, search_settings
):
    assert api.get(TWO_SOURCES).get_json()["cached"] is False
    assert api.get(TWO_SOURCES).get_json()["cached"] is True
    waiting = stored_rows()
    auth.login(make_user("admin", clinic=clinic_doctor.clinic))

    html = client.get("/search/admin/usage").get_data(as_text=True)

    assert waiting == 0
    crossref = re.search(r'data-source="crossref">(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r'<td class="text-end">([^<]*)</td>', crossref)[:3] == ["2", "1", "0"]
    assert stored_rows() == 4


@pytest.mark.parametrize("search_settings", [{"SEARCH_USAGE_FLUSH_SECONDS": 3600, "SEARCH_USAGE_BATCH_ROWS": 4}])
def test_a_full_batch_is_written_without_waiting(api, upstream, search_settings):
    api.get(TWO_SOURCES)
    after_one = stored_rows()
    api.get(TWO_SOURCES)

    assert after_one == 0
    assert stored_rows() == 4


@pytest.mark.parametrize("search_settings", [{"SEARCH_USAGE_FLUSH_SECONDS": 1}])
def test_rows_are_written_once_the_window_has_passed(api, upstream, search_settings):
    api.get(TWO_SOURCES)
    time.sleep(1.1)
    api.get(TWO_SOURCES)

    assert stored_rows() == 4


def test_waiting_rows_are_written_when_the_process_exits(app, database_url):
    db.session.commit()  # SQLite: the other process writes
    script = f"""
from portal import create_app
from portal.core.db import utcnow
from portal.extensions import db
from portal.search import usage
from tests.conftest import make_config

app = create_app(make_config({database_url!r}, SEARCH_USAGE_FLUSH_SECONDS=3600))
with app.app_context():
    usage.record([{{"clinic_id": None, "source": "crossref", "at": utcnow(), "ok": True, "error_code": None,
                   "latency_ms": 3, "cached": True}}])
    db.session.remove()
"""
    before = stored_rows()
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=60)

    assert stored_rows() == before + 1
