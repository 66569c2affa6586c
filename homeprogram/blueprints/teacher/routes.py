"""The teacher's classroom view: strategies per student, printable sheets, "used today"."""

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user

from homeprogram import languages
from homeprogram.access_control import teacher_required
from homeprogram.blueprints.teacher.forms import UsedForm
from homeprogram.extensions import db, htmx
from homeprogram.models import Child
from homeprogram.models.base import utcnow
from homeprogram.services import classroom
from homeprogram.services.access import SCHOOL_ROLES
from homeprogram.services.errors import NotFound, ValidationFailed
from homeprogram.web import actor, apply_errors, child_or_404, render

bp = Blueprint("teacher", __name__)


@bp.app_template_global()
def classroom_use_for(child: Child) -> list[classroom.UseSummaryRow]:
    """Classroom use for the therapist's child page (``classroom_use_summary.html``)."""
    today = classroom.today_for(child, utcnow())
    return classroom.use_summary(db.session, child, today)


def _form(assignment_id: int, formdata: object = None) -> UsedForm:
    # One form per strategy on the page: the prefix keeps field ids unique.
    if formdata is None:
        return UsedForm(prefix=f"s{assignment_id}", formdata=None)
    return UsedForm(prefix=f"s{assignment_id}")


def _students_page(failed: UsedForm | None = None, failed_id: int | None = None, status: int = 200):
    def form_for(strategy: classroom.Strategy) -> UsedForm:
        if failed is not None and strategy.assignment.id == failed_id:
            return failed
        return _form(strategy.assignment.id)

    page = render(
        "teacher/students.html",
        students=classroom.students(db.session, current_user.id, utcnow()),
        form_for=form_for,
    )
    return page, status


@bp.get("/students")
@teacher_required
def students():
    return _students_page()


@bp.get("/students/sheet")
@teacher_required
def class_sheet():
    languages.use_for_page(request.args.get("lang"))  # printed in the school's language
    return render(
        "teacher/sheet.html",
        students=classroom.students(db.session, current_user.id, utcnow()),
        whole_class=True,
    )


@bp.get("/students/<int:child_id>/sheet")
@teacher_required
def student_sheet(child_id: int):
    grant = child_or_404(child_id, SCHOOL_ROLES)
    student = classroom.student(db.session, current_user.id, grant.child, utcnow())
    languages.use_for_page(request.args.get("lang"))
    return render("teacher/sheet.html", students=[student], whole_class=False)


def _after_change(child_id: int, assignment_id: int, form: UsedForm, status: int = 200):
    """htmx gets the strategy's fragment; a plain form post goes back to the list."""
    if not htmx:
        if status == 200:
            return redirect(url_for("teacher.students") + f"#strategy-{assignment_id}")
        return _students_page(form, assignment_id, status)
    grant = child_or_404(child_id, SCHOOL_ROLES)
    student = classroom.student(db.session, current_user.id, grant.child, utcnow())
    strategy = next((x for x in student.strategies if x.assignment.id == assignment_id), None)
    if strategy is None:
        abort(404)
    body = render(
        "teacher/students.html",
        "teacher/partials/strategy.html",
        student=student,
        strategy=strategy,
        form_for=lambda _strategy: form,
    )
    return body, status


@bp.post("/students/<int:child_id>/strategies/<int:assignment_id>/used")
@teacher_required
def mark_used(child_id: int, assignment_id: int):
    grant = child_or_404(child_id, SCHOOL_ROLES)
    form = _form(assignment_id, formdata=True)
    s = db.session
    if not form.validate_on_submit():
        return _after_change(child_id, assignment_id, form, 400)
    try:
        classroom.mark_used(
            s,
            actor(),
            child=grant.child,
            teacher_id=current_user.id,
            assignment_id=assignment_id,
            note=form.note.data or "",
            now=utcnow(),
        )
    except NotFound:
        abort(404)
    except ValidationFailed as failed:
        s.rollback()
        apply_errors(form, failed.errors)
        return _after_change(child_id, assignment_id, form, 400)
    s.commit()
    return _after_change(child_id, assignment_id, _form(assignment_id))


@bp.post("/students/<int:child_id>/strategies/<int:assignment_id>/unused")
@teacher_required
def unmark_used(child_id: int, assignment_id: int):
    grant = child_or_404(child_id, SCHOOL_ROLES)
    s = db.session
    try:
        classroom.unmark_used(
            s,
            actor(),
            child=grant.child,
            teacher_id=current_user.id,
            assignment_id=assignment_id,
            now=utcnow(),
        )
    except NotFound:
        abort(404)
    s.commit()
    return _after_change(child_id, assignment_id, _form(assignment_id))
