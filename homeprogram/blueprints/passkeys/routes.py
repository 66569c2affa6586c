"""Passkeys on the account page: list, add (the WebAuthn registration ceremony), rename, remove."""

from collections.abc import Callable

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from homeprogram.blueprints.auth.forms import ConfirmForm
from homeprogram.blueprints.passkeys import ceremony
from homeprogram.blueprints.passkeys.forms import NewPasskeyForm, PasskeyNameForm
from homeprogram.extensions import db, limiter
from homeprogram.models import User
from homeprogram.services import passkeys
from homeprogram.services.errors import NotFound, ValidationFailed
from homeprogram.web import actor

bp = Blueprint("passkeys", __name__)


def _page(status: int = 200, rename: PasskeyNameForm | None = None, renaming: int | None = None):
    s = db.session
    return render_template(
        "account/passkeys.html",
        keys=passkeys.passkeys_of(s, current_user.id),
        policy=passkeys.policy_for(s, current_user.id),
        new_form=NewPasskeyForm(),
        rename=rename or PasskeyNameForm(),
        renaming=renaming,
        confirm=ConfirmForm(),
    ), status


@bp.get("/account/passkeys")
@login_required
def page():
    return _page()


@bp.post("/account/passkeys/options")
@login_required
@limiter.limit("30 per 15 minutes")
def registration_options():
    rp = ceremony.relying_party()
    if problem := ceremony.address_problem(rp):
        return problem
    s = db.session
    user = s.get(User, current_user.id)
    options = passkeys.registration_options(s, rp, user, current_app.config["SECRET_KEY"])
    s.commit()
    return ceremony.options_response(options)


@bp.post("/account/passkeys")
@login_required
@limiter.limit("30 per 15 minutes")
def register():
    s = db.session
    user = s.get(User, current_user.id)
    try:
        key = passkeys.register(
            s,
            actor(),
            ceremony.relying_party(),
            user,
            handle=ceremony.take_handle(),
            credential=ceremony.credential_from_request(),
            name=ceremony.name_from_request(),
            secret_key=current_app.config["SECRET_KEY"],
        )
    except ValidationFailed as failed:
        s.rollback()
        return ceremony.failure(next(iter(failed.errors.values())))
    except passkeys.CeremonyFailed:
        s.commit()  # the challenge stays used
        return ceremony.failure(
            gettext("The passkey could not be added. Please try again."),
        )
    s.commit()
    flash(gettext("Passkey “%(name)s” added.", name=key.name), "success")
    return ceremony.success(url_for("passkeys.page"))


@bp.post("/account/passkeys/<int:passkey_id>/rename")
@login_required
def rename(passkey_id: int):
    form = PasskeyNameForm()
    s = db.session
    if not form.validate_on_submit():
        if passkey_id not in {key.id for key in passkeys.passkeys_of(s, current_user.id)}:
            abort(404)
        return _page(400, rename=form, renaming=passkey_id)
    return _change(
        lambda: passkeys.rename(s, actor(), current_user.id, passkey_id, form.name.data),
        gettext("Passkey renamed."),
        "success",
    )


@bp.post("/account/passkeys/<int:passkey_id>/remove")
@login_required
def remove(passkey_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    s = db.session
    return _change(
        lambda: passkeys.remove(s, actor(), current_user.id, passkey_id),
        gettext("Passkey removed. It no longer signs you in."),
        "info",
    )


def _change(apply: Callable[[], object], done: str, category: str) -> Response:
    """Apply a change to one of the user's passkeys: 404 when it is not theirs, the
    service's refusal as a message (nothing changed), else committed and confirmed."""
    s = db.session
    try:
        apply()
    except NotFound:
        abort(404)
    except ValidationFailed as failed:
        s.rollback()
        flash(next(iter(failed.errors.values())), "error")
        return redirect(url_for("passkeys.page"))
    s.commit()
    flash(done, category)
    return redirect(url_for("passkeys.page"))


from homeprogram.blueprints.passkeys import login  # noqa: E402, F401
