"""The signed-in person's account: login sessions, password change; password reset links
(admin-issued, or asked for by email when the app can send email)."""

import smtplib
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as cookie
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required, login_user, logout_user

from homeprogram.auth import _load
from homeprogram.blueprints.account.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    ResetPasswordForm,
)
from homeprogram.blueprints.auth.forms import ConfirmForm
from homeprogram.extensions import db, limiter
from homeprogram.services import accounts, devices, password_change, password_reset, sessions
from homeprogram.services.email import SmtpSettings
from homeprogram.services.errors import NotFound, ValidationFailed
from homeprogram.web import actor, apply_errors

bp = Blueprint("account", __name__, url_prefix="/account")

# "Forgot your password?": per address and per IP (each request sends an email).
FORGOT_LIMIT_PER_ADDRESS = "5 per hour"
FORGOT_LIMIT_PER_IP = "20 per hour"


def _email_settings() -> SmtpSettings | None:
    return SmtpSettings.from_config(current_app.config)


@bp.app_context_processor
def _account_globals() -> dict[str, Any]:
    return {"password_email_enabled": lambda: _email_settings() is not None}


@bp.app_template_filter("device_summary")
def _device_summary(user_agent: str | None) -> str | None:
    return devices.summary(user_agent)


def _forgot_address_key() -> str:
    email = accounts.normalize_email(request.form.get("email", ""))[:254]
    return f"password-forgot:{email}"


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


@bp.route("/password", methods=["GET", "POST"])
@login_required
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=lambda: f"password-change:{current_user.id}",
    methods=["POST"],
    deduct_when=lambda response: g.get("wrong_current_password", False),
)
def change_password():
    """Change the password: the current one is asked for; other sessions end."""
    s = db.session
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            new_token = password_change.change_password(
                s,
                actor(),
                user_id=current_user.id,
                current_token=current_user.session_token,
                current_password=form.current_password.data,
                new_password=form.password.data,
            )
        except password_change.TooSoon as slowed:
            s.rollback()
            form.form_errors.append(
                ngettext(
                    "Too many failed attempts for this account. Wait %(num)d second and try again.",
                    "Too many failed attempts for this account. Wait %(num)d seconds and try "
                    "again.",
                    slowed.seconds,
                )
            )
            page = render_template("account/password.html", form=form)
            return page, 429, {"Retry-After": str(slowed.seconds)}
        except ValidationFailed as failed:
            if "current_password" in failed.errors:
                g.wrong_current_password = True
                s.commit()  # keep the audit row of the failed check
            else:
                s.rollback()
            apply_errors(form, failed.errors)
        else:
            s.commit()
            cookie.clear()  # a fresh cookie for the session's new token
            cookie.permanent = True
            login_user(_load(new_token))
            flash(
                gettext("Your password is changed. You are signed out on your other devices."),
                "success",
            )
            return redirect(url_for("account.sessions_page"))
    if form.errors or form.form_errors:
        status = 400
    return render_template("account/password.html", form=form), status


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(FORGOT_LIMIT_PER_IP, methods=["POST"])
@limiter.limit(FORGOT_LIMIT_PER_ADDRESS, key_func=_forgot_address_key, methods=["POST"])
def forgot_password():
    """Ask for a password link by email: the same answer whoever asks (see
    ``password_reset.request_by_email``)."""
    settings = _email_settings()
    if settings is None:
        return render_template("account/forgot_needs_email.html")
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        status = 400 if form.errors else 200
        return render_template("account/forgot.html", form=form), status
    s = db.session
    try:
        password_reset.request_by_email(
            s,
            actor(),
            settings,
            form.email.data,
            lambda token: url_for("account.reset_password", token=token, _external=True),
        )
    except (smtplib.SMTPException, OSError) as error:
        s.rollback()
        current_app.logger.warning("password email not sent: %s", error)
        form.form_errors.append(
            gettext("We could not send the email just now. Please try again in a few minutes.")
        )
        return render_template("account/forgot.html", form=form), 503
    s.commit()
    address = accounts.normalize_email(form.email.data)
    return render_template("account/forgot_sent.html", address=address)


def _closed(state: str, kind: str | None) -> tuple[str, int]:
    page = render_template("account/reset_closed.html", state=state, kind=kind)
    return page, 404


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PASSWORD_RESET_LIMIT"], methods=["POST"])
def reset_password(token: str):
    s = db.session
    reset, state = password_reset.find(s, token)
    if state != "open":
        return _closed(state, reset.kind if reset else None)
    kind = reset.kind if reset else None
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            password_reset.complete(s, actor(), token, form.password.data)
        except NotFound:
            # A second submission of the form (or a newer link meanwhile): already used.
            s.rollback()
            return _closed("used", kind)
        except ValidationFailed as failed:
            s.rollback()
            apply_errors(form, failed.errors)
        else:
            s.commit()
            if current_user.is_authenticated:
                logout_user()
            flash(gettext("Your password is set. Log in with it."), "success")
            return redirect(url_for("auth.login"))
    status = 400 if form.errors else 200
    return render_template("account/reset.html", form=form), status
