"""Log in and out, sign up, accept invites."""

import smtplib

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale, gettext, ngettext
from flask_login import current_user, login_required, login_user, logout_user

from homeprogram import languages
from homeprogram.auth import _load, home_url, safe_next
from homeprogram.blueprints.auth.devices import note_device
from homeprogram.blueprints.auth.forms import (
    AcceptInviteForm,
    ConfirmForm,
    LoginForm,
    SignupConfirmForm,
    SignupForm,
)
from homeprogram.extensions import db, limiter
from homeprogram.models.base import utcnow
from homeprogram.services import accounts, invites, login_delay
from homeprogram.services import signup as signup_service
from homeprogram.services.email import SmtpSettings
from homeprogram.services.errors import ValidationFailed
from homeprogram.web import actor, apply_errors, client_ip

bp = Blueprint("auth", __name__)


def _account_address_key() -> str:
    """Failures are limited per (account, address) pair: an attacker's failures from one
    address never refuse the real user signing in from another."""
    email = accounts.normalize_email(request.form.get("email", ""))[:254]
    return f"login-account:{email}|{client_ip() or ''}"


def _sign_in(user_id: int) -> None:
    """Start a fresh session (new cookie contents, new server-side session row)."""
    s = db.session
    user = s.get(accounts.User, user_id)
    login = accounts.start_session(
        s, user, ip=client_ip(), user_agent=request.headers.get("User-Agent")
    )
    note_device(s, login)
    s.commit()
    session.clear()
    session.permanent = True
    login_user(_load(login.token))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_IP"],
    methods=["POST"],
    deduct_when=lambda response: response.status_code == 401,
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_account_address_key,
    methods=["POST"],
    deduct_when=lambda response: response.status_code == 401,
)
def login():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        s = db.session
        known = accounts.find_user_by_email(s, form.email.data)
        secret = current_app.config["SECRET_KEY"]
        if known is not None:
            wait = login_delay.seconds_to_wait(s, known.id)
        else:  # slowed alike, so the answer does not tell whether the account exists
            key = login_delay.address_key(secret, accounts.normalize_email(form.email.data))
            wait = login_delay.seconds_to_wait(s, key, target_type=login_delay.ADDRESS_TARGET)
        if wait:
            # The account is being slowed: the password is not even checked.
            form.form_errors.append(
                ngettext(
                    "Too many failed sign-ins for this account. Wait %(num)d second and try again.",
                    "Too many failed sign-ins for this account. Wait %(num)d seconds and "
                    "try again.",
                    wait,
                )
            )
            page = render_template("auth/login.html", form=form)
            return page, 429, {"Retry-After": str(wait)}
        user = accounts.authenticate(s, actor(), form.email.data, form.password.data, secret=secret)
        if user is None:
            s.commit()  # keep the audit row of the failure
            form.form_errors.append(gettext("Email or password is not right."))
            return render_template("auth/login.html", form=form), 401
        from homeprogram.blueprints.passkeys.login import after_password  # imports this module

        if (step := after_password(user.id, form)) is not None:
            return step  # the organization's passkey policy: refused, or a passkey step next
        _sign_in(user.id)
        return redirect(safe_next(request.args.get("next")) or home_url(current_user))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    accounts.end_session(db.session, current_user.session_token)
    db.session.commit()
    logout_user()
    session.clear()
    flash(gettext("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def signup():
    """Every valid request gets the same answer and one email; nothing is created yet."""
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    settings = SmtpSettings.from_config(current_app.config)
    if settings is None:
        return render_template("auth/signup_needs_email.html")
    form = SignupForm()
    if request.method == "GET":
        form.timezone.data = current_app.config["DEFAULT_TIMEZONE"]
    if not form.validate_on_submit():
        return render_template("auth/signup.html", form=form)
    pending = signup_service.PendingSignup(
        org_name=form.org_name.data,
        name=form.name.data,
        email=form.email.data,
        timezone=form.timezone.data,
    )
    try:
        signup_service.check(pending)
        signup_service.send_request_email(
            db.session,
            settings,
            pending,
            lambda token: url_for("auth.signup_confirm", token=token, _external=True),
            current_app.config["SECRET_KEY"],
        )
    except ValidationFailed as failed:
        apply_errors(form, failed.errors)
        return render_template("auth/signup.html", form=form)
    except (smtplib.SMTPException, OSError) as error:
        current_app.logger.warning("sign-up email not sent: %s", error)
        form.form_errors.append(
            gettext("We could not send the email just now. Please try again in a few minutes.")
        )
        return render_template("auth/signup.html", form=form), 503
    return render_template("auth/signup_sent.html", address=accounts.normalize_email(pending.email))


@bp.route("/signup/confirm/<token>", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
def signup_confirm(token: str):
    """The emailed link: choose a password, and the organization and account are made."""
    s = db.session
    pending = signup_service.read_token(current_app.config["SECRET_KEY"], token)
    if pending is None or accounts.find_user_by_email(s, pending.email) is not None:
        return render_template("auth/signup_closed.html"), 404
    form = SignupConfirmForm()
    if form.validate_on_submit():
        try:
            user = signup_service.complete(s, actor(), pending, form.password.data)
        except ValidationFailed as failed:
            s.rollback()
            if "password" not in failed.errors:
                return render_template("auth/signup_closed.html"), 404
            apply_errors(form, failed.errors)
        else:
            s.commit()
            if current_user.is_authenticated:
                logout_user()
            _sign_in(user.id)
            flash(gettext("Welcome! Your organization is ready. Add your first child."), "success")
            return redirect(url_for("therapist.caseload"))
    status = 400 if form.errors else 200
    return render_template("auth/signup_confirm.html", form=form, pending=pending), status


@bp.route("/invite/<token>", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
def accept_invite(token: str):
    s = db.session
    invite = invites.find_by_token(s, token)
    state = invite.status(utcnow()) if invite else "unknown"
    if invite is None or state != "open":
        return render_template("auth/invite_closed.html", state=state), 410 if invite else 404
    if not current_user.is_authenticated and not request.cookies.get(languages.COOKIE):
        languages.use_for_page(invite.language)  # the family's language, as recorded
    new_form = AcceptInviteForm(prefix="new")
    confirm = ConfirmForm(prefix="join")
    if request.method == "POST":
        user = None
        try:
            if current_user.is_authenticated and confirm.validate_on_submit():
                user = s.get(accounts.User, current_user.id)
                invites.accept_invite(s, actor(), invite, user=user)
            elif not current_user.is_authenticated and new_form.validate_on_submit():
                timezone = invite.child.timezone if invite.child else invite.organization.timezone
                user = invites.accept_invite(
                    s,
                    actor(),
                    invite,
                    email=new_form.email.data,
                    name=new_form.name.data,
                    password=new_form.password.data,
                    timezone=timezone,
                    locale=str(get_locale() or languages.SOURCE),  # as the page was read
                )
        except ValidationFailed as failed:
            s.rollback()
            apply_errors(new_form, failed.errors)
            user = None
            if "invite" in failed.errors:
                flash(failed.errors["invite"], "error")
        if user is not None:
            user_id = user.id
            s.commit()
            if not current_user.is_authenticated:
                from homeprogram.blueprints.passkeys.login import after_password

                if (step := after_password(user_id, new_form)) is not None:
                    flash(gettext("You have joined the care team."), "success")
                    return step  # new staff of an organization with a passkey policy
                _sign_in(user_id)
            flash(gettext("You have joined the care team."), "success")
            return redirect(home_url(current_user))
    return render_template(
        "auth/invite.html", invite=invite, new_form=new_form, confirm=confirm, token=token
    )


@bp.get("/welcome")
@login_required
def welcome():
    return render_template("auth/welcome.html")
