"""Level suggestions: a therapist applies or dismisses one (child page, dashboard); an admin
sets the organisation's thresholds (staff page). The rules live in ``services/levels.py``."""

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from homeprogram.access_control import admin_required, staff_required
from homeprogram.blueprints.admin import routes as admin_routes
from homeprogram.blueprints.admin.forms import StaffInviteForm
from homeprogram.blueprints.levels.forms import LevelActionForm, LevelSettingsForm
from homeprogram.blueprints.therapist import program_views
from homeprogram.extensions import db
from homeprogram.models import Assignment, Organization
from homeprogram.services import access, levels, programs
from homeprogram.services.errors import NotFound, ValidationFailed
from homeprogram.web import actor, apply_errors, child_or_404

bp = Blueprint("levels", __name__)

LEVEL_NAMES = {"easier": _l("easier"), "standard": _l("standard"), "harder": _l("harder")}
LEVEL_CHIPS = {"easier": _l("easier level"), "harder": _l("harder level")}


@bp.app_template_global()
def level_name(level: str, chip: bool = False) -> str:
    """A level in words: "easier"; with ``chip``, "easier level" (the program list)."""
    name = (LEVEL_CHIPS if chip else LEVEL_NAMES).get(level) or LEVEL_NAMES.get(level)
    return str(name) if name is not None else level


@bp.app_template_global()
def level_settings_form() -> LevelSettingsForm:
    """The staff page's thresholds form: the one just refused, else the saved values."""
    refused = g.get("level_settings_form")
    if refused is not None:
        return refused
    org = db.session.get(Organization, current_user.organization_id)
    return LevelSettingsForm(formdata=None, obj=org)


def _back(form: LevelActionForm, child_id: int) -> str:
    if form.back.data == "dashboard":
        return url_for("progress.dashboard")
    return url_for("therapist.child", child_id=child_id, _anchor="program")


def _act(child_id: int, assignment_id: int, action: str) -> Any:
    grant = child_or_404(child_id, access.STAFF_ROLES)
    try:
        assignment: Assignment = programs.get_assignment(db.session, child_id, assignment_id)
    except NotFound:
        abort(404)
    form = LevelActionForm()
    if not form.validate_on_submit():
        return program_views.child_page(
            grant, action_error=_("The form was incomplete."), status=400
        )
    s = db.session
    today = program_views.today_for(grant.child)
    title = assignment.activity.title
    try:
        if action == "apply":
            current = levels.apply(s, actor(), assignment, form.kind.data or "", today)
            done = _(
                "%(title)s is now at the %(level)s level, from today.",
                title=title,
                level=level_name(current.level),
            )
        else:
            levels.dismiss(s, actor(), assignment, form.kind.data or "", today)
            done = _("The suggestion for %(title)s is dismissed for two weeks.", title=title)
    except ValidationFailed as failed:
        s.rollback()
        return program_views.child_page(
            grant, action_error=" ".join(failed.errors.values()), status=400
        )
    s.commit()
    flash(done, "success")
    return redirect(_back(form, child_id))


@bp.post("/children/<int:child_id>/program/<int:assignment_id>/level/apply")
@staff_required
def apply(child_id: int, assignment_id: int):
    """One step down or up from today, as a new version of the prescription."""
    return _act(child_id, assignment_id, "apply")


@bp.post("/children/<int:child_id>/program/<int:assignment_id>/level/dismiss")
@staff_required
def dismiss(child_id: int, assignment_id: int):
    """Silence the suggestion for two weeks."""
    return _act(child_id, assignment_id, "dismiss")


@bp.post("/org/level-settings")
@admin_required
def settings():
    s = db.session
    org = s.get(Organization, current_user.organization_id)
    if org is None:
        abort(404)
    form = LevelSettingsForm()
    values = {
        "hard_count": form.level_hard_count.data,
        "hard_window": form.level_hard_window.data,
        "easy_streak": form.level_easy_streak.data,
    }
    if form.validate_on_submit():
        try:
            levels.update_settings(s, actor(), org, **values)
        except ValidationFailed as failed:
            s.rollback()
            apply_errors(form, failed.errors)
        else:
            s.commit()
            flash(_("The level-suggestion thresholds are saved."), "success")
            return redirect(url_for("admin.staff", _anchor="levels"))
    else:  # the bounds too, for the fields that were numbers
        errors = levels.validate_settings(*values.values())
        apply_errors(form, {k: v for k, v in errors.items() if not form[k].errors})
    g.level_settings_form = form  # the staff page shows it with its messages
    return admin_routes._staff_page(StaffInviteForm(formdata=None), 400)
