"""Reading the rubricator's list call (``op=GetJsonClinrecsFilterV2``).

The call is undocumented. What is known of its answer: each item carries Id,
Name, NPC_approved, PublishDate as ``/Date(ms)/``, Code, Version, CodeVersion
("1059_1"), Status, ApplyStatus, AgeCategory (1 adults, 2 children, 3 both)
with AgeCategoryStr, ApplyStatusCalculated, Developers[] and Mkbs[] (recorded
answers). The items come in ``Data`` next to ``TotalRecords`` (as every
published client reads it; no envelope has been recorded). A saved list may
also have the shape ``{"total_count": …, "items": [...]}``, which is how a
published capture of the list was saved.

Anything else is a changed shape and raises ``ListingShapeError`` naming the
first problem: the catalogue is never updated from an answer half understood.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from portal.search.guidelines.models import AGE_ADULTS, AGE_BOTH, AGE_CHILDREN, APPLIES_NOW

CODE_VERSION = re.compile(r"^(\d{1,9})_(\d{1,9})$")
# ASP.NET's JSON dates: milliseconds since the epoch, optionally with an offset that does not change them.
ASPNET_DATE = re.compile(r"^/Date\((-?\d{1,15})(?:[+-]\d{4})?\)/$")
MAX_TITLE_LENGTH = 2000
MAX_NAME_LENGTH = 1000


class ListingShapeError(ValueError):
    """The answer is not a guideline list as the portal knows it."""


@dataclass(frozen=True)
class MkbCode:
    code: str
    name: str


@dataclass(frozen=True)
class ListedGuideline:
    """One item of the list, checked and in plain values."""

    code_version: str
    code: int
    version: int
    rubricator_id: int | None
    title: str
    age_category: int | None
    age_label: str | None
    status: int | None
    applies_now: bool
    council_approved: bool | None
    developers: tuple[str, ...]
    published_at: datetime | None
    mkb_codes: tuple[MkbCode, ...]


@dataclass(frozen=True)
class ListingPage:
    """The items of one answer and the total number of guidelines it says the list has
    (None when it does not say)."""

    items: tuple[ListedGuideline, ...]
    total: int | None


def parse_answer(data) -> ListingPage:
    """One list answer (decoded JSON) as checked items; raises ``ListingShapeError``."""
    if not isinstance(data, dict):
        raise ListingShapeError("the answer is not a JSON object")
    if "Data" in data:
        items, total_key = data["Data"], "TotalRecords"
    elif "items" in data:
        items, total_key = data["items"], "total_count"
    else:
        raise ListingShapeError("the answer has neither a Data nor an items list")
    if not isinstance(items, list):
        raise ListingShapeError("the list of guidelines is not a JSON array")
    total = data.get(total_key)
    if total is not None and not _is_int(total):
        raise ListingShapeError(f"{total_key} is not a number")
    return ListingPage(tuple(_item(item, number) for number, item in enumerate(items, start=1)), total)


def _item(item, number) -> ListedGuideline:
    def fail(problem):
        raise ListingShapeError(f"guideline {number} of the answer: {problem}")

    if not isinstance(item, dict):
        fail("not a JSON object")
    code_version = item.get("CodeVersion")
    match = CODE_VERSION.match(code_version) if isinstance(code_version, str) else None
    if match is None:
        fail("CodeVersion is missing or not of the form 1059_1")
    title = item.get("Name")
    if not isinstance(title, str) or not title.strip():
        fail(f"{code_version} has no Name")
    mkbs = item.get("Mkbs")
    if not isinstance(mkbs, list):
        fail(f"{code_version} has no Mkbs list")
    developers = item.get("Developers") or []
    if not isinstance(developers, list):
        fail(f"{code_version}: Developers is not a list")
    for key in ("Id", "Status", "AgeCategory", "ApplyStatusCalculated"):
        if item.get(key) is not None and not _is_int(item[key]):
            fail(f"{code_version}: {key} is not a number")
    if item.get("NPC_approved") is not None and not isinstance(item["NPC_approved"], bool):
        fail(f"{code_version}: NPC_approved is not true or false")
    age_category = item.get("AgeCategory")
    age_label = item.get("AgeCategoryStr")
    return ListedGuideline(
        code_version=code_version,
        code=int(match.group(1)),
        version=int(match.group(2)),
        rubricator_id=item.get("Id"),
        title=_plain(title, MAX_TITLE_LENGTH),
        age_category=age_category if age_category in (AGE_ADULTS, AGE_CHILDREN, AGE_BOTH) else None,
        age_label=_plain(age_label, 100) if isinstance(age_label, str) and age_label.strip() else None,
        status=item.get("Status"),
        applies_now=item.get("ApplyStatusCalculated") == APPLIES_NOW,
        council_approved=item.get("NPC_approved"),
        developers=tuple(_developer(developer, code_version, fail) for developer in developers),
        published_at=_published_at(item.get("PublishDate"), code_version, fail),
        mkb_codes=_mkb_codes(mkbs, code_version, fail),
    )


def _developer(developer, code_version, fail) -> str:
    name = developer.get("NkoName") if isinstance(developer, dict) else None
    if not isinstance(name, str) or not name.strip():
        fail(f"{code_version}: a developer has no NkoName")
    return _plain(name, MAX_NAME_LENGTH)


def _mkb_codes(mkbs, code_version, fail) -> tuple[MkbCode, ...]:
    codes: dict[str, MkbCode] = {}
    for mkb in mkbs:
        code = mkb.get("MkbCode") if isinstance(mkb, dict) else None
        if not isinstance(code, str) or not code.strip() or len(code.strip()) > 20:
            fail(f"{code_version}: an Mkbs entry has no MkbCode")
        name = mkb.get("MkbName")
        code = code.strip().upper()
        codes.setdefault(code, MkbCode(code, _plain(name, MAX_NAME_LENGTH) if isinstance(name, str) else ""))
    return tuple(codes.values())


def _published_at(value, code_version, fail) -> datetime | None:
    if value is None:
        return None
    match = ASPNET_DATE.match(value) if isinstance(value, str) else None
    if match is None:
        fail(f"{code_version}: PublishDate is not of the form /Date(milliseconds)/")
    return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _plain(text: str, limit: int) -> str:
    """One line of visible text: soft hyphens and other invisible format characters would split
    words for the search."""
    visible = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return " ".join(visible.split())[:limit]
