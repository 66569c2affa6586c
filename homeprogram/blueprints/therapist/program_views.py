"""Home programs on the child page: activity picker, prescribing, changes, notes, templates,
the printable handout. Every child-scoped view goes through ``child_or_404`` (staff only)."""

import re
from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from homeprogram import languages
from homeprogram.access_control import staff_required
from homeprogram.blueprints.auth.forms import ConfirmForm
from homeprogram.blueprints.therapist import child_header
from homeprogram.blueprints.therapist.forms import (
    ApplyTemplateForm,
    AssignmentForm,
    ChangeForm,
    DayForm,
    InviteForm,
    NoteForm,
    PrescriptionForm,
    TemplateRenameForm,
    TemplateSaveForm,
)
from homeprogram.extensions import db
from homeprogram.inputs import parse_id
from homeprogram.models import Activity, Assignment, Child
from homeprogram.models.base import utcnow
from homeprogram.services import (
    access,
    children,
    invites,
    levels,
    library,
    programs,
    safety,
    schedule,
)
from homeprogram.services import templates as program_templates
from homeprogram.services.errors import NotFound, ValidationFailed
from homeprogram.web import actor, apply_errors, child_or_404, render

bp = Blueprint("programs", __name__)

PICKER_LIMIT = 24
LIMITS = (programs.MAX_ACTIVITIES_PER_DAY, programs.MAX_MINUTES_PER_DAY)
DEFAULT_DAYS = [0, 1, 2, 3, 4]  # school days: a lighter default than every day


@bp.app_template_global()
def weekday_names(width: str = "abbreviated") -> list[str]:
    names = get_locale().days["format"][width]  # type: ignore[union-attr]
    return [names[i] for i in range(7)]  # Babel counts Monday as 0, like date.weekday()


@bp.app_template_global()
def anchor_label(anchor: str) -> str:
    labels = {
        "": _("Any time of day"),
        "morning": _("Morning"),
        "after_school": _("After school"),
        "after_dinner": _("After dinner"),
        "bath_time": _("Bath time"),
        "bedtime": _("Bedtime"),
    }
    return labels.get(anchor, anchor)


def today_for(child: Child) -> date:
    """The child's local date: the day that counts for their program."""
    return schedule.local_date(utcnow(), child.timezone)


def _grant(child_id: int) -> access.ChildAccess:
    return child_or_404(child_id, access.STAFF_ROLES)


def _assignment(grant: access.ChildAccess, assignment_id: int) -> Assignment:
    try:
        return programs.get_assignment(db.session, grant.child.id, assignment_id)
    except NotFound:
        abort(404)


def _program_url(child_id: int) -> str:
    return url_for("therapist.child", child_id=child_id, _anchor="program")


# The child page --------------------------------------------------------------------------


def child_page(
    grant: access.ChildAccess,
    *,
    invite_form: InviteForm | None = None,
    note_form: NoteForm | None = None,
    save_form: TemplateSaveForm | None = None,
    apply_form: ApplyTemplateForm | None = None,
    action_error: str | None = None,
    status: int = 200,
) -> Any:
    s = db.session
    child = grant.child
    today = today_for(child)
    program = programs.program(s, child.id, today)
    if apply_form is None:
        apply_form = ApplyTemplateForm(formdata=None, start_date=today, prefix="apply")
    if save_form is None:
        save_form = TemplateSaveForm(formdata=None)
        save_form.assignment_ids.data = [i.assignment.id for i in program.current]
    save_form.assignment_ids.choices = [
        (i.assignment.id, i.assignment.activity.title) for i in program.current
    ]
    return render(
        "therapist/child.html",
        child=child,
        grant=grant,
        today=today,
        program=program,
        head=child_header.header(s, child, today),
        glance=child_header.glances(s, child, program.current, today),
        level_suggestions={
            found.assignment_id: found
            for found in levels.suggestions(s, [child.id], today).get(child.id, [])
        },
        history=programs.history,
        estimate=programs.program_estimate(s, child.id, today),
        limits=LIMITS,
        picker_q="",
        picker_results=library.search(s, child.organization_id, limit=PICKER_LIMIT),
        notes=programs.recent_notes(s, child.id),
        note_form=note_form or NoteForm(formdata=None),
        templates=program_templates.list_templates(s, child.organization_id),
        apply_form=apply_form,
        save_form=save_form,
        day_form=DayForm(formdata=None),
        action_error=action_error,
        team=children.care_team(s, child.id),
        open_invites=invites.open_invites(s, child.organization_id, child.id, utcnow()),
        invite_form=invite_form or InviteForm(formdata=None),
        confirm=ConfirmForm(),
    ), status


@bp.get("/children/<int:child_id>/program/picker")
@staff_required
def picker(child_id: int):
    """Search-as-you-type in the library; the fragment is the result list."""
    grant = _grant(child_id)
    query = request.args.get("q", "")[:100]
    results = library.search(
        db.session, grant.child.organization_id, query=query, limit=PICKER_LIMIT
    )
    return render(
        "therapist/picker.html",
        "therapist/partials/picker_results.html",
        child=grant.child,
        picker_q=query,
        picker_results=results,
    )


# Adding an activity ----------------------------------------------------------------------

_DOSE = re.compile(r"^\s*(\d{1,3})\s*(reps?|repetitions?|times|minutes?|mins?)\b", re.IGNORECASE)


def _prefill(form: AssignmentForm, activity: Activity, today: date) -> None:
    """Start from the library's suggested dose, so most adds are one click."""
    form.activity_id.data = str(activity.id)
    form.start_date.data = today
    form.days_of_week.data = list(DEFAULT_DAYS)
    form.times_per_day.data = 1
    form.minutes_per_session.data = activity.default_minutes
    form.setting.data = "home"
    form.measure_direction.data = "higher"
    form.level.data = "standard"
    match = _DOSE.match(activity.default_dose or "")
    if match:
        form.dose_amount.data = int(match.group(1))
        form.dose_unit.data = "minutes" if match.group(2).lower().startswith("min") else "reps"
    elif activity.default_dose:
        form.dose_unit.data, form.dose_text.data = "text", activity.default_dose
    else:
        form.dose_unit.data, form.dose_amount.data = "minutes", activity.default_minutes


def _prescription(form: PrescriptionForm, start: date | None) -> programs.Prescription:
    return programs.Prescription(
        dose_unit=form.dose_unit.data or "",
        dose_amount=form.dose_amount.data,
        dose_text=form.dose_text.data or "",
        minutes_per_session=form.minutes_per_session.data,
        days_of_week=list(form.days_of_week.data or []),
        times_per_day=form.times_per_day.data,
        start_date=start,
        end_date=form.end_date.data,
        setting=form.setting.data or "",
        anchor=form.anchor_value(),
        caregiver_note=form.caregiver_note.data or "",
        measure_name=form.measure_name.data or "",
        measure_unit=form.measure_unit.data or "",
        measure_higher_is_better=form.measure_direction.data != "lower",
        level=form.level.data or None,
    )


def _level_help(form: PrescriptionForm, activity: Activity | None, level: str) -> None:
    """The activity's variations under the level choice (what the family will read)."""
    form.level.data = form.level.data or level
    if activity is None:
        return
    parts = []
    if activity.easier:
        parts.append(_("Easier: %(text)s", text=activity.easier))
    if activity.harder:
        parts.append(_("Harder: %(text)s", text=activity.harder))
    form.level.description = " · ".join(parts) or _(
        "This activity has no easier or harder variation: it is done as written."
    )


def _activity_or_none(child: Child, raw: object) -> Activity | None:
    activity_id = parse_id(raw)
    if activity_id is None:
        return None
    try:
        return library.get_visible(db.session, child.organization_id, activity_id)
    except NotFound:
        return None


def _estimate_with(
    child: Child, form: PrescriptionForm, start: date, replacing: int | None = None
) -> tuple[programs.Estimate, bool]:
    """The program's load with the form's activity in it; True when the form is incomplete."""
    prescription = _prescription(form, start)
    candidate = None
    if not programs.validate(prescription, earliest_start=None):
        candidate = programs.preview_assignment(child, None, prescription)
    estimate = programs.program_estimate(
        db.session, child.id, today_for(child), candidate=candidate, replacing=replacing
    )
    return estimate, candidate is None


def _assignment_form_page(
    child: Child, form: AssignmentForm, activity: Activity | None, status: int = 200
) -> Any:
    estimate, incomplete = _estimate_with(child, form, form.start_date.data or today_for(child))
    today = today_for(child)
    _level_help(form, activity, "standard")
    return render(
        "therapist/assignment_form.html",
        "therapist/partials/assignment_form.html",
        child=child,
        form=form,
        activity=activity,
        warnings=safety.warnings_for(activity, child, today) if activity else [],
        child_age=safety.age_in_years(child, today),
        estimate=estimate,
        incomplete=incomplete,
        preview=True,
        limits=LIMITS,
    ), status


@bp.get("/children/<int:child_id>/program/add")
@staff_required
def add_activity_form(child_id: int):
    grant = _grant(child_id)
    activity = _activity_or_none(grant.child, request.args.get("activity_id"))
    if activity is None or activity.archived_at is not None:
        abort(404)
    form = AssignmentForm(formdata=None)
    _prefill(form, activity, today_for(grant.child))
    return _assignment_form_page(grant.child, form, activity)


@bp.post("/children/<int:child_id>/program")
@staff_required
def add_activity(child_id: int):
    grant = _grant(child_id)
    child = grant.child
    form = AssignmentForm()
    activity = _activity_or_none(child, form.activity_id.data)
    s = db.session
    if form.validate_on_submit():
        try:
            assignment = programs.create_assignment(
                s,
                actor(),
                child,
                activity.id if activity else None,
                _prescription(form, form.start_date.data),
                today=today_for(child),
                warnings_confirmed=bool(form.confirm_suitability.data),
            )
        except ValidationFailed as failed:
            s.rollback()
            apply_errors(form, failed.errors)
        else:
            s.commit()
            flash(_("%(title)s was added.", title=assignment.activity.title), "success")
            return redirect(_program_url(child_id))
    return _assignment_form_page(child, form, activity, 400)


@bp.post("/children/<int:child_id>/program/estimate")
@staff_required
def estimate_preview(child_id: int):
    """The load with the activity being edited, recomputed as the form changes (htmx)."""
    grant = _grant(child_id)
    child = grant.child
    today = today_for(child)
    replacing = request.form.get("assignment_id", type=int)
    if replacing is not None:
        change = ChangeForm()
        form: PrescriptionForm = change
        start = change.effective_date.data or today
    else:
        add = AssignmentForm()
        form, start = add, add.start_date.data or today
    estimate, incomplete = _estimate_with(child, form, start, replacing)
    return render(
        "therapist/partials/estimate.html",
        estimate=estimate,
        preview=True,
        incomplete=incomplete,
        limits=LIMITS,
    )


# Changing, pausing, resuming, ending -----------------------------------------------------


@bp.route("/children/<int:child_id>/program/<int:assignment_id>/edit", methods=["GET", "POST"])
@staff_required
def change_activity(child_id: int, assignment_id: int):
    grant = _grant(child_id)
    child = grant.child
    assignment = _assignment(grant, assignment_id)
    today = today_for(child)
    s = db.session
    if request.method == "GET":
        form = ChangeForm(formdata=None, obj=assignment)
        form.fill_anchor(assignment.anchor)
        form.measure_direction.data = (
            "lower" if assignment.measure_higher_is_better is False else "higher"
        )
        form.effective_date.data = max(today, assignment.start_date)
    else:
        form = ChangeForm()
    if form.validate_on_submit():
        try:
            current = programs.change_assignment(
                s,
                actor(),
                assignment,
                _prescription(form, None),
                effective=form.effective_date.data or today,
                today=today,
            )
        except ValidationFailed as failed:
            s.rollback()
            apply_errors(form, failed.errors)
        else:
            s.commit()
            flash(_("%(title)s was changed.", title=current.activity.title), "success")
            return redirect(_program_url(child_id))
    status = 400 if form.errors or form.form_errors else 200
    estimate, incomplete = _estimate_with(
        child, form, form.effective_date.data or today, assignment.id
    )
    _level_help(form, assignment.activity, assignment.level)
    return render(
        "therapist/change_form.html",
        child=child,
        assignment=assignment,
        form=form,
        estimate=estimate,
        incomplete=incomplete,
        preview=True,
        limits=LIMITS,
    ), status


def _day_action(child_id: int, assignment_id: int, action: str) -> Any:
    grant = _grant(child_id)
    assignment = _assignment(grant, assignment_id)
    form = DayForm()
    if not form.validate_on_submit():
        message = " ".join(form.day.errors) or _("The form was incomplete.")
        return child_page(grant, action_error=message, status=400)
    today = today_for(grant.child)
    day = form.day.data or today
    s = db.session
    try:
        if action == "pause":
            programs.pause_assignment(s, actor(), assignment, from_day=day, today=today)
            done = _("%(title)s is paused.", title=assignment.activity.title)
        elif action == "resume":
            programs.resume_assignment(s, actor(), assignment, on=day, today=today)
            done = _("%(title)s is back in the program.", title=assignment.activity.title)
        else:
            title = assignment.activity.title
            programs.end_assignment(s, actor(), assignment, last_day=day, today=today)
            done = _("%(title)s was ended.", title=title)
    except ValidationFailed as failed:
        s.rollback()
        return child_page(grant, action_error=" ".join(failed.errors.values()), status=400)
    s.commit()
    flash(done, "success")
    return redirect(_program_url(child_id))


@bp.post("/children/<int:child_id>/program/<int:assignment_id>/pause")
@staff_required
def pause_activity(child_id: int, assignment_id: int):
    return _day_action(child_id, assignment_id, "pause")


@bp.post("/children/<int:child_id>/program/<int:assignment_id>/resume")
@staff_required
def resume_activity(child_id: int, assignment_id: int):
    return _day_action(child_id, assignment_id, "resume")


@bp.post("/children/<int:child_id>/program/<int:assignment_id>/end")
@staff_required
def end_activity(child_id: int, assignment_id: int):
    return _day_action(child_id, assignment_id, "end")


# Coaching notes --------------------------------------------------------------------------


@bp.post("/children/<int:child_id>/notes")
@staff_required
def create_note(child_id: int):
    grant = _grant(child_id)
    form = NoteForm()
    s = db.session
    if form.validate_on_submit():
        try:
            programs.create_note(s, actor(), grant.child.id, form.body.data or "")
        except ValidationFailed as failed:
            s.rollback()
            apply_errors(form, failed.errors)
        else:
            s.commit()
            flash(_("The note was sent to the family."), "success")
            return redirect(url_for("therapist.child", child_id=child_id, _anchor="notes"))
    return child_page(grant, note_form=form, status=400)


# Templates -------------------------------------------------------------------------------


@bp.post("/children/<int:child_id>/templates")
@staff_required
def save_template(child_id: int):
    """Save the child's current program (or the ticked activities) as a named template."""
    grant = _grant(child_id)
    child = grant.child
    form = TemplateSaveForm()
    s = db.session
    today = today_for(child)
    current = {i.assignment.id: i.assignment for i in programs.program(s, child.id, today).current}
    form.assignment_ids.choices = [(a.id, a.activity.title) for a in current.values()]
    if form.validate_on_submit():
        chosen = [current[i] for i in form.assignment_ids.data or [] if i in current]
        try:
            template = program_templates.save_template(
                s,
                actor(),
                organization_id=child.organization_id,
                name=form.name.data or "",
                assignments=chosen,
            )
        except ValidationFailed as failed:
            s.rollback()
            apply_errors(form, failed.errors)
        else:
            s.commit()
            flash(_("Saved as the template “%(name)s”.", name=template.name), "success")
            return redirect(url_for("therapist.child", child_id=child_id, _anchor="templates"))
    return child_page(grant, save_form=form, status=400)


@bp.post("/children/<int:child_id>/templates/apply")
@staff_required
def apply_template(child_id: int):
    grant = _grant(child_id)
    child = grant.child
    form = ApplyTemplateForm(prefix="apply")
    s = db.session
    today = today_for(child)
    valid = form.validate_on_submit()
    if form.template_id.errors:
        abort(404)  # no template has that id (a number no id column holds, or not a number)
    if valid:
        try:
            template = program_templates.get_template(
                s, child.organization_id, form.template_id.data or 0
            )
        except NotFound:
            abort(404)
        try:
            applied = program_templates.apply_template(
                s,
                actor(),
                template,
                child,
                start_date=form.start_date.data or today,
                today=today,
            )
        except ValidationFailed as failed:
            s.rollback()
            apply_errors(form, failed.errors)
        else:
            s.commit()
            flash(
                _(
                    "“%(name)s” added %(n)d activities.",
                    name=template.name,
                    n=len(applied.created),
                ),
                "success",
            )
            if applied.skipped:
                flash(
                    _("Left out (archived): %(titles)s", titles=", ".join(applied.skipped)),
                    "info",
                )
            return redirect(_program_url(child_id))
    return child_page(grant, apply_form=form, status=400)


@bp.get("/templates")
@staff_required
def templates():
    return render(
        "therapist/templates.html",
        templates=program_templates.list_templates(db.session, current_user.organization_id),
        rename_form=TemplateRenameForm(formdata=None),
        confirm=ConfirmForm(),
    )


def _template_or_404(template_id: int):
    try:
        return program_templates.get_template(db.session, current_user.organization_id, template_id)
    except NotFound:
        abort(404)


@bp.get("/templates/<int:template_id>")
@staff_required
def template_detail(template_id: int):
    template = _template_or_404(template_id)
    form = TemplateRenameForm(formdata=None, name=template.name)
    return render("therapist/template.html", tpl=template, rename_form=form, confirm=ConfirmForm())


@bp.post("/templates/<int:template_id>/rename")
@staff_required
def rename_template(template_id: int):
    template = _template_or_404(template_id)
    form = TemplateRenameForm()
    s = db.session
    if form.validate_on_submit():
        try:
            program_templates.rename_template(s, actor(), template, form.name.data or "")
        except ValidationFailed as failed:
            s.rollback()
            template = _template_or_404(template_id)
            apply_errors(form, failed.errors)
        else:
            s.commit()
            flash(_("Renamed."), "success")
            return redirect(url_for("programs.template_detail", template_id=template_id))
    return render(
        "therapist/template.html", tpl=template, rename_form=form, confirm=ConfirmForm()
    ), 400


@bp.post("/templates/<int:template_id>/delete")
@staff_required
def delete_template(template_id: int):
    template = _template_or_404(template_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    name = template.name
    program_templates.delete_template(db.session, actor(), template)
    db.session.commit()
    flash(_("The template “%(name)s” was deleted.", name=name), "info")
    return redirect(url_for("programs.templates"))


# The printable handout -------------------------------------------------------------------


@bp.get("/children/<int:child_id>/handout")
@staff_required
def handout(child_id: int):
    """Large type, one or two pages: the home activities with steps, dose and days."""
    grant = _grant(child_id)
    child = grant.child
    today = today_for(child)
    program = programs.program(db.session, child.id, today)
    items = [
        item
        for item in program.current
        if item.assignment.setting in ("home", "both") and not item.paused
    ]
    # Printed in the family's language unless another is chosen on the page.
    languages.use_for_page(
        languages.supported_or_none(request.args.get("lang")) or child.family_language
    )
    return render(
        "therapist/handout.html",
        child=child,
        today=today,
        items=items,
        groups=programs.Program(current=items, ended=[]).by_anchor(),
    )
