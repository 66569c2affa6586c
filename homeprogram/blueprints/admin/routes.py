"""Organization administration: staff list, staff invites, deactivation."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user

from homeprogram.access_control import admin_required
from homeprogram.blueprints.admin.forms import StaffInviteForm
from homeprogram.blueprints.auth.forms import ConfirmForm
from homeprogram.extensions import db
from homeprogram.invite_links import invite_created_page
from homeprogram.models.base import utcnow
from homeprogram.services import accounts, invites, media
from homeprogram.services.errors import NotFound, ValidationFailed
from homeprogram.web import actor

bp = Blueprint("admin", __name__, url_prefix="/org")


def _staff_page(form: StaffInviteForm, status: int = 200):
    s = db.session
    org_id = current_user.organization_id
    members = accounts.staff_list(s, org_id)
    return render_template(
        "admin/staff.html",
        members=members,
        shared=accounts.users_with_roles_elsewhere(s, org_id, [m.user_id for m in members]),
        open_invites=invites.open_invites(s, org_id, None, utcnow()),
        form=form,
        confirm=ConfirmForm(),
        media_usage=media.organization_usage(s, org_id),
        media_quota=media.quota_bytes(current_app.config["MEDIA_QUOTA_MB"]),
    ), status


@bp.get("/staff")
@admin_required
def staff():
    return _staff_page(StaffInviteForm())


@bp.post("/invites")
@admin_required
def create_invite():
    form = StaffInviteForm()
    if not form.validate_on_submit():
        return _staff_page(form, 400)
    s = db.session
    invite, token = invites.create_invite(
        s,
        actor(),
        organization_id=current_user.organization_id,
        role="therapist",
        child_id=None,
        label=form.label.data or "",
        valid_for=current_app.config["INVITE_VALID_FOR"],
    )
    s.commit()
    return invite_created_page(invite, token, back=url_for("admin.staff"))


@bp.post("/invites/<int:invite_id>/revoke")
@admin_required
def revoke_invite(invite_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    s = db.session
    try:
        invites.revoke_invite(s, actor(), current_user.organization_id, invite_id, None)
    except NotFound:
        abort(404)
    s.commit()
    flash(gettext("The invite was revoked."), "info")
    return redirect(url_for("admin.staff"))


@bp.post("/staff/<int:member_id>/deactivate")
@admin_required
def deactivate(member_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    s = db.session
    try:
        member = accounts.deactivate_member(s, actor(), current_user.organization_id, member_id)
    except NotFound:
        abort(404)
    except ValidationFailed as failed:
        s.rollback()
        flash(next(iter(failed.errors.values())), "error")
        return redirect(url_for("admin.staff"))
    s.commit()
    if member.user.active:
        message = gettext(
            "%(name)s is removed from your organization. Their roles elsewhere are unchanged.",
            name=member.user.name,
        )
    else:
        message = gettext(
            "%(name)s is deactivated and signed out everywhere.", name=member.user.name
        )
    flash(message, "info")
    return redirect(url_for("admin.staff"))


@bp.post("/staff/<int:member_id>/reactivate")
@admin_required
def reactivate(member_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    s = db.session
    try:
        member = accounts.reactivate_member(s, actor(), current_user.organization_id, member_id)
    except NotFound:
        abort(404)
    s.commit()
    flash(gettext("%(name)s can sign in again.", name=member.user.name), "info")
    return redirect(url_for("admin.staff"))


from homeprogram.blueprints.admin import (  # noqa: E402, F401
    audit_routes,
    child_data_routes,
    security_routes,
)
