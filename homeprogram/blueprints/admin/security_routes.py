"""The organization's sign-in policy for its staff: passwords, a passkey after the password,
or passkeys only."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user

from homeprogram.access_control import admin_required
from homeprogram.blueprints.admin.routes import bp
from homeprogram.blueprints.passkeys.forms import PasskeyPolicyForm
from homeprogram.extensions import db
from homeprogram.models import Organization
from homeprogram.services import passkeys
from homeprogram.services.errors import ValidationFailed
from homeprogram.web import actor, apply_errors


@bp.route("/security", methods=["GET", "POST"])
@admin_required
def security():
    s = db.session
    org = s.get(Organization, current_user.organization_id)
    form = PasskeyPolicyForm()
    if form.validate_on_submit():
        try:
            passkeys.set_policy(s, actor(), org.id, form.policy.data)
        except ValidationFailed as failed:
            s.rollback()
            apply_errors(form, failed.errors)
        else:
            s.commit()
            flash(gettext("The sign-in policy for your staff is saved."), "success")
            return redirect(url_for("admin.security"))
    elif not form.is_submitted():
        form.policy.data = org.passkey_policy
    status = 400 if form.errors else 200
    return render_template(
        "admin/security.html",
        form=form,
        own_passkeys=passkeys.count_for(s, current_user.id),
    ), status
