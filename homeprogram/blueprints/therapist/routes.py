"""Therapist workspace: caseload, children, care-team invites, home programs, templates."""

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from homeprogram.access_control import staff_required
from homeprogram.blueprints.auth.forms import ConfirmForm
from homeprogram.blueprints.therapist import program_views
from homeprogram.blueprints.therapist.forms import ChildForm, InviteForm
from homeprogram.extensions import db
from homeprogram.invite_links import invite_created_page
from homeprogram.models import Organization
from homeprogram.models.base import utcnow
from homeprogram.services import access, children, invites, programs
from homeprogram.services.errors import NotFound, ValidationFailed
from homeprogram.web import actor, apply_errors, child_or_404, render

bp = Blueprint("therapist", __name__)


def _today() -> date:
    return utcnow().date()


@bp.get("/caseload")
@staff_required
def caseload():
    query = request.args.get("q", "")[:100]
    kids = children.caseload(db.session, current_user.id, current_user.organization_id, query)
    return render(
        "therapist/caseload.html",
        "therapist/partials/caseload_rows.html",
        children=kids,
        stats=programs.caseload_stats(db.session, kids),
        q=query,
    )


@bp.route("/children/new", methods=["GET", "POST"])
@staff_required
def new_child():
    form = ChildForm()
    s = db.session
    if request.method == "GET":
        org = s.get(Organization, current_user.organization_id)
        form.timezone.data = org.timezone if org else current_app.config["DEFAULT_TIMEZONE"]
    if form.validate_on_submit():
        try:
            child = children.create_child(
                s,
                actor(),
                organization_id=current_user.organization_id,
                therapist_id=current_user.id,
                display_name=form.display_name.data,
                birth_year=form.birth_year.data,
                birth_month=form.birth_month.data,
                timezone=form.timezone.data,
                family_language=form.family_language.data or None,
                today=_today(),
            )
        except ValidationFailed as failed:
            s.rollback()
            apply_errors(form, failed.errors)
        else:
            s.commit()
            flash(
                _("%(name)s is on your caseload. Now add activities.", name=child.display_name),
                "success",
            )
            return redirect(url_for("therapist.child", child_id=child.id, _anchor="add-activity"))
    status = 400 if form.errors else 200
    return render("therapist/child_form.html", form=form, child=None), status


@bp.get("/children/<int:child_id>")
@staff_required
def child(child_id: int):
    grant = child_or_404(child_id, access.STAFF_ROLES, audit_read=True)
    return program_views.child_page(grant)


@bp.route("/children/<int:child_id>/edit", methods=["GET", "POST"])
@staff_required
def edit_child(child_id: int):
    grant = child_or_404(child_id, access.STAFF_ROLES)
    form = ChildForm(obj=grant.child)
    s = db.session
    if form.validate_on_submit():
        try:
            children.update_child(
                s,
                actor(),
                grant.child,
                display_name=form.display_name.data,
                birth_year=form.birth_year.data,
                birth_month=form.birth_month.data,
                timezone=form.timezone.data,
                family_language=form.family_language.data or None,
                today=_today(),
            )
        except ValidationFailed as failed:
            s.rollback()
            apply_errors(form, failed.errors)
        else:
            s.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("therapist.child", child_id=child_id))
    status = 400 if form.errors else 200
    return render("therapist/child_form.html", form=form, child=grant.child), status


@bp.post("/children/<int:child_id>/invites")
@staff_required
def create_invite(child_id: int):
    grant = child_or_404(child_id, access.STAFF_ROLES)
    form = InviteForm()
    if not form.validate_on_submit():
        return program_views.child_page(grant, invite_form=form, status=400)
    s = db.session
    invite, token = invites.create_invite(
        s,
        actor(),
        organization_id=grant.child.organization_id,
        role=form.role.data,
        child_id=grant.child.id,
        label=form.label.data or "",
        valid_for=current_app.config["INVITE_VALID_FOR"],
        # A family's invite opens in the family's language; a teacher's in their browser's.
        language=grant.child.family_language if form.role.data == "caregiver" else None,
    )
    s.commit()
    return invite_created_page(invite, token, back=url_for("therapist.child", child_id=child_id))


@bp.post("/children/<int:child_id>/invites/<int:invite_id>/revoke")
@staff_required
def revoke_invite(child_id: int, invite_id: int):
    grant = child_or_404(child_id, access.STAFF_ROLES)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    s = db.session
    try:
        invites.revoke_invite(s, actor(), grant.child.organization_id, invite_id, grant.child.id)
    except NotFound:
        abort(404)
    s.commit()
    flash(_("The invite was revoked."), "info")
    return redirect(url_for("therapist.child", child_id=child_id))
