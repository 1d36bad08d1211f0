"""A doctor's reading list and its exports for reference managers (RIS, BibTeX).

Like every rule module, each function raises portal.core.errors on a broken rule and only flushes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from portal.core.errors import Invalid, NotFound
from portal.core.exports import one_line
from portal.core.permissions import Actor
from portal.extensions import db
from portal.search.guidelines import catalogue
from portal.search.models import SavedReference
from portal.search.providers import MinzdravProvider
from portal.search.services import valid_web_url
from portal.search.text import NAME_SUFFIXES


def reading_list(user: Actor) -> list[SavedReference]:
    return list(
        db.session.scalars(
            select(SavedReference)
            .where(SavedReference.user_id == user.id)
            .order_by(SavedReference.created_at.desc(), SavedReference.id.desc())
        )
    )


def save_reference(
    user: Actor,
    *,
    title: str | None,
    authors: Iterable[str] = (),
    journal: str | None = None,
    year: int | None = None,
    doi: str | None = None,
    pmid: str | None = None,
    url: str | None = None,
    source: str | None = None,
    source_id: str | None = None,
    now: datetime,
) -> SavedReference:
    """Keep a result on the user's reading list; saving the same work again
    (same DOI, else PMID, else source id) returns the entry already there.
    A clinical guideline is kept as the catalogue describes it, whatever the
    form carried."""
    if source == MinzdravProvider.name:
        return _save_guideline(user, source_id, now)
    title = " ".join((title or "").split())
    if not title:
        raise Invalid(_("A reference needs a title."), code="missing_field", field="title")
    doi = (doi or "").strip().lower() or None
    pmid = (pmid or "").strip() or None
    if pmid and not (pmid.isascii() and pmid.isdigit() and len(pmid) <= 10):
        raise Invalid(_("A PMID is a number of up to 10 digits."), code="invalid_field", field="pmid")
    if url:
        url = valid_web_url(url, "url")
    work_key = (
        f"doi:{doi}"
        if doi
        else f"pmid:{pmid}"
        if pmid
        else f"{source}:{source_id}"
        if source and source_id
        else f"title:{title.casefold()}"
    )[:300]
    existing = db.session.scalar(
        select(SavedReference).where(SavedReference.user_id == user.id, SavedReference.work_key == work_key)
    )
    if existing:
        return existing
    reference = SavedReference(
        user_id=user.id,
        work_key=work_key,
        title=title,
        authors=[str(author)[:200] for author in authors][:100],
        journal=(journal or "").strip()[:500] or None,
        year=year,
        doi=doi,
        pmid=pmid,
        url=url,
        note="",
        created_at=now,
    )
    db.session.add(reference)
    db.session.flush()
    return reference


def _save_guideline(user, code_version, now):
    guideline = catalogue.find_guideline(code_version or "")
    if guideline is None:
        raise Invalid(_("This clinical guideline is not in the catalogue."), code="not_found", field="source_id")
    work_key = f"{MinzdravProvider.name}:{guideline.code_version}"
    existing = db.session.scalar(
        select(SavedReference).where(SavedReference.user_id == user.id, SavedReference.work_key == work_key)
    )
    if existing:
        return existing
    record = catalogue.guideline_record(guideline)
    reference = SavedReference(
        user_id=user.id,
        work_key=work_key,
        kind="guideline",
        title=record.title,
        authors=list(record.authors),
        year=record.year,
        url=record.url,
        report_number=guideline.code_version,
        note="",
        created_at=now,
    )
    db.session.add(reference)
    db.session.flush()
    return reference


def get_reference(user: Actor, reference_id: int) -> SavedReference:
    """The user's own saved reference; anyone else's is not found."""
    reference = db.session.get(SavedReference, reference_id)
    if reference is None or reference.user_id != user.id:
        raise NotFound(_("Reference not found."))
    return reference


def update_note(user: Actor, reference: SavedReference, note: str | None) -> None:
    if reference.user_id != user.id:
        raise NotFound(_("Reference not found."))
    reference.note = (note or "").strip()
    db.session.flush()


def delete_reference(user: Actor, reference: SavedReference) -> None:
    if reference.user_id != user.id:
        raise NotFound(_("Reference not found."))
    db.session.delete(reference)
    db.session.flush()


# Guidelines are exported as reports (RIS RPRT, BibTeX @techreport) of the Ministry, numbered
# by their rubricator code and version, which is how reference managers file them.
GUIDELINE_INSTITUTION = "Министерство здравоохранения Российской Федерации"


GUIDELINE_REPORT_TYPE = "Клинические рекомендации"


def export_ris(references: Iterable[SavedReference]) -> str:
    """The references as RIS: articles as ``JOUR``, clinical guidelines as ``RPRT``; the note as ``N1``.
    Names are written "Surname, I. N., Suffix" as the RIS specification asks; every value on one
    line, since a line break would start a new tag (or end the record) in reference managers."""
    lines = []
    for reference in references:
        guideline = reference.kind == "guideline"
        fields = [("TY", "RPRT" if guideline else "JOUR"), ("TI", reference.title)]
        fields += [("AU", _ris_name(author)) for author in reference.authors]
        if guideline:
            fields += [("PB", GUIDELINE_INSTITUTION), ("M3", GUIDELINE_REPORT_TYPE), ("SN", reference.report_number)]
        fields += [
            ("JO", reference.journal),
            ("PY", reference.year),
            ("DO", reference.doi),
            ("AN", reference.pmid and f"PMID:{reference.pmid}"),
            ("UR", reference.url),
            ("N1", reference.note),
        ]
        lines += [f"{tag}  - {one_line(value)}" for tag, value in fields if value]
        lines += ["ER  - ", ""]
    return "\r\n".join(lines)


def export_bibtex(references: Iterable[SavedReference]) -> str:
    """The references as BibTeX with unique keys: articles as ``@article``, clinical guidelines
    as ``@techreport``. Names are written "Surname, I. N." so that reference managers tell the
    surname from the initials; organisations (a guideline's developers, a collective author)
    are braced so that no name is split."""
    entries = []
    for reference in references:
        guideline = reference.kind == "guideline"
        authors = " and ".join(
            "{" + _bibtex_escape(author) + "}" if guideline else _bibtex_name(author) for author in reference.authors
        )
        fields = [("title", _bibtex_escape(reference.title)), ("author", authors)]
        if guideline:
            fields += [
                ("institution", GUIDELINE_INSTITUTION),
                ("type", GUIDELINE_REPORT_TYPE),
                ("number", _bibtex_escape(reference.report_number)),
            ]
        fields += [
            (name, _bibtex_escape(value))
            for name, value in (
                ("journal", reference.journal),
                ("year", str(reference.year) if reference.year else None),
                ("doi", reference.doi),
                ("pmid", reference.pmid),
                ("url", reference.url),
                ("note", reference.note),
            )
            if value
        ]
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
        entries.append(f"@{'techreport' if guideline else 'article'}{{ref{reference.id},\n{body}\n}}\n")
    return "\n".join(entries)


@dataclass(frozen=True)
class _PersonName:
    surname: str
    initials: str  # "J. R."
    suffix: str  # "Jr", or ""


def _person_name(author):
    """A saved author ("Smith JR", "van der Meer L", "Smith JR Jr", as PubMed writes them) taken
    apart; None for a name without initials, e.g. a collective author."""
    tokens = one_line(author).split()
    suffix = tokens.pop().rstrip(".") if len(tokens) > 2 and tokens[-1].lower() in NAME_SUFFIXES else ""
    if len(tokens) < 2 or not (tokens[-1].isalpha() and tokens[-1].isupper()):
        return None
    return _PersonName(" ".join(tokens[:-1]), " ".join(f"{letter}." for letter in tokens[-1]), suffix)


def _ris_name(author):
    name = _person_name(author)
    if name is None:
        return author
    return ", ".join(part for part in (name.surname, name.initials, name.suffix) if part)


def _bibtex_name(author):
    name = _person_name(author)
    if name is None:
        return "{" + _bibtex_escape(author) + "}"
    return ", ".join(_bibtex_escape(part) for part in (name.surname, name.suffix, name.initials) if part)


_BIBTEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "%": r"\%",
    "&": r"\&",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def _bibtex_escape(text):
    return "".join(_BIBTEX_SPECIALS.get(ch, ch) for ch in one_line(text))
