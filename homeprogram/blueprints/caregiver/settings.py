"""Account settings: the language, personal API tokens (created, shown once, revoked)."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from homeprogram.blueprints.auth.forms import ConfirmForm
from homeprogram.blueprints.caregiver.blueprint import bp
from homeprogram.blueprints.caregiver.forms import TokenForm
from homeprogram.blueprints.core.forms import LanguageForm
from homeprogram.extensions import db
from homeprogram.services import access, tokens
from homeprogram.services.errors import NotFound, ValidationFailed
from homeprogram.web import actor, apply_errors, render


def _page(form: TokenForm, new_token: str | None = None, status: int = 200):
    return render(
        "caregiver/settings.html",
        form=form,
        confirm=ConfirmForm(),
        api_tokens=tokens.active_tokens(db.session, current_user.id),
        new_token=new_token,
        language_form=LanguageForm(formdata=None, language=current_user.locale, next=request.path),
        family_children=access.children_for(db.session, current_user.id, "caregiver"),
    ), status


@bp.get("/settings")
@login_required
def settings():
    return _page(TokenForm())


@bp.post("/settings/tokens")
@login_required
def create_token():
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    s = db.session
    try:
        _token, plain = tokens.create_token(
            s, actor(), user_id=current_user.id, name=form.name.data
        )
    except ValidationFailed as failed:
        s.rollback()
        apply_errors(form, failed.errors)
        return _page(form, status=400)
    s.commit()
    # Shown on this response only: the database keeps nothing but its hash.
    return _page(TokenForm(formdata=None), new_token=plain)


@bp.post("/settings/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    s = db.session
    try:
        tokens.revoke_token(s, actor(), user_id=current_user.id, token_id=token_id)
    except NotFound:
        abort(404)
    s.commit()
    flash(gettext("The token was revoked. Apps using it can no longer sign in."), "info")
    return redirect(url_for("caregiver.settings"))
