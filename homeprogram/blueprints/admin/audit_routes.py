"""The organization's audit trail, read-only, and admin-issued password links."""

import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from homeprogram.access_control import admin_required
from homeprogram.blueprints.admin.audit_forms import AuditFilterForm
from homeprogram.blueprints.admin.routes import bp
from homeprogram.blueprints.auth.forms import ConfirmForm
from homeprogram.extensions import db
from homeprogram.models import Organization, User
from homeprogram.services import audit_log, password_reset
from homeprogram.services.audit_log import AuditFilter
from homeprogram.services.errors import NotFound, ValidationFailed
from homeprogram.web import actor


def _int_or_none(value: str | None) -> int | None:
    # Choices were validated; blank (also whitespace, which Optional() lets through) is "any".
    value = (value or "").strip()
    return int(value) if value else None


@bp.get("/audit")
@admin_required
def audit():
    s = db.session
    org_id = current_user.organization_id
    form = AuditFilterForm(request.args)
    form.set_choices(audit_log.filter_choices(s, org_id))
    raw_page = request.args.get("page", "1")
    page_number = int(raw_page) if re.fullmatch(r"[0-9]{1,6}", raw_page) else 1
    status = 200
    result = None
    if form.validate():
        filters = AuditFilter(
            child_id=_int_or_none(form.child.data),
            user_id=_int_or_none(form.user.data),
            action=(form.action.data or "").strip() or None,
            date_from=form.date_from.data,
            date_to=form.date_to.data,
        )
        org = s.get(Organization, org_id)
        result = audit_log.events(s, org_id, org.timezone, filters, page_number)
    else:
        status = 400
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "admin/audit.html",
        form=form,
        result=result,
        next_url=url_for("admin.audit", **args, page=page_number + 1),
        prev_url=url_for("admin.audit", **args, page=page_number - 1),
    ), status


@bp.post("/staff/<int:member_id>/reset-link")
@admin_required
def reset_link(member_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    s = db.session
    try:
        reset, token = password_reset.issue_for_member(
            s, actor(), current_user.organization_id, member_id
        )
    except NotFound:
        abort(404)
    except ValidationFailed as failed:
        s.rollback()
        flash(next(iter(failed.errors.values())), "error")
        return redirect(url_for("admin.staff"))
    s.commit()
    link = url_for("account.reset_password", token=token, _external=True)
    user = s.get(User, reset.user_id)
    return render_template("account/reset_created.html", reset=reset, link=link, user=user)
