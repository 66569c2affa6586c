"""Site root, health check."""

from flask import Blueprint, jsonify, redirect, url_for
from flask_login import current_user

from homeprogram.auth import home_url
from homeprogram.extensions import db

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
