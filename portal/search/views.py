"""Search pages: the search itself, a PubMed record with its abstract, the
reading list with its exports, and the clinic admin's sources, resources,
link prefix and usage statistics."""

import json
from datetime import timedelta

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.clinics.models import Clinic
from portal.clinics.services import visible_clinics
from portal.core import transaction
from portal.core.db import utcnow
from portal.core.errors import DomainError, Invalid, NotFound
from portal.core.forms import ActionForm, run_action
from portal.core.permissions import can_administer_clinic, is_superadmin
from portal.core.time import to_local
from portal.core.urls import safe_next
from portal.extensions import db
from portal.search import bibliography, services
from portal.search.forms import (
    GuidelinesFileForm,
    LinkPrefixForm,
    NoteForm,
    ResourceForm,
    SaveReferenceForm,
    SearchForm,
    SourcesForm,
)
from portal.search.guidelines import catalogue
from portal.search.models import LinkedResource
from portal.search.providers import SOURCE_NAMES, MinzdravProvider
from portal.search.ratelimit import search_rate_limit

bp = Blueprint("search", __name__, template_folder="templates")

USAGE_MONTHS = 12
# A saved list of every guideline is a few megabytes.
MAX_GUIDELINES_FILE_BYTES = 50 * 1024 * 1024

# Only a filter the sources cannot apply is the reader's to fix; every other failure is theirs.
FILTER_ERRORS = {"unsupported_filter"}


def _search_trouble(data):
    """What the page says above the results when sources failed, or None:

    'filters' when the filters stopped every source; 'unreachable' when no scientific database answered (the
    portal's own copy of the clinical guidelines always does, so it does not count); 'partial' when those that
    answered found nothing, so "nothing found" would not be the whole truth.
    """
    sources = data["sources"]
    failed = {name: status for name, status in sources.items() if status["status"] != "ok"}
    if not failed:
        return None
    answered = [name for name, status in sources.items() if status["status"] == "ok"]
    if not answered and {status["error"]["code"] for status in failed.values()} <= FILTER_ERRORS:
        return "filters"
    if not [name for name in answered if name != MinzdravProvider.name]:
        return "unreachable"
    return None if data["results"] else "partial"


def _source_choices(names):
    return [(name, services.SOURCE_LABELS[name]) for name in names]


# --- search ------------------------------------------------------------------------------


@bp.get("/search")
@login_required
@search_rate_limit
def search_page():
    linked, prefix = services.search_settings(current_user.clinic_id)
    form = SearchForm(request.args)
    form.sources.choices = _source_choices(linked)
    outcome, error = None, None
    now = utcnow()
    # The query's rules (length, linked sources) are the service's, shown next to the box.
    if "q" in request.args and form.validate():
        try:
            outcome = services.search(
                current_user,
                q=form.q.data or "",
                sources=form.sources.data,
                page=form.page.data or 1,
                year_from=form.year_from.data,
                year_to=form.year_to.data,
                open_access=form.open_access.data,
                age_group=form.age_group.data or None,
                current_only=form.current_only.data,
                now=now,
            )
        except DomainError as exc:
            transaction.roll_back()
            error = exc
    if not form.sources.data:
        form.sources.data = list(linked)
    results = []
    if outcome:
        results = [
            dict(
                record,
                links=services.record_links(record, prefix),
                authors_json=json.dumps(record["authors"], ensure_ascii=False),
            )
            for record in outcome.data["results"]
        ]
    # The guidelines are searched in the portal's own catalogue: the page says how old it is.
    guidelines_status = services.guidelines_catalogue_status(now=now) if MinzdravProvider.name in linked else None
    return render_template(
        "search/search.html",
        form=form,
        error=error,
        outcome=outcome,
        results=results,
        guidelines_status=guidelines_status,
        trouble=_search_trouble(outcome.data) if outcome else None,
        labels=services.SOURCE_LABELS,
        error_labels=services.SOURCE_ERROR_LABELS,
        error_messages=services.SOURCE_ERROR_MESSAGES,
        save_form=SaveReferenceForm(),
        resources=services.linked_resources(current_user.clinic_id),
        page_url=lambda page: url_for("search.search_page", **{**request.args.to_dict(flat=False), "page": page}),
    )


@bp.get("/search/pubmed/<pmid>")
@login_required
@search_rate_limit
def pubmed_record(pmid):
    abstract, error = None, None
    try:
        abstract = services.fetch_pubmed_abstract(pmid)
    except DomainError as exc:
        if exc.status == 400:
            raise NotFound(_("Record not found.")) from None
        error = exc
    links = services.record_links({"pmid": pmid})
    return render_template("search/record.html", pmid=pmid, abstract=abstract, error=error, links=links)


# --- reading list ------------------------------------------------------------------------


@bp.get("/search/reading-list")
@login_required
def reading_list():
    references = bibliography.reading_list(current_user)
    _linked, prefix = services.search_settings(current_user.clinic_id)
    links = {
        reference.id: services.record_links({"doi": reference.doi, "pmid": reference.pmid}, prefix)
        for reference in references
    }
    return render_template(
        "search/reading_list.html", references=references, links=links, note_form=NoteForm(), action_form=ActionForm()
    )


@bp.post("/search/reading-list")
@login_required
def save_reference():
    form = SaveReferenceForm()
    back = safe_next(form.next.data) or url_for("search.reading_list")
    if not form.validate():
        flash(_("The result could not be saved."), "error")
        return redirect(back)
    try:
        authors = json.loads(form.authors.data or "[]")
        year = int(form.year.data) if form.year.data else None
    except ValueError:
        authors, year = None, None
    if not isinstance(authors, list):
        flash(_("The result could not be saved."), "error")
        return redirect(back)
    try:
        bibliography.save_reference(
            current_user,
            title=form.title.data,
            authors=authors,
            journal=form.journal.data,
            year=year,
            doi=form.doi.data,
            pmid=form.pmid.data,
            url=form.url.data,
            source=form.source.data,
            source_id=form.source_id.data,
            now=utcnow(),
        )
    except DomainError as exc:
        transaction.roll_back()
        flash(exc.message, "error")
        return redirect(back)
    flash(_("Saved to your reading list."), "success")
    return redirect(back)


@bp.post("/search/reading-list/<int:reference_id>/note")
@login_required
def update_note(reference_id):
    reference = bibliography.get_reference(current_user, reference_id)
    form = NoteForm()
    if form.validate():
        bibliography.update_note(current_user, reference, form.note.data)
        flash(_("Note saved."), "success")
    else:
        flash(_("The note is too long."), "error")
    return redirect(url_for("search.reading_list"))


@bp.post("/search/reading-list/<int:reference_id>/delete")
@login_required
def delete_reference(reference_id):
    reference = bibliography.get_reference(current_user, reference_id)
    return run_action(
        lambda: bibliography.delete_reference(current_user, reference),
        success_message=_("Removed from your reading list."),
        redirect_to=url_for("search.reading_list"),
    )


@bp.get("/search/reading-list.ris")
@login_required
def export_ris():
    return _download(
        bibliography.export_ris(bibliography.reading_list(current_user)),
        "application/x-research-info-systems",
        "reading-list.ris",
    )


@bp.get("/search/reading-list.bib")
@login_required
def export_bibtex():
    return _download(
        bibliography.export_bibtex(bibliography.reading_list(current_user)), "application/x-bibtex", "reading-list.bib"
    )


def _download(text, mimetype, filename):
    return Response(
        text,
        mimetype=f"{mimetype}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- administration ------------------------------------------------------------------------


def _administered_clinic():
    """The clinic whose search settings are managed: an admin's own clinic; a
    superadmin picks one with ?clinic_id= (None until picked)."""
    if is_superadmin(current_user):
        clinic_id = request.args.get("clinic_id", type=int)
        if clinic_id is None:
            return None
        clinic = db.session.get(Clinic, clinic_id)
    else:
        clinic = current_user.clinic
    if clinic is None or not can_administer_clinic(current_user, clinic.id):
        raise NotFound(_("Clinic not found."))
    return clinic


def _admin_page(clinic, **forms):
    linked, prefix = services.stored_search_settings(clinic.id)
    sources_form = forms.get("sources_form") or SourcesForm(formdata=None, sources=list(linked))
    sources_form.sources.choices = _source_choices(SOURCE_NAMES)
    return render_template(
        "search/admin.html",
        clinic=clinic,
        sources_form=sources_form,
        prefix_form=forms.get("prefix_form") or LinkPrefixForm(formdata=None, link_prefix=prefix or ""),
        resource_form=forms.get("resource_form") or ResourceForm(formdata=None),
        guidelines_form=forms.get("guidelines_form") or GuidelinesFileForm(formdata=None),
        guidelines_status=services.guidelines_catalogue_status(now=utcnow(), kept=False),
        resources=services.linked_resources(clinic.id),
        action_form=ActionForm(),
    )


def _clinic_picker(endpoint):
    clinics = visible_clinics(current_user)
    return render_template("search/pick_clinic.html", clinics=clinics, endpoint=endpoint)


def _back_to_admin(clinic):
    return redirect(url_for("search.admin", clinic_id=clinic.id if is_superadmin(current_user) else None))


def _admin_action(form_name, form, act):
    """Validate ``form``, run ``act`` and commit; on a rule error show the
    admin page again with the message next to the field."""
    clinic = _administered_clinic()
    if clinic is None:
        raise NotFound(_("Clinic not found."))
    if form.validate():
        try:
            act(clinic)
            flash(_("Saved."), "success")
            return _back_to_admin(clinic)
        except DomainError as exc:
            transaction.roll_back()
            field = getattr(form, exc.field, None) if exc.field else None
            if field is not None:
                field.errors = [*field.errors, exc.message]
            else:
                flash(exc.message, "error")
    return _admin_page(clinic, **{form_name: form}), 400


@bp.get("/search/admin")
@login_required
def admin():
    clinic = _administered_clinic()
    if clinic is None:
        return _clinic_picker("search.admin")
    return _admin_page(clinic)


@bp.post("/search/admin/sources")
@login_required
def admin_sources():
    form = SourcesForm()
    form.sources.choices = _source_choices(SOURCE_NAMES)
    return _admin_action(
        "sources_form",
        form,
        lambda clinic: services.set_linked_sources(current_user, clinic, form.sources.data, now=utcnow()),
    )


@bp.post("/search/admin/link-prefix")
@login_required
def admin_link_prefix():
    form = LinkPrefixForm()
    return _admin_action(
        "prefix_form",
        form,
        lambda clinic: services.set_link_prefix(current_user, clinic, form.link_prefix.data, now=utcnow()),
    )


@bp.post("/search/admin/resources")
@login_required
def admin_add_resource():
    form = ResourceForm()
    return _admin_action(
        "resource_form",
        form,
        lambda clinic: services.add_linked_resource(
            current_user,
            clinic,
            name=form.name.data,
            url=form.url.data,
            description=form.description.data,
            access_note=form.access_note.data,
            now=utcnow(),
        ),
    )


@bp.post("/search/admin/resources/<int:resource_id>/delete")
@login_required
def admin_delete_resource(resource_id):
    resource = db.session.get(LinkedResource, resource_id)
    if resource is None or not can_administer_clinic(current_user, resource.clinic_id):
        raise NotFound(_("Resource not found."))
    return run_action(
        lambda: services.delete_linked_resource(current_user, resource),
        success_message=_("Removed."),
        redirect_to=url_for("search.admin", clinic_id=resource.clinic_id if is_superadmin(current_user) else None),
    )


@bp.post("/search/admin/guidelines")
@login_required
def admin_load_guidelines():
    """Load the clinical-guidelines catalogue from a saved list (it serves every clinic: superadmins only)."""
    if not is_superadmin(current_user):
        raise NotFound(_("Not found."))
    clinic = _administered_clinic()
    if clinic is None:
        raise NotFound(_("Clinic not found."))
    form = GuidelinesFileForm()
    if form.validate():
        try:
            data = form.file.data.read(MAX_GUIDELINES_FILE_BYTES + 1)
            if len(data) > MAX_GUIDELINES_FILE_BYTES:
                raise Invalid(
                    _(
                        "The file is larger than %(megabytes)d MB.",
                        megabytes=MAX_GUIDELINES_FILE_BYTES // (1024 * 1024),
                    ),
                    code="too_large",
                    field="file",
                )
            change = catalogue.load_listing_file(current_user, data, now=utcnow())
        except DomainError as exc:
            transaction.roll_back()
            form.file.errors = [*form.file.errors, exc.message]
        else:
            flash(
                _(
                    "Clinical guidelines loaded: %(listed)d listed, %(added)d new, %(changed)d changed, "
                    "%(removed)d no longer listed.",
                    listed=change.listed,
                    added=change.added,
                    changed=change.changed,
                    removed=change.removed,
                ),
                "success",
            )
            return _back_to_admin(clinic)
    return _admin_page(clinic, guidelines_form=form), 400


@bp.get("/search/admin/usage")
@login_required
def admin_usage():
    clinic = _administered_clinic()
    if clinic is None:
        return _clinic_picker("search.admin_usage")
    now = utcnow()
    local_now = to_local(now, clinic.timezone)
    first = local_now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    for _month in range(USAGE_MONTHS - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    rows = services.usage_statistics(
        clinic, since=services.month_start(first.year, first.month, clinic.timezone), until=now + timedelta(seconds=1)
    )
    return render_template(
        "search/usage.html", clinic=clinic, rows=rows, labels=services.SOURCE_LABELS, months=USAGE_MONTHS
    )
