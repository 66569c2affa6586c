"""Signing in with a passkey: alone (discoverable credential, from the login page), or as
the step after a password that the organization's policy asks of its staff."""

from typing import Any

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user

from homeprogram.auth import home_url, safe_next
from homeprogram.blueprints.auth.routes import _sign_in
from homeprogram.blueprints.passkeys import ceremony
from homeprogram.blueprints.passkeys.forms import NewPasskeyForm
from homeprogram.blueprints.passkeys.routes import bp
from homeprogram.extensions import db, limiter
from homeprogram.models import User
from homeprogram.models.base import utcnow
from homeprogram.services import accounts, audit, passkeys
from homeprogram.services.audit import Actor
from homeprogram.services.errors import ValidationFailed
from homeprogram.web import actor, client_ip

_PENDING = "passkey_pending"
PENDING_SECONDS = 300


def _failed_sign_in() -> Any:
    return ceremony.failure(
        gettext("That passkey did not sign you in. Try again, or log in with your password."),
        401,
    )


def _login_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_IP"]


@bp.post("/login/passkey/options")
@limiter.limit("60 per 15 minutes")
def sign_in_options():
    rp = ceremony.relying_party()
    if problem := ceremony.address_problem(rp):
        return problem
    s = db.session
    options = passkeys.sign_in_options(s, rp)
    s.commit()
    return ceremony.options_response(options)


@bp.post("/login/passkey")
@limiter.limit(_login_limit, deduct_when=lambda response: response.status_code == 401)
def sign_in():
    s = db.session
    try:
        user = passkeys.authenticate(
            s,
            actor(),
            ceremony.relying_party(),
            handle=ceremony.take_handle(),
            credential=ceremony.credential_from_request(),
        )
    except passkeys.CeremonyFailed:
        s.commit()  # the audit row of the failure; the challenge stays used
        return _failed_sign_in()
    _sign_in(user.id)
    return ceremony.success(safe_next(request.args.get("next")) or home_url(current_user))


# --- the step after a password -------------------------------------------------------------


def after_password(user_id: int, form: Any) -> Any | None:
    """Called by the login view once the password is right: None to sign in now, else the
    response (refused: passkey only; or on to the passkey step the policy asks for)."""
    s = db.session
    step = passkeys.step_after_password(s, user_id)
    if step is None:
        return None
    if step == "refused":
        member = accounts.membership(s, user_id)
        audit.record(
            s,
            Actor(user_id, client_ip(), member.organization_id if member else None),
            "login.refused",
            target_type="user",
            target_id=user_id,
            reason="passkey_required",
        )
        s.commit()
        form.form_errors.append(
            gettext(
                "Your organization signs staff in with a passkey only. "
                "Use “Sign in with a passkey” below."
            )
        )
        return render_template("auth/login.html", form=form), 403
    s.commit()  # a rehashed password is kept
    session.pop(_PENDING, None)
    session[_PENDING] = {
        "user": user_id,
        "step": step,
        "until": int(utcnow().timestamp()) + PENDING_SECONDS,
        "next": safe_next(request.args.get("next")),
    }
    return redirect(url_for("passkeys.next_step"))


def _pending() -> dict[str, Any] | None:
    pending = session.get(_PENDING)
    if (
        not isinstance(pending, dict)
        or not isinstance(pending.get("user"), int)
        or pending.get("step") not in (passkeys.SECOND_FACTOR, passkeys.ENROL)
        or not isinstance(pending.get("until"), int)
        or pending["until"] <= utcnow().timestamp()
    ):
        return None
    return pending


def _pending_actor(user_id: int) -> Actor:
    member = accounts.membership(db.session, user_id)
    return Actor(user_id, client_ip(), member.organization_id if member else None)


@bp.get("/login/passkey/next")
def next_step():
    pending = _pending()
    if pending is None:
        session.pop(_PENDING, None)
        flash(gettext("Please log in again."), "info")
        return redirect(url_for("auth.login"))
    return render_template(
        "account/passkeys_next.html", step=pending["step"], new_form=NewPasskeyForm()
    )


@bp.post("/login/passkey/next/options")
@limiter.limit("30 per 15 minutes")
def next_step_options():
    pending = _pending()
    if pending is None:
        return ceremony.failure(gettext("Please log in again."))
    rp = ceremony.relying_party()
    if problem := ceremony.address_problem(rp):
        return problem
    s = db.session
    if pending["step"] == passkeys.ENROL:
        user = s.get(User, pending["user"])
        if user is None:
            return ceremony.failure(gettext("Please log in again."))
        options = passkeys.registration_options(
            s, rp, user, current_app.config["SECRET_KEY"], purpose=passkeys.ENROL
        )
    else:
        options = passkeys.sign_in_options(s, rp, user_id=pending["user"])
    s.commit()
    return ceremony.options_response(options)


@bp.post("/login/passkey/next")
@limiter.limit(_login_limit, deduct_when=lambda response: response.status_code == 401)
def next_step_verify():
    pending = _pending()
    if pending is None:
        return ceremony.failure(gettext("Please log in again."))
    s = db.session
    user_id = pending["user"]
    rp = ceremony.relying_party()
    try:
        if pending["step"] == passkeys.ENROL:
            user = s.get(User, user_id)
            if user is None or not user.active:
                return ceremony.failure(gettext("Please log in again."))
            passkeys.register(
                s,
                _pending_actor(user_id),
                rp,
                user,
                handle=ceremony.take_handle(),
                credential=ceremony.credential_from_request(),
                name=ceremony.name_from_request(),
                secret_key=current_app.config["SECRET_KEY"],
                purpose=passkeys.ENROL,
            )
        else:
            passkeys.authenticate(
                s,
                actor(),
                rp,
                handle=ceremony.take_handle(),
                credential=ceremony.credential_from_request(),
                user_id=user_id,
            )
    except ValidationFailed as failed:
        s.rollback()
        return ceremony.failure(next(iter(failed.errors.values())))
    except passkeys.CeremonyFailed:
        s.commit()
        return _failed_sign_in()
    next_url = pending.get("next")
    _sign_in(user_id)  # clears the pending state with the rest of the old session
    return ceremony.success(safe_next(next_url) or home_url(current_user))
