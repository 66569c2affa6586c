"""The "My turn" blueprint object, shared by its route and lock modules."""

from flask import Blueprint

bp = Blueprint("my_turn", __name__)
