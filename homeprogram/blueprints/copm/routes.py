"""COPM: the family's occupational performance problems and their scores over time."""

from collections.abc import Sequence
from datetime import date

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import gettext

from homeprogram.access_control import staff_required
from homeprogram.blueprints.auth.forms import ConfirmForm
from homeprogram.blueprints.copm.forms import AssessmentForm, ProblemForm, assessment_form, ratings
from homeprogram.extensions import db
from homeprogram.models import Child, CopmAssessment, CopmProblem
from homeprogram.models.base import utcnow
from homeprogram.services import access, adherence, copm
from homeprogram.services.errors import NotFound, ValidationFailed
from homeprogram.web import actor, apply_errors, child_or_404, render

bp = Blueprint("copm", __name__)


def _child_today(child: Child) -> date:
    return adherence.local_today(child.timezone, utcnow())


def _page_url(child_id: int, anchor: str) -> str:
    return url_for("copm.page", child_id=child_id) + anchor


def _page(
    child: Child,
    *,
    problem_form: ProblemForm | None = None,
    edit_forms: dict[int, ProblemForm] | None = None,
    record_form: AssessmentForm | None = None,
    status: int = 200,
):
    data = copm.summary(db.session, child.id)
    edit_forms = edit_forms or {}
    return render(
        "copm/page.html",
        child=child,
        s=data,
        max_problems=copm.MAX_PROBLEMS,
        problem_form=problem_form or ProblemForm(formdata=None),
        edit_forms={
            p.id: edit_forms.get(p.id) or ProblemForm(formdata=None, obj=p, prefix=f"p{p.id}")
            for p in data.problems
        },
        record_form=_record_form(record_form, child, data.problems),
    ), status


def _record_form(
    form: AssessmentForm | None, child: Child, problems: Sequence[CopmProblem]
) -> AssessmentForm:
    if form is None:
        return assessment_form(problems, formdata=None, assessed_on=_child_today(child))
    if all(f"performance_{p.id}" in form for p in problems):
        return form
    # A problem was added meanwhile (another tab, a colleague): the form follows the current
    # list, keeping what was typed and the messages.
    fresh = assessment_form(problems)
    for name, f in fresh._fields.items():
        if name in form:
            f.errors = list(form[name].errors)
    fresh.form_errors.extend(form.form_errors)
    return fresh


def _problem_or_404(child_id: int, problem_id: int) -> CopmProblem:
    try:
        return copm.problem_of(db.session, child_id, problem_id)
    except NotFound:
        abort(404)


def _assessment_or_404(child_id: int, assessment_id: int) -> CopmAssessment:
    try:
        return copm.assessment_of(db.session, child_id, assessment_id)
    except NotFound:
        abort(404)


@bp.get("/children/<int:child_id>/copm")
@staff_required
def page(child_id: int):
    grant = child_or_404(child_id, access.STAFF_ROLES, audit_read=True)
    return _page(grant.child)


@bp.post("/children/<int:child_id>/copm/problems")
@staff_required
def add_problem(child_id: int):
    grant = child_or_404(child_id, access.STAFF_ROLES)
    form = ProblemForm()
    s = db.session
    if form.validate_on_submit():
        try:
            copm.add_problem(
                s,
                actor(),
                child_id=child_id,
                description=form.description.data or "",
                importance=form.importance.data,
            )
        except ValidationFailed as failed:
            s.rollback()
            apply_errors(form, failed.errors)
        else:
            s.commit()
            flash(gettext("Problem added."), "success")
            return redirect(_page_url(child_id, "#problems"))
    return _page(grant.child, problem_form=form, status=400)


@bp.post("/children/<int:child_id>/copm/problems/<int:problem_id>")
@staff_required
def update_problem(child_id: int, problem_id: int):
    grant = child_or_404(child_id, access.STAFF_ROLES)
    problem = _problem_or_404(child_id, problem_id)
    form = ProblemForm(prefix=f"p{problem_id}")
    s = db.session
    if form.validate_on_submit():
        try:
            copm.update_problem(
                s,
                actor(),
                problem,
                description=form.description.data or "",
                importance=form.importance.data,
            )
        except ValidationFailed as failed:
            s.rollback()
            apply_errors(form, failed.errors)
        else:
            s.commit()
            flash(gettext("Problem saved."), "success")
            return redirect(_page_url(child_id, "#problems"))
    return _page(grant.child, edit_forms={problem_id: form}, status=400)


@bp.post("/children/<int:child_id>/copm/problems/<int:problem_id>/archive")
@staff_required
def archive_problem(child_id: int, problem_id: int):
    child_or_404(child_id, access.STAFF_ROLES)
    problem = _problem_or_404(child_id, problem_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    copm.archive_problem(db.session, actor(), problem)
    db.session.commit()
    flash(gettext("Problem archived. Its past scores stay in the history."), "info")
    return redirect(_page_url(child_id, "#problems"))


@bp.post("/children/<int:child_id>/copm/assessments")
@staff_required
def record_assessment(child_id: int):
    grant = child_or_404(child_id, access.STAFF_ROLES)
    s = db.session
    problems = copm.active_problems(s, child_id)
    form = assessment_form(problems)
    if form.validate_on_submit():
        try:
            copm.record_assessment(
                s,
                actor(),
                grant.child,
                assessed_on=form.assessed_on.data,
                scores=ratings(form, problems),
                note=form.note.data or "",
                today=_child_today(grant.child),
            )
        except ValidationFailed as failed:
            s.rollback()
            apply_errors(form, failed.errors)
        else:
            s.commit()
            flash(gettext("Assessment recorded."), "success")
            return redirect(_page_url(child_id, "#history"))
    return _page(grant.child, record_form=form, status=400)


@bp.post("/children/<int:child_id>/copm/assessments/<int:assessment_id>/delete")
@staff_required
def delete_assessment(child_id: int, assessment_id: int):
    child_or_404(child_id, access.STAFF_ROLES)
    assessment = _assessment_or_404(child_id, assessment_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    copm.delete_assessment(db.session, actor(), assessment)
    db.session.commit()
    flash(gettext("Assessment deleted."), "info")
    return redirect(_page_url(child_id, "#history"))
