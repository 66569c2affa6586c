"""The teacher's classroom view."""

from flask import Blueprint
from flask_login import current_user

from homeprogram.access_control import teacher_required
from homeprogram.extensions import db
from homeprogram.services import access
from homeprogram.web import render

bp = Blueprint("teacher", __name__)


@bp.get("/students")
@teacher_required
def students():
    kids = access.children_for(db.session, current_user.id, "teacher")
    return render("teacher/students.html", children=kids)
