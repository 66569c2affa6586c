"""Adherence and progress: the therapist dashboard, child progress, goals, reports, exports,
and the caregiver's "what got in the way?" prompt."""

from datetime import date, timedelta
from decimal import Decimal

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_babel import get_locale, gettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from homeprogram import languages
from homeprogram.access_control import caregiver_required, staff_required
from homeprogram.blueprints.auth.forms import ConfirmForm
from homeprogram.blueprints.progress import charts
from homeprogram.blueprints.progress.forms import (
    BarrierForm,
    GasForm,
    GoalForm,
    MeasurementForm,
    RangeForm,
    ReportForm,
)
from homeprogram.blueprints.therapist import child_header
from homeprogram.extensions import db
from homeprogram.formatting import format_when
from homeprogram.models import Assignment, Child, Goal
from homeprogram.models.base import utcnow
from homeprogram.services import (
    access,
    adherence,
    assessments,
    barriers,
    children,
    exports,
    gas,
    goals,
    levels,
    reports,
)
from homeprogram.services.errors import NotFound, ValidationFailed
from homeprogram.services.goals import N_
from homeprogram.web import actor, apply_errors, child_or_404, render

bp = Blueprint("progress", __name__)

FAMILY_AND_STAFF = access.STAFF_ROLES | access.FAMILY_ROLES


def _child_today(child: Child) -> date:
    return adherence.local_today(child.timezone, utcnow())


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


# --- dashboard ---------------------------------------------------------------------------


@bp.get("/dashboard")
@staff_required
def dashboard():
    s = db.session
    kids = children.caseload(s, current_user.id, current_user.organization_id)
    now = utcnow()
    # One child's bad data costs that child's row (None: "figures unavailable"), not the page.
    overviews = adherence.caseload_overview_isolated(s, kids, now)
    today = max((o.today for o in overviews.values() if o is not None), default=now.date())
    answers = barriers.latest_barriers(s, [c.id for c in kids], today)
    suggested = levels.suggestions(s, [c.id for c in kids], today)
    no_plan = gettext("no plan")

    def trend_text(o: adherence.Overview) -> str:
        return ", ".join(no_plan if w.percent is None else f"{w.percent}%" for w in o.weeks)

    def sort_key(o: adherence.Overview | None) -> tuple[int, float, float]:
        # Unknown figures first: nothing else on the page tells how that child is doing.
        return (-1, 0.0, 0.0) if o is None else o.sort_key()

    rows = []
    for child in kids:
        o = overviews[child.id]
        spark = trend = None
        if o is not None:
            spark, trend = charts.sparkline([w.rate for w in o.weeks]), trend_text(o)
        rows.append((child, o, spark, trend, answers.get(child.id)))
    rows.sort(key=lambda r: (*sort_key(r[1]), r[0].display_name.lower(), r[0].id))
    return render(
        "progress/dashboard.html",
        rows=rows,
        flagged=sum(1 for r in rows if r[1] is not None and r[1].flags),
        reasons=barriers.REASONS,
        suggested=suggested,
    )


# --- child progress ----------------------------------------------------------------------


@bp.get("/children/<int:child_id>/progress")
@staff_required
def child_progress(child_id: int):
    grant = child_or_404(child_id, access.STAFF_ROLES, audit_read=True)
    data = reports.child_progress(db.session, grant.child, utcnow())
    return render(
        "progress/child.html",
        child=grant.child,
        head=child_header.header(db.session, grant.child, data.today),
        p=data,
        charts=charts,
        measure_charts={
            a.chain.chain_id: charts.line_chart(a.measures) for a in data.activities if a.measures
        },
        goal_charts={g.id: _goal_chart(g) for g, _ in data.goals},
        range_form=RangeForm(formdata=None, start=data.today - timedelta(days=90), end=data.today),
    )


def _goal_chart(goal: Goal) -> charts.LineChart:
    series = [(m.measured_on, m.value) for m in goal.measurements]
    end = (
        goal.target_date
        if goal.target_date and series and goal.target_date > series[-1][0]
        else None
    )
    return charts.line_chart(
        series,
        references=[(N_("baseline"), goal.baseline), (N_("target"), goal.target)],
        end=end,
    )


# --- goals -------------------------------------------------------------------------------


def _goal_form(child_id: int, goal: Goal | None = None) -> GoalForm:
    form = GoalForm(obj=goal)
    program = db.session.scalars(
        select(Assignment)
        .options(joinedload(Assignment.activity))
        .where(Assignment.child_id == child_id)
        .order_by(Assignment.id)
    )
    form.assignment_ids.choices = [
        (a.id, gettext("%(title)s (from %(day)s)", title=a.activity.title, day=when))
        for a in program
        for when in [format_when(a.start_date)]
    ]
    form.baseline_result_id.choices = [(0, gettext("None"))] + [
        (r.id, assessments.describe(r)) for r in assessments.results_of(db.session, child_id)
    ]
    if goal is not None and request.method == "GET":
        form.assignment_ids.data = [a.id for a in goal.assignments]
        for f, text in zip(form.gas_fields(), goal.gas_levels or [""] * 5, strict=True):
            f.data = text
        form.baseline_result_id.data = goal.baseline_result_id or 0
    return form


def _goal_values(form: GoalForm) -> dict:
    return {
        "statement": form.statement.data or "",
        "measure": form.measure.data or "",
        "unit": form.unit.data or "",
        "baseline": _float(form.baseline.data),
        "target": _float(form.target.data),
        "target_date": form.target_date.data,
        "assignment_ids": form.assignment_ids.data or [],
        "shared_with_school": bool(form.shared_with_school.data),
        "scale": goals.Scale(
            levels=tuple(f.data or "" for f in form.gas_fields()),
            baseline=form.gas_baseline.data,
            weight=_float(form.gas_weight.data),
            baseline_result_id=form.baseline_result_id.data or None,
        ),
    }


@bp.route("/children/<int:child_id>/goals/new", methods=["GET", "POST"])
@staff_required
def new_goal(child_id: int):
    grant = child_or_404(child_id, access.STAFF_ROLES)
    form = _goal_form(child_id)
    s = db.session
    if form.validate_on_submit():
        try:
            goal = goals.create_goal(
                s, actor(), child_id=child_id, today=_child_today(grant.child), **_goal_values(form)
            )
        except ValidationFailed as failed:
            s.rollback()
            apply_errors(form, failed.errors)
        else:
            s.commit()
            flash(gettext("Goal added."), "success")
            return redirect(url_for("progress.goal", child_id=child_id, goal_id=goal.id))
    status = 400 if form.errors or form.form_errors else 200
    return render("progress/goal_form.html", form=form, child=grant.child, goal=None), status


@bp.route("/children/<int:child_id>/goals/<int:goal_id>/edit", methods=["GET", "POST"])
@staff_required
def edit_goal(child_id: int, goal_id: int):
    grant = child_or_404(child_id, access.STAFF_ROLES)
    goal = _goal_or_404(child_id, goal_id)
    form = _goal_form(child_id, goal)
    s = db.session
    if form.validate_on_submit():
        try:
            goals.update_goal(
                s, actor(), goal, today=_child_today(grant.child), **_goal_values(form)
            )
        except ValidationFailed as failed:
            s.rollback()
            goal = _goal_or_404(child_id, goal_id)
            apply_errors(form, failed.errors)
        else:
            s.commit()
            flash(gettext("Goal saved."), "success")
            return redirect(url_for("progress.goal", child_id=child_id, goal_id=goal.id))
    status = 400 if form.errors or form.form_errors else 200
    return render("progress/goal_form.html", form=form, child=grant.child, goal=goal), status


def _goal_or_404(child_id: int, goal_id: int) -> Goal:
    try:
        return goals.goal_of(db.session, child_id, goal_id)
    except NotFound:
        abort(404)


@bp.get("/children/<int:child_id>/goals/<int:goal_id>")
@staff_required
def goal(child_id: int, goal_id: int):
    grant = child_or_404(child_id, access.STAFF_ROLES)
    return _goal_page(grant.child, _goal_or_404(child_id, goal_id))


def _goal_page(
    child: Child,
    goal: Goal,
    measurement_form: MeasurementForm | None = None,
    gas_form: GasForm | None = None,
    status: int = 200,
):
    if measurement_form is None:
        measurement_form = MeasurementForm(formdata=None, measured_on=_child_today(child))
    if gas_form is None:
        gas_form = GasForm(formdata=None, levels=goal.gas_levels, rated_on=_child_today(child))
    return render(
        "progress/goal.html",
        child=child,
        goal=goal,
        progress=goals.progress(goal),
        chart=_goal_chart(goal),
        measurement_form=measurement_form,
        gas_form=gas_form,
        gas_words=gas.WORDS,
    ), status


@bp.post("/children/<int:child_id>/goals/<int:goal_id>/measurements")
@staff_required
def add_measurement(child_id: int, goal_id: int):
    grant = child_or_404(child_id, access.STAFF_ROLES)
    goal = _goal_or_404(child_id, goal_id)
    form = MeasurementForm()
    if _save_measurement(grant.child, goal, form):
        flash(gettext("Measurement added."), "success")
        return redirect(url_for("progress.goal", child_id=child_id, goal_id=goal_id))
    return _goal_page(
        grant.child, _goal_or_404(child_id, goal_id), measurement_form=form, status=400
    )


def _save_measurement(child: Child, goal: Goal, form: MeasurementForm) -> bool:
    if not form.validate_on_submit():
        return False
    s = db.session
    try:
        goals.add_measurement(
            s,
            actor(),
            goal,
            value=_float(form.value.data),
            measured_on=form.measured_on.data,
            note=form.note.data or "",
            today=_child_today(child),
        )
    except ValidationFailed as failed:
        s.rollback()
        apply_errors(form, failed.errors)
        return False
    s.commit()
    return True


@bp.post("/children/<int:child_id>/goals/<int:goal_id>/gas")
@staff_required
def rate_gas(child_id: int, goal_id: int):
    grant = child_or_404(child_id, access.STAFF_ROLES)
    goal = _goal_or_404(child_id, goal_id)
    form = GasForm(levels=goal.gas_levels)
    s = db.session
    if form.validate_on_submit():
        try:
            gas.rate(
                s,
                actor(),
                goal,
                level=form.gas_level.data,
                rated_on=form.rated_on.data,
                note=form.note.data or "",
                today=_child_today(grant.child),
            )
        except ValidationFailed as failed:
            s.rollback()
            apply_errors(form, failed.errors)
        else:
            s.commit()
            flash(gettext("Attainment level saved."), "success")
            return redirect(url_for("progress.goal", child_id=child_id, goal_id=goal_id))
    return _goal_page(grant.child, _goal_or_404(child_id, goal_id), gas_form=form, status=400)


@bp.post("/children/<int:child_id>/goals/<int:goal_id>/archive")
@staff_required
def archive_goal(child_id: int, goal_id: int):
    child_or_404(child_id, access.STAFF_ROLES)
    goal = _goal_or_404(child_id, goal_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    goals.archive_goal(db.session, actor(), goal)
    db.session.commit()
    flash(gettext("Goal archived."), "info")
    return redirect(url_for("progress.child_progress", child_id=child_id) + "#goals")


# --- caregivers: goals in plain words ----------------------------------------------------


@bp.get("/children/<int:child_id>/goals")
@caregiver_required
def family_goals(child_id: int):
    grant = child_or_404(child_id, access.FAMILY_ROLES)
    return _family_goals_page(grant.child)


def _family_goals_page(child: Child, forms: dict[int, MeasurementForm] | None = None, status=200):
    items = goals.goals_for(db.session, child.id)
    today = _child_today(child)
    forms = forms or {}
    return render(
        "progress/family_goals.html",
        child=child,
        items=[
            (
                g,
                goals.progress(g),
                _goal_chart(g),
                forms.get(g.id)
                or MeasurementForm(formdata=None, measured_on=today, prefix=f"g{g.id}"),
            )
            for g in items
        ],
    ), status


@bp.post("/children/<int:child_id>/goals/<int:goal_id>/family-measurements")
@caregiver_required
def family_measurement(child_id: int, goal_id: int):
    grant = child_or_404(child_id, access.FAMILY_ROLES)
    goal = _goal_or_404(child_id, goal_id)
    form = MeasurementForm(prefix=f"g{goal_id}")
    if _save_measurement(grant.child, goal, form):
        flash(gettext("Thank you, saved."), "success")
        return redirect(url_for("progress.family_goals", child_id=child_id))
    return _family_goals_page(grant.child, {goal_id: form}, 400)


# --- reports and exports -----------------------------------------------------------------

MAX_REPORT_DAYS = adherence.MAX_RANGE_DAYS


def _range_errors(start: date | None, end: date | None) -> dict[str, str]:
    if start is None or end is None:
        return {}
    if end < start:
        return {"end": gettext("The end date must be on or after the start date.")}
    if (end - start).days + 1 > MAX_REPORT_DAYS:
        return {"end": gettext("Choose at most %(num)d days.", num=MAX_REPORT_DAYS)}
    return {}


@bp.route("/children/<int:child_id>/report", methods=["GET", "POST"])
@staff_required
def report(child_id: int):
    """The form (GET) and the print-ready report (POST; the comment is printed, not stored)."""
    grant = child_or_404(child_id, access.STAFF_ROLES)
    today = _child_today(grant.child)
    if request.method == "GET":
        start, end = reports.default_report_range(today)
        language = languages.supported_or_none(grant.child.family_language) or str(get_locale())
        form = ReportForm(formdata=None, start=start, end=end, language=language)
        return render("progress/report_form.html", form=form, child=grant.child)
    form = ReportForm()
    if form.validate_on_submit():
        errors = _range_errors(form.start.data, form.end.data)
        if not errors:
            s = db.session
            data = reports.progress_report(
                s, actor(), grant.child, form.start.data, form.end.data, form.comment.data or ""
            )
            s.commit()
            languages.use_for_page(form.language.data)
            return render("progress/report.html", r=data, child=grant.child)
        apply_errors(form, errors)
    return render("progress/report_form.html", form=form, child=grant.child), 400


@bp.get("/children/<int:child_id>/export/<any(logs, measurements):kind>.csv")
@staff_required
def export_csv(child_id: int, kind: str):
    grant = child_or_404(child_id, access.STAFF_ROLES)
    form = RangeForm(request.args)
    valid = form.validate()
    errors = _range_errors(form.start.data, form.end.data) if valid else {}
    if not valid or errors:
        apply_errors(form, errors)
        messages = {
            name: " ".join(map(str, f.errors)) for name, f in form._fields.items() if f.errors
        }
        return Response(
            "\n".join(f"{k}: {v}" for k, v in messages.items()) + "\n",
            status=400,
            mimetype="text/plain",
        )
    s = db.session
    build = exports.logs_csv if kind == "logs" else exports.measurements_csv
    body = build(s, actor(), grant.child.id, form.start.data, form.end.data)
    s.commit()
    filename = f"child-{child_id}-{kind}-{form.start.data}-{form.end.data}.csv"
    return Response(
        body.encode("utf-8"),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Type": "text/csv; charset=utf-8",
        },
    )


# --- barriers ----------------------------------------------------------------------------


@bp.post("/children/<int:child_id>/barrier")
@caregiver_required
def answer_barrier(child_id: int):
    grant = child_or_404(child_id, access.FAMILY_ROLES)
    form = BarrierForm()
    skip = request.form.get("skip") is not None
    s = db.session
    if form.validate_on_submit():
        reason = None if skip else (form.reason.data or None)
        if reason is None and not skip:
            form.reason.errors = [
                *form.reason.errors,
                gettext("Choose one of the options, or “Not now”."),
            ]
        else:
            try:
                barriers.record_barrier(
                    s,
                    actor(),
                    child_id=child_id,
                    reason=reason,
                    note=form.note.data or "",
                    today=_child_today(grant.child),
                )
            except ValidationFailed as failed:
                s.rollback()
                apply_errors(form, failed.errors)
            else:
                s.commit()
                if request.headers.get("HX-Request"):
                    return render("progress/partials/barrier_thanks.html", skipped=reason is None)
                flash(gettext("Thank you. Your therapist will see this."), "success")
                return redirect(url_for("caregiver.today"))
    prompt = barriers.barrier_prompt_for(
        s, current_user.id, child_id, _child_today(grant.child)
    ) or barriers.BarrierPrompt(child_id, grant.child.display_name, (), barriers.REASONS)
    return render(
        "progress/barrier.html",
        "progress/partials/barrier_prompt.html",
        barrier_prompt=prompt,
        barrier_form=form,
    ), 400


def _barrier_prompt_for_child(child: Child) -> tuple[barriers.BarrierPrompt | None, BarrierForm]:
    """What ``progress/partials/barrier_prompt.html`` needs for one child of the today page."""
    if not current_user.is_authenticated or "caregiver" not in current_user.roles:
        return None, BarrierForm(formdata=None)
    prompt = barriers.barrier_prompt_for(db.session, current_user.id, child.id, _child_today(child))
    return prompt, BarrierForm(formdata=None)


@bp.app_template_global()
def gas_level(level: int) -> str:
    """A GAS level as printed: "-2", "-1", "0", "+1", "+2"."""
    return f"{level:+d}" if level else "0"


@bp.app_context_processor
def _template_helpers() -> dict:
    return {
        "barrier_prompt_for_child": _barrier_prompt_for_child,
        "score_type_name": assessments.score_type_name,
        "score_value": assessments.format_value,
        "describe_result": assessments.describe,
    }
