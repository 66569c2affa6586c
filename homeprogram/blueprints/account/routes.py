"""The signed-in person's account: login sessions; password reset links."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required, logout_user

from homeprogram.blueprints.account.forms import ResetPasswordForm
from homeprogram.blueprints.auth.forms import ConfirmForm
from homeprogram.extensions import db, limiter
from homeprogram.services import password_reset, sessions
from homeprogram.services.errors import NotFound, ValidationFailed
from homeprogram.web import actor, apply_errors

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.get("/sessions")
@login_required
def sessions_page():
    s = db.session
    token = current_user.session_token
    org_rows = []
    if current_user.is_admin:
        org_rows = [
            row
            for row in sessions.org_sessions(s, current_user.organization_id, token)
            if row.user.id != current_user.id
        ]
    return render_template(
        "account/sessions.html",
        own=sessions.own_sessions(s, current_user.id, token),
        org_rows=org_rows,
        confirm=ConfirmForm(),
    )


@bp.post("/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int):
    s = db.session
    try:
        sessions.end_session(
            s,
            actor(),
            session_id=session_id,
            current_token=current_user.session_token,
            admin_of=current_user.organization_id if current_user.is_admin else None,
        )
    except NotFound:
        abort(404)
    s.commit()
    flash(gettext("That device is signed out."), "info")
    return redirect(url_for("account.sessions_page"))


@bp.post("/sessions/end-others")
@login_required
def end_other_sessions():
    s = db.session
    count = sessions.end_other_sessions(
        s, actor(), user_id=current_user.id, current_token=current_user.session_token
    )
    s.commit()
    flash(
        ngettext(
            "Signed out on %(num)d other device.", "Signed out on %(num)d other devices.", count
        ),
        "info",
    )
    return redirect(url_for("account.sessions_page"))


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PASSWORD_RESET_LIMIT"], methods=["POST"])
def reset_password(token: str):
    s = db.session
    if password_reset.find_open(s, token) is None:
        return render_template("account/reset_closed.html"), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            password_reset.complete(s, actor(), token, form.password.data)
        except ValidationFailed as failed:
            s.rollback()
            apply_errors(form, failed.errors)
        else:
            s.commit()
            if current_user.is_authenticated:
                logout_user()
            flash("Your password is set. Log in with it.", "success")
            return redirect(url_for("auth.login"))
    status = 400 if form.errors else 200
    return render_template("account/reset.html", form=form), status
