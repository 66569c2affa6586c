"""Log in and out, sign up, accept invites."""

from urllib.parse import urlsplit

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
from flask_login import current_user, login_required, login_user, logout_user

from homeprogram.auth import _load, home_url
from homeprogram.blueprints.auth.forms import (
    AcceptInviteForm,
    ConfirmForm,
    LoginForm,
    SignupForm,
)
from homeprogram.extensions import db, limiter
from homeprogram.models.base import utcnow
from homeprogram.services import accounts, invites
from homeprogram.services.errors import ValidationFailed
from homeprogram.web import actor, apply_errors, client_ip

bp = Blueprint("auth", __name__)


def _account_key() -> str:
    return "login-account:" + accounts.normalize_email(request.form.get("email", ""))[:254]


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _sign_in(user_id: int) -> None:
    """Start a fresh session (new cookie contents, new server-side session row)."""
    s = db.session
    user = s.get(accounts.User, user_id)
    login = accounts.start_session(
        s, user, ip=client_ip(), user_agent=request.headers.get("User-Agent")
    )
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
    key_func=_account_key,
    methods=["POST"],
    deduct_when=lambda response: response.status_code == 401,
)
def login():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        s = db.session
        user = accounts.authenticate(s, actor(), form.email.data, form.password.data)
        if user is None:
            s.commit()  # keep the audit row of the failure
            form.form_errors.append("Email or password is not right.")
            return render_template("auth/login.html", form=form), 401
        _sign_in(user.id)
        return redirect(_safe_next(request.args.get("next")) or home_url(current_user))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    accounts.end_session(db.session, current_user.session_token)
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = SignupForm()
    if request.method == "GET":
        form.timezone.data = current_app.config["DEFAULT_TIMEZONE"]
    if form.validate_on_submit():
        s = db.session
        try:
            user = accounts.sign_up_therapist(
                s,
                actor(),
                org_name=form.org_name.data,
                name=form.name.data,
                email=form.email.data,
                password=form.password.data,
                timezone=form.timezone.data,
            )
        except ValidationFailed as failed:
            s.rollback()
            apply_errors(form, failed.errors)
        else:
            s.commit()
            _sign_in(user.id)
            flash("Welcome! Your organization is ready. Add your first child.", "success")
            return redirect(url_for("therapist.caseload"))
    return render_template("auth/signup.html", form=form)


@bp.route("/invite/<token>", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
def accept_invite(token: str):
    s = db.session
    invite = invites.find_by_token(s, token)
    state = invite.status(utcnow()) if invite else "unknown"
    if invite is None or state != "open":
        return render_template("auth/invite_closed.html", state=state), 410 if invite else 404
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
                _sign_in(user_id)
            flash("You have joined the care team.", "success")
            return redirect(home_url(current_user))
    return render_template(
        "auth/invite.html", invite=invite, new_form=new_form, confirm=confirm, token=token
    )


@bp.get("/welcome")
@login_required
def welcome():
    return render_template("auth/welcome.html")
