"""The caregiver blueprint object, shared by its route modules."""

from flask import Blueprint

bp = Blueprint("caregiver", __name__)
