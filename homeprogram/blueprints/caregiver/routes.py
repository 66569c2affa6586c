"""The caregiver's phone pages."""

from flask import Blueprint
from flask_login import current_user

from homeprogram.access_control import caregiver_required
from homeprogram.extensions import db
from homeprogram.services import access
from homeprogram.web import render

bp = Blueprint("caregiver", __name__)


@bp.get("/today")
@caregiver_required
def today():
    kids = access.children_for(db.session, current_user.id, "caregiver")
    return render("caregiver/today.html", children=kids)
