"""Site root, health check, the language switch."""

from flask import Blueprint, flash, jsonify, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user

from homeprogram import languages
from homeprogram.auth import home_url, safe_next
from homeprogram.blueprints.core.forms import LanguageForm
from homeprogram.extensions import db
from homeprogram.services import preferences
from homeprogram.web import actor

bp = Blueprint("core", __name__)


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    return redirect(url_for("auth.login"))


@bp.get("/healthz")
def healthz():
    try:
        db.ping()
    except Exception:  # the point is to report any database failure
        return jsonify(status="error", database="unavailable"), 503
    return jsonify(status="ok", database="ok")


@bp.post("/language")
def choose_language():
    """The login page's switch (a cookie) and the settings page's choice (the account)."""
    form = LanguageForm()
    back = safe_next(form.next.data) or url_for("core.index")
    if not form.validate_on_submit():
        flash(gettext("Choose one of the languages."), "error")
        return redirect(back)
    code = form.language.data
    response = redirect(back)
    if current_user.is_authenticated:
        preferences.set_language(db.session, actor(), current_user.id, code)
        db.session.commit()
    else:
        response.set_cookie(
            languages.COOKIE,
            code,
            max_age=languages.COOKIE_MAX_AGE,
            secure=request.is_secure,
            httponly=True,
            samesite="Lax",
        )
    return response
