"""Standardised assessment results of a child, and the organisation's instrument list."""

from datetime import date
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user

from homeprogram.access_control import admin_required, staff_required
from homeprogram.blueprints.assessments.forms import InstrumentForm, ResultForm
from homeprogram.blueprints.auth.forms import ConfirmForm
from homeprogram.blueprints.progress import charts
from homeprogram.extensions import db
from homeprogram.models import Child, Instrument
from homeprogram.models.base import utcnow
from homeprogram.services import access, adherence, assessments, instruments
from homeprogram.services.errors import NotFound, ValidationFailed
from homeprogram.web import actor, apply_errors, child_or_404, render

bp = Blueprint("assessments", __name__)


def _child_today(child: Child) -> date:
    return adherence.local_today(child.timezone, utcnow())


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


# --- a child's results -------------------------------------------------------------------


def _result_form(child: Child, formdata: bool = True) -> ResultForm:
    form = ResultForm() if formdata else ResultForm(formdata=None, taken_on=_child_today(child))
    form.instrument_id.choices = [("", gettext("Choose an instrument"))] + [
        (i.id, i.name) for i in instruments.active(db.session, child.organization_id)
    ]
    return form


def _results_page(child: Child, form: ResultForm, status: int = 200):
    s = db.session
    results = assessments.results_of(s, child.id)
    groups = [g for g in assessments.series(results) if len(g.results) >= 2]
    return render(
        "assessments/results.html",
        child=child,
        results=results,
        baselines=assessments.baseline_result_ids(s, child.id),
        groups=[(g, charts.line_chart(g.points)) for g in groups],
        form=form,
        has_instruments=len(form.instrument_id.choices) > 1,
        confirm=ConfirmForm(formdata=None),
        score_type_name=assessments.score_type_name,
        format_value=assessments.format_value,
    ), status


@bp.get("/children/<int:child_id>/assessments")
@staff_required
def results(child_id: int):
    grant = child_or_404(child_id, access.STAFF_ROLES, audit_read=True)
    return _results_page(grant.child, _result_form(grant.child, formdata=False))


@bp.post("/children/<int:child_id>/assessments")
@staff_required
def add_result(child_id: int):
    grant = child_or_404(child_id, access.STAFF_ROLES)
    child = grant.child
    form = _result_form(child)
    s = db.session
    if form.validate_on_submit():
        try:
            assessments.add_result(
                s,
                actor(),
                child,
                instrument_id=form.instrument_id.data,
                taken_on=form.taken_on.data,
                score_type=form.score_type.data,
                value=_float(form.value.data),
                subtest=form.subtest.data or "",
                notes=form.notes.data or "",
                today=_child_today(child),
            )
        except ValidationFailed as failed:
            s.rollback()
            apply_errors(form, failed.errors)
        else:
            s.commit()
            flash(gettext("Result saved."), "success")
            return redirect(url_for("assessments.results", child_id=child_id))
    return _results_page(child, form, 400)


@bp.post("/children/<int:child_id>/assessments/<int:result_id>/delete")
@staff_required
def delete_result(child_id: int, result_id: int):
    child_or_404(child_id, access.STAFF_ROLES)
    s = db.session
    try:
        result = assessments.result_of(s, child_id, result_id)
    except NotFound:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    unlinked = assessments.delete_result(s, actor(), result)
    s.commit()
    message = gettext("Result deleted.")
    if unlinked:
        message += " " + ngettext(
            "It was the baseline result of a goal: the goal keeps its numbers.",
            "It was the baseline result of %(num)d goals: the goals keep their numbers.",
            unlinked,
        )
    flash(message, "info")
    return redirect(url_for("assessments.results", child_id=child_id))


# --- the organisation's instrument list (admins) -----------------------------------------


def _instrument_or_404(instrument_id: int) -> Instrument:
    try:
        return instruments.instrument_of(db.session, current_user.organization_id, instrument_id)
    except NotFound:
        abort(404)


def _rename_form(instrument: Instrument, formdata: bool = False) -> InstrumentForm:
    prefix = f"i{instrument.id}"
    if formdata:
        return InstrumentForm(prefix=prefix)
    return InstrumentForm(formdata=None, prefix=prefix, name=instrument.name)


def _instruments_page(
    add_form: InstrumentForm,
    renamed: tuple[int, InstrumentForm] | None = None,
    status: int = 200,
):
    items = instruments.all_of(db.session, current_user.organization_id)
    forms = {i.id: _rename_form(i) for i in items}
    if renamed is not None:
        forms[renamed[0]] = renamed[1]
    return render(
        "assessments/instruments.html",
        items=items,
        forms=forms,
        add_form=add_form,
        confirm=ConfirmForm(formdata=None),
    ), status


@bp.route("/organization/instruments", methods=["GET", "POST"])
@admin_required
def instruments_list():
    """The list (GET) and adding a name to it (POST)."""
    if request.method == "GET":
        return _instruments_page(InstrumentForm(formdata=None))
    form = InstrumentForm()
    s = db.session
    if form.validate_on_submit():
        try:
            instrument = instruments.add(
                s, actor(), current_user.organization_id, form.name.data or ""
            )
        except ValidationFailed as failed:
            s.rollback()
            apply_errors(form, failed.errors)
        else:
            s.commit()
            flash(gettext("“%(name)s” added.", name=instrument.name), "success")
            return redirect(url_for("assessments.instruments_list"))
    return _instruments_page(form, status=400)


@bp.post("/organization/instruments/<int:instrument_id>/rename")
@admin_required
def rename_instrument(instrument_id: int):
    instrument = _instrument_or_404(instrument_id)
    form = _rename_form(instrument, formdata=True)
    s = db.session
    if form.validate_on_submit():
        try:
            instruments.rename(s, actor(), instrument, form.name.data or "")
        except ValidationFailed as failed:
            s.rollback()
            apply_errors(form, failed.errors)
        else:
            s.commit()
            flash(gettext("Renamed to “%(name)s”.", name=instrument.name), "success")
            return redirect(url_for("assessments.instruments_list"))
    return _instruments_page(
        InstrumentForm(formdata=None), renamed=(instrument_id, form), status=400
    )


@bp.post("/organization/instruments/<int:instrument_id>/archive")
@admin_required
def archive_instrument(instrument_id: int):
    instrument = _instrument_or_404(instrument_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    instruments.archive(db.session, actor(), instrument)
    db.session.commit()
    flash(
        gettext(
            "“%(name)s” is archived: its results stay, new results cannot use it.",
            name=instrument.name,
        ),
        "info",
    )
    return redirect(url_for("assessments.instruments_list"))


@bp.post("/organization/instruments/<int:instrument_id>/restore")
@admin_required
def restore_instrument(instrument_id: int):
    instrument = _instrument_or_404(instrument_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    instruments.restore(db.session, actor(), instrument)
    db.session.commit()
    flash(gettext("“%(name)s” is back in the list.", name=instrument.name), "success")
    return redirect(url_for("assessments.instruments_list"))
